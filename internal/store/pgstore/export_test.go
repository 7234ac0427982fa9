package pgstore

import "context"

// URL is the URL the store was opened with, for a second handle.
func (s *Store) URL() string { return s.cfg.ConnString() }

// OpenAt opens a store migrated only up to version v (an older fwpush's).
func OpenAt(url string, v int) (*Store, error) { return open(url, false, v) }

// ExecForTest runs SQL on the store's pool, bypassing its own checks.
func (s *Store) ExecForTest(sql string) (int64, error) {
	tag, err := s.pool.Exec(context.Background(), sql)
	return tag.RowsAffected(), err
}
