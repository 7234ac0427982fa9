package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Run is one recorded command: who ran what, when, on which files.
type Run struct {
	// ID sorts by start time: 20060102T150405.000000Z-xxxx.
	ID   string `json:"id"`
	Kind string `json:"kind"` // apply, rollback, reconcile
	// Who is user@hostname; Hostname and PID identify the process, so a
	// lock it left behind can be recognised as stale.
	Who      string     `json:"who"`
	Hostname string     `json:"hostname"`
	PID      int        `json:"pid"`
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished,omitempty"`
	Command  string     `json:"command,omitempty"`
	// Playbook is the playbook's name; the files are identified by path
	// and SHA-256 (their content is not stored: an inventory may hold
	// passwords).
	Playbook        string `json:"playbook,omitempty"`
	PlaybookFile    string `json:"playbook_file,omitempty"`
	PlaybookSHA256  string `json:"playbook_sha256,omitempty"`
	Inventory       string `json:"inventory,omitempty"`
	InventorySHA256 string `json:"inventory_sha256,omitempty"`
	// Restores maps host → the run whose before-snapshot a rollback
	// restores.
	Restores map[string]string `json:"restores,omitempty"`
	Error    string            `json:"error,omitempty"`
}

// Summary is a run with its entries counted by State.
type Summary struct {
	Run
	Counts map[string]int `json:"counts"`
}

// NewRunID returns a run id that sorts by t, with a random suffix so two
// runs started in the same microsecond differ.
func NewRunID(t time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return t.UTC().Format("20060102T150405.000000Z") + "-" + hex.EncodeToString(b)
}

// NewRun returns a run of this process, started now.
func NewRun(kind, command string) Run {
	now := time.Now().UTC()
	host, _ := os.Hostname()
	return Run{ID: NewRunID(now), Kind: kind, Who: currentUser() + "@" + host, Hostname: host,
		PID: os.Getpid(), Started: now, Command: command}
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprintf("uid%d", os.Getuid())
}

// CreateRun records a new run; its id must be new.
func (s *Store) CreateRun(r Run) error {
	if r.ID == "" {
		return fmt.Errorf("run store: run without id")
	}
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		if b.Get([]byte(r.ID)) != nil {
			return fmt.Errorf("run store: run %s exists", r.ID)
		}
		return put(b, r.ID, r)
	})
}

// FinishRun marks a run finished, with its error if any.
func (s *Store) FinishRun(id string, at time.Time, errMsg string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		var r Run
		ok, err := get(b, id, &r)
		if err != nil || !ok {
			return fmt.Errorf("run store: run %s: not found (%v)", id, err)
		}
		at = at.UTC()
		r.Finished, r.Error = &at, errMsg
		return put(b, id, r)
	})
}

// Runs returns the last n runs (all when n <= 0), newest first, with their
// entries counted. A record that cannot be decoded is skipped (see
// Skipped), not fatal: one damaged run must not hide the others.
func (s *Store) Runs(n int) ([]Summary, error) {
	var out []Summary
	err := s.view(func(tx *bolt.Tx) error {
		out = nil
		b := bucket(tx, bucketRuns)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && (n <= 0 || len(out) < n); k, v = c.Prev() {
			var sm Summary
			if err := jsonUnmarshal(v, &sm.Run); err != nil {
				s.skip(string(bucketRuns), string(k), err)
				continue
			}
			sm.Counts = map[string]int{}
			for _, e := range s.runEntries(tx, string(k)) {
				sm.Counts[e.State()]++
			}
			out = append(out, sm)
		}
		return nil
	})
	return out, err
}

// Run returns a run, found by its id or a unique prefix of it, with its
// entries in host order (an undecodable entry is skipped; an undecodable
// run record is an error naming it).
func (s *Store) Run(id string) (Run, []Entry, error) {
	var r Run
	var es []Entry
	found := false
	err := s.view(func(tx *bolt.Tx) error {
		r, es = Run{}, nil
		key, err := resolve(tx, id)
		if err != nil {
			return err
		}
		found = true
		if err := jsonUnmarshal(bucket(tx, bucketRuns).Get([]byte(key)), &r); err != nil {
			return fmt.Errorf("run store %s: run %s: unreadable record: %w", s.path, key, err)
		}
		es = s.runEntries(tx, key)
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("no run %q in the run store (%s does not exist)", id, s.path)
	}
	return r, es, err
}

// resolve finds the one run whose id is id or starts with it.
func resolve(tx *bolt.Tx, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("no run id given")
	}
	b := bucket(tx, bucketRuns)
	if b == nil {
		return "", fmt.Errorf("no run %q in the run store", id)
	}
	if b.Get([]byte(id)) != nil {
		return id, nil
	}
	var found []string
	c := b.Cursor()
	for k, _ := c.Seek([]byte(id)); k != nil && bytes.HasPrefix(k, []byte(id)); k, _ = c.Next() {
		found = append(found, string(k))
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no run %q in the run store", id)
	case 1:
		return found[0], nil
	}
	sort.Strings(found)
	return "", fmt.Errorf("run %q is ambiguous: %s", id, strings.Join(found, ", "))
}

// RunsByID returns the runs with these exact ids (missing and undecodable
// ones are left out), in one transaction.
func (s *Store) RunsByID(ids []string) (map[string]Run, error) {
	var out map[string]Run
	err := s.view(func(tx *bolt.Tx) error {
		out = map[string]Run{}
		b := bucket(tx, bucketRuns)
		for _, id := range ids {
			var r Run
			ok, err := get(b, id, &r)
			if err != nil {
				s.skip(string(bucketRuns), id, err)
				continue
			}
			if ok {
				out[id] = r
			}
		}
		return nil
	})
	return out, err
}
