package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fwpush/fwpush/internal/store"
)

// Device locks across controllers.
//
// The bbolt store calls a lock stale when its holder's pid is gone from
// this machine, which says nothing about a controller on another machine.
// Here the liveness rule is the database's own: a device's lock is a
// session-level advisory lock (pg_try_advisory_lock on a 64-bit key
// derived from the host name), held by one connection of the holder's
// Store for as long as the run holds the device. The server releases it
// the moment that session ends: the controller exits or is killed (its
// socket closes), or its machine vanishes (the server's TCP keepalive,
// set below to give up after about a minute of silence, ends the
// session). The fwpush_locks row beside it only names the holder for
// messages and listings; a row whose advisory lock is free was left by a
// dead holder, and the next Acquire replaces it and reports it broken.
//
// A Store that loses its lock connection (the server restarted) has lost
// its locks with it; Release then says so. The device's own trial lock
// still refuses a second trial while one is pending.

// lockKeyspace keeps fwpush's advisory keys apart from other users of the
// database.
const lockKeyspace = "fwpush device lock\x00"

func lockKey(host string) int64 {
	sum := sha256.Sum256([]byte(lockKeyspace + host))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// Acquire takes the lock on l.Host for l.Run. A live holder (in this
// process or any other controller) is a *LockedError naming it; a row
// left by a holder whose session ended is replaced and returned as broken.
func (s *Store) Acquire(l store.Lock) (broken *store.Lock, err error) {
	if err := s.writable(); err != nil {
		return nil, err
	}
	if l.Since.IsZero() {
		l.Since = time.Now().UTC()
	}
	s.lmu.Lock()
	defer s.lmu.Unlock()
	ctx, cancel := s.ctx()
	defer cancel()
	if run, ok := s.held[l.Host]; ok && run != l.Run {
		// Another run of this process, through this Store: the
		// advisory lock is re-entrant within a session, so ask the map.
		return nil, s.lockedBy(ctx, l.Host)
	}
	if _, ok := s.held[l.Host]; !ok {
		if err := s.connectLocks(ctx); err != nil {
			return nil, s.wrap(fmt.Errorf("lock %s: %w", l.Host, err))
		}
		var got bool
		if err := s.lockConn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey(l.Host)).Scan(&got); err != nil {
			s.dropLockConn(ctx)
			return nil, s.wrap(fmt.Errorf("lock %s: %w", l.Host, err))
		}
		if !got {
			return nil, s.lockedBy(ctx, l.Host)
		}
		s.held[l.Host] = l.Run
	}
	doc, err := encode(l)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.lockConn, func(tx pgx.Tx) error {
		var old []byte
		err := tx.QueryRow(ctx, "SELECT doc FROM fwpush_locks WHERE host = $1 FOR UPDATE", l.Host).Scan(&old)
		switch {
		case err == pgx.ErrNoRows:
		case err != nil:
			return err
		default:
			var cur store.Lock
			if derr := decode(old, &cur); derr != nil {
				cur = store.Lock{Host: l.Host, Run: "(unreadable lock record)"}
			}
			if cur.Run != l.Run {
				broken = &cur // we hold the advisory lock: its holder's session is over
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO fwpush_locks (host, run, doc) VALUES ($1, $2, $3)
ON CONFLICT (host) DO UPDATE SET run = EXCLUDED.run, doc = EXCLUDED.doc`, l.Host, l.Run, doc)
		return err
	})
	if err != nil {
		s.unlock(ctx, l.Host)
		return nil, s.wrap(fmt.Errorf("lock %s: %w", l.Host, err))
	}
	return broken, nil
}

// lockedBy is the error for a host another live session holds.
func (s *Store) lockedBy(ctx context.Context, host string) error {
	holder := store.Lock{Host: host, Run: "(unknown: its holder is still writing its lock record)"}
	var doc []byte
	if err := s.pool.QueryRow(ctx, "SELECT doc FROM fwpush_locks WHERE host = $1", host).Scan(&doc); err == nil {
		_ = decode(doc, &holder)
	}
	return &store.LockedError{Holder: holder, Alive: true}
}

// Release drops run's lock on host; another run's lock is left alone.
func (s *Store) Release(host, run string) error {
	if err := s.writable(); err != nil {
		return err
	}
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if s.held[host] != run || s.lockConn == nil {
		return nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	// The row goes first: a free advisory lock with our row still there
	// would read as a dead holder's.
	_, err := s.lockConn.Exec(ctx, "DELETE FROM fwpush_locks WHERE host = $1 AND run = $2", host, run)
	if err == nil {
		err = s.unlock(ctx, host)
	} else {
		s.dropLockConn(ctx)
	}
	if err != nil {
		return s.wrap(fmt.Errorf("unlock %s: %w", host, err))
	}
	return nil
}

// unlock releases host's advisory lock, and the lock connection once it
// holds nothing (an idle controller keeps no session open for locks).
func (s *Store) unlock(ctx context.Context, host string) error {
	delete(s.held, host)
	var was bool
	err := s.lockConn.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", lockKey(host)).Scan(&was)
	if err == nil && !was {
		err = fmt.Errorf("the lock was no longer held: the connection holding it was reset, so another controller may have taken the device")
	}
	if len(s.held) == 0 {
		s.dropLockConn(ctx)
	}
	return err
}

// connectLocks opens the lock connection. TCP keepalives let the server
// notice a controller that vanished without closing its socket.
func (s *Store) connectLocks(ctx context.Context) error {
	if s.lockConn != nil {
		return nil
	}
	cc := s.cfg.ConnConfig.Copy()
	cc.RuntimeParams["tcp_keepalives_idle"] = "30"
	cc.RuntimeParams["tcp_keepalives_interval"] = "10"
	cc.RuntimeParams["tcp_keepalives_count"] = "3"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	s.lockConn = conn
	return nil
}

// dropLockConn closes the lock connection: every advisory lock it held
// is released by the server, so the map forgets them too.
func (s *Store) dropLockConn(ctx context.Context) {
	if s.lockConn != nil {
		_ = s.lockConn.Close(ctx)
		s.lockConn = nil
	}
	clear(s.held)
}

// Locks lists the lock records, in host order; an undecodable one is
// skipped.
func (s *Store) Locks() ([]store.Lock, error) {
	var out []store.Lock
	err := s.read(func(ctx context.Context) error {
		out = nil
		rows, err := s.pool.Query(ctx, "SELECT host, doc FROM fwpush_locks ORDER BY host")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var host string
			var doc []byte
			if err := rows.Scan(&host, &doc); err != nil {
				return err
			}
			var l store.Lock
			if err := decode(doc, &l); err != nil {
				s.skip("locks", host, err)
				continue
			}
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}
