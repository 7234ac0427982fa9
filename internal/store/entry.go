package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/diff"
)

// Entry is one device's journal in one run. It is written before each
// phase, so a run that dies leaves the phase it reached and, once past
// fetch, the snapshot taken before any change.
type Entry struct {
	Run      string `json:"run"`
	Host     string `json:"host"`
	Platform string `json:"platform,omitempty"`
	// Phase is the last phase started: fetch, apply, check, confirm (or
	// where it failed).
	Phase   string          `json:"phase"`
	Desired *drivers.Config `json:"desired,omitempty"`
	Before  *drivers.Config `json:"before,omitempty"`
	// After is the config the device was read back with, when known.
	After *drivers.Config `json:"after,omitempty"`
	Diff  *diff.Diff      `json:"diff,omitempty"`
	// ConfirmWithin is the device-side revert delay armed in the apply
	// phase (0: none).
	ConfirmWithin time.Duration `json:"confirm_within_ns,omitempty"`
	// Deadline is when the device's armed revert fires, as the device
	// armed it (rounded up to its timer's granularity); nil when unknown.
	Deadline *time.Time `json:"deadline,omitempty"`
	// Outcome is empty until the run learns it; an entry without one is a
	// run that died mid-way, to reconcile.
	Outcome    string          `json:"outcome,omitempty"`
	Error      string          `json:"error,omitempty"`
	Updated    time.Time       `json:"updated"`
	Reconciled *Reconciliation `json:"reconciled,omitempty"`
}

// Reconciliation is what a later run found on a device whose entry had no
// outcome.
type Reconciliation struct {
	Run   string `json:"run"` // the run that died
	Host  string `json:"host"`
	Phase string `json:"phase"` // how far it got
	// Result: rolled-back, applied, indeterminate, or untouched (it died
	// before sending any change).
	Result string    `json:"result"`
	Detail string    `json:"detail,omitempty"`
	By     string    `json:"by"` // the run that reconciled it
	At     time.Time `json:"at"`
}

// Reconciliation results.
const (
	RolledBack    = "rolled-back"
	Applied       = "applied"
	Indeterminate = "indeterminate"
	Untouched     = "untouched"
)

// Unfinished reports whether the entry still needs reconciling: its run
// died before an outcome, or could only call it indeterminate (the
// device unreachable at the time), which a later read settles.
func (e Entry) Unfinished() bool {
	return (e.Outcome == "" || e.Outcome == Indeterminate) && e.Reconciled == nil
}

// State is the outcome, "reconciled:<result>", or "unfinished".
func (e Entry) State() string {
	switch {
	case e.Reconciled != nil:
		return "reconciled:" + e.Reconciled.Result
	case e.Outcome != "":
		return e.Outcome
	}
	return "unfinished"
}

// PutEntry writes a device's entry in its run (which must exist).
func (s *Store) PutEntry(e Entry) error {
	if e.Updated.IsZero() {
		e.Updated = time.Now().UTC()
	}
	return s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRuns).Get([]byte(e.Run)) == nil {
			return fmt.Errorf("run store: entry %s: no run %s", e.Host, e.Run)
		}
		rb, err := tx.Bucket(bucketEntries).CreateBucketIfNotExists([]byte(e.Run))
		if err != nil {
			return err
		}
		hb, err := tx.Bucket(bucketHosts).CreateBucketIfNotExists([]byte(e.Host))
		if err != nil {
			return err
		}
		if err := hb.Put([]byte(e.Run), []byte{}); err != nil {
			return err
		}
		return put(rb, e.Host, e)
	})
}

// HostEntries returns every entry of a host, oldest run first; an entry
// that cannot be decoded is skipped (see Skipped).
func (s *Store) HostEntries(host string) ([]Entry, error) {
	var out []Entry
	err := s.view(func(tx *bolt.Tx) error {
		out = nil
		hb := sub(bucket(tx, bucketHosts), []byte(host))
		if hb == nil {
			return nil
		}
		return hb.ForEach(func(run, _ []byte) error {
			var e Entry
			ok, err := get(sub(bucket(tx, bucketEntries), run), host, &e)
			if err != nil {
				s.skip(entriesOf(run), host, err)
				return nil
			}
			if ok {
				out = append(out, e)
			}
			return nil
		})
	})
	return out, err
}

// Unfinished returns a host's entries without outcome or reconciliation,
// oldest first, leaving out the run named except.
func (s *Store) Unfinished(host, except string) ([]Entry, error) {
	return Unfinished(s, host, except)
}

// UnfinishedHosts lists the hosts that have an unfinished entry.
func (s *Store) UnfinishedHosts() ([]string, error) {
	var out []string
	err := s.view(func(tx *bolt.Tx) error {
		out = nil
		hosts := bucket(tx, bucketHosts)
		if hosts == nil {
			return nil
		}
		return hosts.ForEach(func(host, _ []byte) error {
			hb := hosts.Bucket(host)
			if hb == nil {
				return nil
			}
			return hb.ForEach(func(run, _ []byte) error {
				var e Entry
				ok, err := get(sub(bucket(tx, bucketEntries), run), string(host), &e)
				if err != nil {
					s.skip(entriesOf(run), string(host), err)
					return nil
				}
				if !ok || !e.Unfinished() {
					return nil
				}
				if len(out) == 0 || out[len(out)-1] != string(host) {
					out = append(out, string(host))
				}
				return nil
			})
		})
	})
	return out, err
}

// Reconcile stores what a later run found for an unfinished entry.
func (s *Store) Reconcile(r Reconciliation) error {
	return s.update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketEntries).Bucket([]byte(r.Run))
		var e Entry
		if rb != nil {
			if ok, err := get(rb, r.Host, &e); err != nil || !ok {
				rb = nil
			}
		}
		if rb == nil {
			return fmt.Errorf("run store: no entry %s/%s to reconcile", r.Run, r.Host)
		}
		e.Reconciled = &r
		return put(rb, r.Host, e)
	})
}

// runEntries are a run's decodable entries in host order; the others are
// skipped (see Skipped).
func (s *Store) runEntries(tx *bolt.Tx, run string) []Entry {
	var out []Entry
	rb := sub(bucket(tx, bucketEntries), []byte(run))
	if rb == nil {
		return nil
	}
	_ = rb.ForEach(func(k, v []byte) error {
		var e Entry
		if err := json.Unmarshal(v, &e); err != nil {
			s.skip(entriesOf([]byte(run)), string(k), err)
			return nil
		}
		out = append(out, e)
		return nil
	})
	return out
}

func entriesOf(run []byte) string { return string(bucketEntries) + "/" + string(run) }

func jsonUnmarshal(data []byte, v any) error {
	if data == nil {
		return fmt.Errorf("missing")
	}
	return json.Unmarshal(data, v)
}
