package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Lock says which run is working on a device.
type Lock struct {
	Host     string    `json:"host"`
	Run      string    `json:"run"`
	PID      int       `json:"pid"`
	Who      string    `json:"who"`
	Hostname string    `json:"hostname"`
	Since    time.Time `json:"since"`
	// Start is the holder's start time in clock ticks since boot
	// (/proc/PID/stat), so a reused pid is not mistaken for the holder.
	Start uint64 `json:"start,omitempty"`
}

// LockFor is the lock a run takes on host.
func LockFor(r Run, host string) Lock {
	return Lock{Host: host, Run: r.ID, PID: r.PID, Who: r.Who, Hostname: r.Hostname}
}

func (l Lock) String() string {
	return fmt.Sprintf("run %s (pid %d on %s, %s, since %s)", l.Run, l.PID, l.Hostname, l.Who, l.Since.Format(time.RFC3339))
}

// LockedError is a device held by another live run.
type LockedError struct {
	Holder Lock
	// Alive says the store knows the holder is still running (a shared
	// store sees its database session hold the lock); otherwise a holder
	// on another machine may be dead without this store knowing.
	Alive bool
}

func (e *LockedError) Error() string {
	msg := "locked by " + e.Holder.String()
	if e.Alive {
		return msg + "; that controller is still connected to the shared run store"
	}
	if h, _ := os.Hostname(); h != e.Holder.Hostname {
		msg += "; held from another machine, so fwpush cannot tell whether it is still running"
	}
	return msg
}

// Acquire takes the lock on l.Host for l.Run. A lock held by a process
// that no longer exists on this machine is stale: Acquire replaces it and
// returns it as broken. A live holder is a *LockedError. Re-acquiring
// one's own lock succeeds.
func (s *Store) Acquire(l Lock) (broken *Lock, err error) {
	if l.Since.IsZero() {
		l.Since = time.Now().UTC()
	}
	if h, _ := os.Hostname(); h == l.Hostname && l.PID > 0 {
		l.Start, _ = procStart(l.PID)
	}
	err = s.update(func(tx *bolt.Tx) error {
		broken = nil
		b := tx.Bucket(bucketLocks)
		var cur Lock
		ok, err := get(b, l.Host, &cur)
		if err != nil {
			return fmt.Errorf("run store: lock %s: %w", l.Host, err)
		}
		if ok && cur.Run != l.Run {
			if !stale(cur) {
				return &LockedError{Holder: cur}
			}
			broken = &cur
		}
		return put(b, l.Host, l)
	})
	if err != nil {
		broken = nil
	}
	return broken, err
}

// Release drops run's lock on host; another run's lock is left alone.
func (s *Store) Release(host, run string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLocks)
		var cur Lock
		ok, err := get(b, host, &cur)
		if err != nil || !ok || cur.Run != run {
			return err
		}
		return b.Delete([]byte(host))
	})
}

// Locks lists the locks held; an undecodable one is skipped (see
// Skipped). Acquire, unlike this listing, refuses a host whose lock it
// cannot read: the holder might be alive.
func (s *Store) Locks() ([]Lock, error) {
	var out []Lock
	err := s.view(func(tx *bolt.Tx) error {
		out = nil
		b := bucket(tx, bucketLocks)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var l Lock
			if err := jsonUnmarshal(v, &l); err != nil {
				s.skip(string(bucketLocks), string(k), err)
				return nil
			}
			out = append(out, l)
			return nil
		})
	})
	return out, err
}

// stale reports whether a lock's holder is known to be gone: it ran on
// this machine and its pid is dead or now belongs to another process.
func stale(l Lock) bool {
	if h, _ := os.Hostname(); h != l.Hostname {
		return false
	}
	if l.PID <= 0 {
		return true
	}
	if err := syscall.Kill(l.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return true
	}
	if l.Start == 0 {
		return false
	}
	start, err := procStart(l.PID)
	return err == nil && start != l.Start
}

// procStart reads a process's start time (field 22 of /proc/PID/stat).
func procStart(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: count
	// fields after its closing parenthesis.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}
