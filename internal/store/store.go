package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket names. Entries are kept per run (entries/<run>/<host>) with an
// index per host (hosts/<host>/<run>) so both "show a run" and "a host's
// history" are one cursor walk.
var (
	bucketRuns    = []byte("runs")
	bucketEntries = []byte("entries")
	bucketHosts   = []byte("hosts")
	bucketLocks   = []byte("locks")
)

// ErrBusy means another process held the store file longer than the open
// timeout. fwpush keeps its own transactions short, so this is a stuck or
// foreign process, not ordinary contention.
var ErrBusy = errors.New("run store busy")

// DefaultTimeout is how long to wait for another process's transaction.
const DefaultTimeout = 5 * time.Second

// Store is a run store file. It holds no open handle between calls.
type Store struct {
	path    string
	timeout time.Duration
	// readOnly stores open the file with bbolt's ReadOnly option (a
	// shared lock, no write ever attempted) and refuse every update.
	readOnly bool

	// skipped are the records reads could not decode, reported once each
	// (see Skipped).
	smu     sync.Mutex
	skipped []BadRecord

	// Concurrent calls of this process are group-committed: one drainer
	// opens the file, runs every queued call in one transaction and
	// closes it. A push journals each device several times, and one
	// fsync'd open/close per write would serialize a whole fleet.
	qmu      sync.Mutex
	queue    []*call
	draining bool
}

// call is one queued transaction function and where its result goes.
type call struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// Option configures a Store.
type Option func(*Store) error

// WithTimeout sets how long to wait for another process's transaction.
func WithTimeout(d time.Duration) Option {
	return func(s *Store) error {
		if d <= 0 {
			return fmt.Errorf("store timeout %s: want > 0", d)
		}
		s.timeout = d
		return nil
	}
}

// DefaultPath is $XDG_STATE_HOME/fwpush/runs.db, else
// ~/.local/state/fwpush/runs.db.
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "fwpush", "runs.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("run store: no home directory, pass --state FILE: %w", err)
	}
	return filepath.Join(home, ".local", "state", "fwpush", "runs.db"), nil
}

// Open prepares the store at path (creating its directory and file) and
// checks that it can be opened; it keeps nothing open.
func Open(path string, opts ...Option) (*Store, error) {
	s := &Store{path: path, timeout: DefaultTimeout}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("run store: %w", err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRuns, bucketEntries, bucketHosts, bucketLocks} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenReadOnly prepares the store at path for reading only: nothing is
// created and the file is never opened for writing, so a store on a
// read-only file system or a file the user may only read can still be
// listed. A store that does not exist reads as empty.
func OpenReadOnly(path string, opts ...Option) (*Store, error) {
	s := &Store{path: path, timeout: DefaultTimeout, readOnly: true}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Close does nothing: a Store holds no open handle between calls.
func (s *Store) Close() error { return nil }

// BadRecord is a record a read skipped because it cannot be decoded: one
// damaged record must not hide the whole history.
type BadRecord struct {
	Path   string // the store file
	Bucket string // runs, entries/<run>, locks
	Key    string
	Err    error
}

func (b BadRecord) String() string {
	return fmt.Sprintf("run store %s: record %s/%s is unreadable, skipped: %v", b.Path, b.Bucket, b.Key, b.Err)
}

// Skipped lists the records reads skipped so far, each once.
func (s *Store) Skipped() []BadRecord {
	s.smu.Lock()
	defer s.smu.Unlock()
	return append([]BadRecord(nil), s.skipped...)
}

// skip notes a record a read leaves out.
func (s *Store) skip(bucket, key string, err error) {
	s.smu.Lock()
	defer s.smu.Unlock()
	for _, b := range s.skipped {
		if b.Bucket == bucket && b.Key == key {
			return
		}
	}
	s.skipped = append(s.skipped, BadRecord{Path: s.path, Bucket: bucket, Key: key, Err: err})
}

// update runs fn in a write transaction, possibly with other calls of
// this process; it returns once that transaction is committed. fn may run
// more than once (when another call in its batch fails, the batch is
// retried without it), so it must reset whatever it reports.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("run store %s: opened read-only: %w", s.path, berrors.ErrDatabaseReadOnly)
	}
	c := &call{fn: fn, done: make(chan error, 1)}
	s.qmu.Lock()
	s.queue = append(s.queue, c)
	if !s.draining {
		s.draining = true
		go s.drain()
	}
	s.qmu.Unlock()
	return <-c.done
}

// view runs fn in a read transaction. A writable store batches it with
// this process's writes (one open for the lot); a read-only one opens the
// file with bbolt's ReadOnly option, and reads a missing file as empty
// (fn is not called). fn may run more than once, like update's.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	if !s.readOnly {
		return s.update(fn)
	}
	if _, err := os.Stat(s.path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{ReadOnly: true, Timeout: s.timeout})
	if err != nil {
		return s.openErr(err)
	}
	err = db.View(fn)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("run store %s: close: %w", s.path, cerr)
	}
	return err
}

// openErr names the file, and says what a timeout means.
func (s *Store) openErr(err error) error {
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("run store %s: another process has held it for more than %s (another fwpush stuck, or a tool holding the file open): %w",
			s.path, s.timeout, ErrBusy)
	}
	return fmt.Errorf("run store %s: %w", s.path, err)
}

// drain commits queued calls batch by batch until none is left.
func (s *Store) drain() {
	for {
		s.qmu.Lock()
		batch := s.queue
		s.queue = nil
		if len(batch) == 0 {
			s.draining = false
			s.qmu.Unlock()
			return
		}
		s.qmu.Unlock()
		s.commit(batch)
	}
}

// commit opens the file, runs the batch in one transaction and closes it.
// A call that fails gets its error and the others are retried without it,
// as if it had run alone after them.
func (s *Store) commit(batch []*call) {
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: s.timeout})
	if err != nil {
		err = s.openErr(err)
		for _, c := range batch {
			c.done <- err
		}
		return
	}
	for len(batch) > 0 {
		failed := -1
		err = db.Update(func(tx *bolt.Tx) error {
			for i, c := range batch {
				if err := c.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			if err != nil {
				// The commit itself failed (a full disk, an I/O error):
				// bbolt rolled it back, so nothing of the batch is stored.
				err = fmt.Errorf("run store %s: %w", s.path, err)
			}
			break
		}
		batch[failed].done <- err
		batch = append(batch[:failed], batch[failed+1:]...)
	}
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("run store %s: close: %w", s.path, cerr)
	}
	for _, c := range batch {
		c.done <- err
	}
}

func put(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

func get(b *bolt.Bucket, key string, v any) (bool, error) {
	if b == nil {
		return false, nil
	}
	data := b.Get([]byte(key))
	if data == nil {
		return false, nil
	}
	return true, json.Unmarshal(data, v)
}

// bucket is a top-level bucket, nil when a store that was never written
// to lacks it (only a read-only store can see that).
func bucket(tx *bolt.Tx, name []byte) *bolt.Bucket { return tx.Bucket(name) }

// sub is a nested bucket of b, nil when either is missing.
func sub(b *bolt.Bucket, name []byte) *bolt.Bucket {
	if b == nil {
		return nil
	}
	return b.Bucket(name)
}
