package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fwpush/fwpush/internal/store"
)

// PutEntry writes a device's entry in its run (which must exist).
func (s *Store) PutEntry(e store.Entry) error {
	if e.Updated.IsZero() {
		e.Updated = time.Now().UTC()
	}
	doc, err := encode(e)
	if err != nil {
		return err
	}
	return s.tx(func(ctx context.Context, tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM fwpush_runs WHERE id = $1)", e.Run).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("entry %s: no run %s", e.Host, e.Run)
		}
		_, err := tx.Exec(ctx, `
INSERT INTO fwpush_entries (run, host, state, unfinished, doc) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (run, host) DO UPDATE SET state = EXCLUDED.state, unfinished = EXCLUDED.unfinished, doc = EXCLUDED.doc`,
			e.Run, e.Host, e.State(), e.Unfinished(), doc)
		return err
	})
}

// HostEntries returns every entry of a host, oldest run first; an entry
// that cannot be decoded is skipped.
func (s *Store) HostEntries(host string) ([]store.Entry, error) {
	var out []store.Entry
	err := s.read(func(ctx context.Context) error {
		var err error
		out, err = s.entries(ctx, s.pool, false, host)
		return err
	})
	return out, err
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// entries are a host's entries in run order, or (byRun) a run's in host
// order; an entry that cannot be decoded is skipped, named.
func (s *Store) entries(ctx context.Context, q querier, byRun bool, key string) ([]store.Entry, error) {
	sql := "SELECT run, host, doc FROM fwpush_entries WHERE host = $1 ORDER BY run"
	if byRun {
		sql = "SELECT run, host, doc FROM fwpush_entries WHERE run = $1 ORDER BY host"
	}
	rows, err := q.Query(ctx, sql, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Entry
	for rows.Next() {
		var run, host string
		var doc []byte
		if err := rows.Scan(&run, &host, &doc); err != nil {
			return nil, err
		}
		var e store.Entry
		if err := decode(doc, &e); err != nil {
			s.skip("entries/"+run, host, err)
			continue
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// UnfinishedHosts lists, sorted, the hosts that have an unfinished entry.
func (s *Store) UnfinishedHosts() ([]string, error) {
	var out []string
	err := s.read(func(ctx context.Context) error {
		out = nil
		rows, err := s.pool.Query(ctx, "SELECT DISTINCT host FROM fwpush_entries WHERE unfinished ORDER BY host")
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}

// Reconcile stores what a later run found for an unfinished entry.
func (s *Store) Reconcile(r store.Reconciliation) error {
	return s.tx(func(ctx context.Context, tx pgx.Tx) error {
		var doc []byte
		err := tx.QueryRow(ctx, "SELECT doc FROM fwpush_entries WHERE run = $1 AND host = $2 FOR UPDATE", r.Run, r.Host).Scan(&doc)
		var e store.Entry
		if err == nil {
			err = decode(doc, &e)
		}
		if err != nil {
			return fmt.Errorf("no entry %s/%s to reconcile", r.Run, r.Host)
		}
		e.Reconciled = &r
		if doc, err = encode(e); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE fwpush_entries SET state = $3, unfinished = $4, doc = $5 WHERE run = $1 AND host = $2",
			r.Run, r.Host, e.State(), e.Unfinished(), doc)
		return err
	})
}
