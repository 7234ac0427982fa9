package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migration is one versioned step of the schema. Steps are only ever
// appended: a released step never changes, so every database that ran it
// has the same tables.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema, step by step. Records are the same JSON
// documents the bbolt store keeps, in bytea (jsonb would refuse a NUL a
// device's error text may hold); the columns beside them are what queries
// select and sort on. Ids and host names sort bytewise (COLLATE "C"), as
// in bbolt, so run ids sort by time whatever the database's locale.
var migrations = []migration{
	{1, "runs, entries and locks", `
CREATE TABLE fwpush_runs (
	id  text COLLATE "C" PRIMARY KEY,
	doc bytea NOT NULL
);
CREATE TABLE fwpush_entries (
	run        text COLLATE "C" NOT NULL REFERENCES fwpush_runs (id),
	host       text COLLATE "C" NOT NULL,
	state      text NOT NULL,
	unfinished boolean NOT NULL,
	doc        bytea NOT NULL,
	PRIMARY KEY (run, host)
);
CREATE TABLE fwpush_locks (
	host text COLLATE "C" PRIMARY KEY,
	run  text COLLATE "C" NOT NULL,
	doc  bytea NOT NULL
);`},
	{2, "index entries by host, and the unfinished ones", `
CREATE INDEX fwpush_entries_host ON fwpush_entries (host, run);
CREATE INDEX fwpush_entries_unfinished ON fwpush_entries (host) WHERE unfinished;`},
}

// SchemaVersion is the schema this fwpush writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrationLock serializes migrations of concurrent controllers (a
// transaction-scoped advisory lock: it ends with the transaction).
const migrationLock = 0x6677707573680001 // "fwpush" + 1

// migrate brings the schema up to version to, in one transaction per
// step, and refuses a database a newer fwpush already migrated further.
func migrate(ctx context.Context, pool *pgxpool.Pool, to int) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS fwpush_schema (
	version int PRIMARY KEY,
	name    text NOT NULL,
	applied timestamptz NOT NULL DEFAULT now()
)`); err != nil {
		return fmt.Errorf("schema table: %w", err)
	}
	have, err := currentVersion(ctx, tx)
	if err != nil {
		return err
	}
	if have > SchemaVersion() {
		return fmt.Errorf("the run store's schema is at version %d, newer than this fwpush knows (%d): upgrade fwpush", have, SchemaVersion())
	}
	for _, m := range migrations {
		if m.version <= have || m.version > to {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("schema version %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO fwpush_schema (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("schema version %d: %w", m.version, err)
		}
	}
	return tx.Commit(ctx)
}

// currentVersion is the last step applied (0: none; also when the schema
// table does not exist, for a read-only store).
func currentVersion(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (int, error) {
	var v *int
	err := q.QueryRow(ctx, "SELECT max(version) FROM fwpush_schema").Scan(&v)
	if undefinedTable(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// undefinedTable reports a query on a table that does not exist: a store
// nobody has written to yet, which a read-only store reads as empty.
func undefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}
