package store

import (
	"encoding/json"
	"errors"
	"fmt"
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

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// update runs fn in a write transaction, possibly with other calls of
// this process; it returns once that transaction is committed. fn may run
// more than once (when another call in its batch fails, the batch is
// retried without it), so it must reset whatever it reports.
func (s *Store) update(fn func(*bolt.Tx) error) error {
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

// view is update for a function that only reads.
func (s *Store) view(fn func(*bolt.Tx) error) error { return s.update(fn) }

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
	if errors.Is(err, berrors.ErrTimeout) {
		err = fmt.Errorf("run store %s: another process has held it for more than %s (another fwpush stuck, or a tool holding the file open): %w",
			s.path, s.timeout, ErrBusy)
	} else if err != nil {
		err = fmt.Errorf("run store %s: %w", s.path, err)
	}
	if err != nil {
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
	data := b.Get([]byte(key))
	if data == nil {
		return false, nil
	}
	return true, json.Unmarshal(data, v)
}
