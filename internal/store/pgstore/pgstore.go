// Package pgstore keeps fwpush's run store in PostgreSQL, so that a team
// shares it: every controller pointed at the same database sees the
// others' runs, journals and device locks, and can reconcile or roll back
// what a colleague pushed. It implements store.Backend with the records
// of the bbolt store; the schema is versioned and migrated on open.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fwpush/fwpush/internal/store"
)

// DefaultTimeout bounds each call's database work.
const DefaultTimeout = 30 * time.Second

// IsURL says whether a --state value names a PostgreSQL store.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Store is a run store in a PostgreSQL database.
type Store struct {
	pool     *pgxpool.Pool
	cfg      *pgxpool.Config
	name     string // the URL without password, for messages
	readOnly bool
	timeout  time.Duration

	smu     sync.Mutex
	skipped []store.BadRecord

	// Device locks are session-level advisory locks held by lockConn,
	// one connection of this Store (see lock.go).
	lmu      sync.Mutex
	lockConn *pgx.Conn
	held     map[string]string // host → run holding it through lockConn
}

var _ store.Backend = (*Store)(nil)

// Open connects to the database at rawURL and migrates its schema to this
// fwpush's version (creating it in an empty database).
func Open(rawURL string) (*Store, error) {
	return open(rawURL, false, SchemaVersion())
}

// OpenReadOnly connects for reading only: the server refuses every write
// of its sessions (default_transaction_read_only), nothing is migrated,
// and a database without fwpush's tables reads as empty.
func OpenReadOnly(rawURL string) (*Store, error) {
	return open(rawURL, true, 0)
}

func open(rawURL string, readOnly bool, schema int) (*Store, error) {
	name := Redact(rawURL)
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, fmt.Errorf("run store %s: not a valid PostgreSQL URL", name)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "fwpush"
	if readOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	cfg.MaxConns = 8
	s := &Store{cfg: cfg, name: name, readOnly: readOnly, timeout: DefaultTimeout, held: map[string]string{}}
	ctx, cancel := s.ctx()
	defer cancel()
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, s.wrap(err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		s.pool.Close()
		return nil, s.wrap(err)
	}
	if readOnly {
		v, err := currentVersion(ctx, s.pool)
		if err == nil && v > SchemaVersion() {
			err = fmt.Errorf("the run store's schema is at version %d, newer than this fwpush knows (%d): upgrade fwpush", v, SchemaVersion())
		}
		if err != nil {
			s.pool.Close()
			return nil, s.wrap(err)
		}
		return s, nil
	}
	if err := migrate(ctx, s.pool, schema); err != nil {
		s.pool.Close()
		return nil, s.wrap(err)
	}
	return s, nil
}

// Redact is a store URL without its password (in the user part or the
// query), for messages and records.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "postgres://[unparsable URL]"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "redacted")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Path is the store's URL without password.
func (s *Store) Path() string { return s.name }

// Close releases the locks this Store holds and its connections.
func (s *Store) Close() error {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	var err error
	if s.lockConn != nil {
		ctx, cancel := s.ctx()
		err = s.lockConn.Close(ctx)
		cancel()
		s.lockConn = nil
		clear(s.held)
	}
	s.pool.Close()
	return err
}

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// wrap names the store once.
func (s *Store) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("run store %s: %w", s.name, err)
}

func (s *Store) writable() error {
	if s.readOnly {
		return fmt.Errorf("run store %s: opened read-only", s.name)
	}
	return nil
}

// Skipped lists the records reads could not decode, each once.
func (s *Store) Skipped() []store.BadRecord {
	s.smu.Lock()
	defer s.smu.Unlock()
	return append([]store.BadRecord(nil), s.skipped...)
}

func (s *Store) skip(table, key string, err error) {
	s.smu.Lock()
	defer s.smu.Unlock()
	for _, b := range s.skipped {
		if b.Bucket == table && b.Key == key {
			return
		}
	}
	s.skipped = append(s.skipped, store.BadRecord{Path: s.name, Bucket: table, Key: key, Err: err})
}

// tx runs fn in a transaction, retried when the server reports a
// serialization failure or deadlock between concurrent controllers.
func (s *Store) tx(fn func(ctx context.Context, tx pgx.Tx) error) error {
	if err := s.writable(); err != nil {
		return err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	return s.wrap(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) }))
}

// read runs fn with a context bounded by the store's timeout; a store
// nobody has written yet (no tables) reads as empty, fn's results left
// as it reset them.
func (s *Store) read(fn func(ctx context.Context) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	err := fn(ctx)
	if undefinedTable(err) {
		return nil
	}
	return s.wrap(err)
}

func encode(v any) ([]byte, error) { return json.Marshal(v) }

func decode(data []byte, v any) error {
	if data == nil {
		return errors.New("missing")
	}
	return json.Unmarshal(data, v)
}
