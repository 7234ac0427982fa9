package pgstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fwpush/fwpush/internal/store"
)

// CreateRun records a new run; its id must be new.
func (s *Store) CreateRun(r store.Run) error {
	if r.ID == "" {
		return fmt.Errorf("run store: run without id")
	}
	doc, err := encode(r)
	if err != nil {
		return err
	}
	return s.tx(func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO fwpush_runs (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", r.ID, doc)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("run %s exists", r.ID)
		}
		return err
	})
}

// FinishRun marks a run finished, with its error if any.
func (s *Store) FinishRun(id string, at time.Time, errMsg string) error {
	return s.tx(func(ctx context.Context, tx pgx.Tx) error {
		var doc []byte
		err := tx.QueryRow(ctx, "SELECT doc FROM fwpush_runs WHERE id = $1 FOR UPDATE", id).Scan(&doc)
		if err == pgx.ErrNoRows {
			return fmt.Errorf("run %s: not found", id)
		}
		if err != nil {
			return err
		}
		var r store.Run
		if err := decode(doc, &r); err != nil {
			return fmt.Errorf("run %s: unreadable record: %w", id, err)
		}
		at = at.UTC()
		r.Finished, r.Error = &at, errMsg
		if doc, err = encode(r); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE fwpush_runs SET doc = $2 WHERE id = $1", id, doc)
		return err
	})
}

// Runs returns the last n runs (all when n <= 0), newest first, with their
// entries counted by state; an undecodable run is skipped.
func (s *Store) Runs(n int) ([]store.Summary, error) {
	var out []store.Summary
	err := s.read(func(ctx context.Context) error {
		out = nil
		limit := any(nil)
		if n > 0 {
			limit = n
		}
		// One statement, so the counts are of the same snapshot as the
		// runs.
		rows, err := s.pool.Query(ctx, `
SELECT r.id, r.doc, COALESCE(c.counts, '{}'::jsonb)
FROM (SELECT id, doc FROM fwpush_runs ORDER BY id DESC LIMIT $1) r
LEFT JOIN (
	SELECT run, jsonb_object_agg(state, n) AS counts
	FROM (SELECT run, state, count(*) AS n FROM fwpush_entries GROUP BY run, state) x
	GROUP BY run
) c ON c.run = r.id
ORDER BY r.id DESC`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var doc []byte
			var sm store.Summary
			if err := rows.Scan(&id, &doc, &sm.Counts); err != nil {
				return err
			}
			if err := decode(doc, &sm.Run); err != nil {
				s.skip("runs", id, err)
				continue
			}
			out = append(out, sm)
		}
		return rows.Err()
	})
	return out, err
}

// Run returns a run, found by its id or a unique prefix of it, with its
// entries in host order (an undecodable entry is skipped).
func (s *Store) Run(id string) (store.Run, []store.Entry, error) {
	if id == "" {
		return store.Run{}, nil, fmt.Errorf("no run id given")
	}
	var r store.Run
	var es []store.Entry
	var notFound error
	err := s.read(func(ctx context.Context) error {
		r, es, notFound = store.Run{}, nil, fmt.Errorf("no run %q in the run store %s", id, s.name)
		tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		// starts_with matches literally: no LIKE wildcards to escape.
		rows, err := tx.Query(ctx, "SELECT id FROM fwpush_runs WHERE starts_with(id, $1) ORDER BY id LIMIT 50", id)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		key := ""
		for _, k := range ids {
			if k == id {
				key = k
			}
		}
		switch {
		case key != "":
		case len(ids) == 0:
			return nil
		case len(ids) == 1:
			key = ids[0]
		default:
			notFound = fmt.Errorf("run %q is ambiguous: %s", id, strings.Join(ids, ", "))
			return nil
		}
		notFound = nil
		var doc []byte
		if err := tx.QueryRow(ctx, "SELECT doc FROM fwpush_runs WHERE id = $1", key).Scan(&doc); err != nil {
			return err
		}
		if err := decode(doc, &r); err != nil {
			return fmt.Errorf("run %s: unreadable record: %w", key, err)
		}
		es, err = s.entries(ctx, tx, true, key)
		return err
	})
	if err == nil {
		err = notFound
	}
	return r, es, err
}

// RunsByID returns the runs with these exact ids (missing and undecodable
// ones are left out).
func (s *Store) RunsByID(ids []string) (map[string]store.Run, error) {
	out := map[string]store.Run{}
	err := s.read(func(ctx context.Context) error {
		clear(out)
		rows, err := s.pool.Query(ctx, "SELECT id, doc FROM fwpush_runs WHERE id = ANY($1)", ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var doc []byte
			if err := rows.Scan(&id, &doc); err != nil {
				return err
			}
			var r store.Run
			if err := decode(doc, &r); err != nil {
				s.skip("runs", id, err)
				continue
			}
			out[id] = r
		}
		return rows.Err()
	})
	return out, err
}
