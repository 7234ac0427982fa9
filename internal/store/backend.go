package store

import "time"

// Backend is a run store as journal, history, rollback and reconcile use
// it: runs, each device's journal entry, and per-device locks. *Store (one
// bbolt file) is the embedded default; internal/store/pgstore keeps the
// same records in PostgreSQL so that several controllers share them.
// storetest.Conformance holds every implementation to the same behaviour.
type Backend interface {
	// Path names the store in messages: a file, or a database URL
	// without its password.
	Path() string

	// CreateRun records a new run; its id must be new.
	CreateRun(r Run) error
	// FinishRun marks a run finished, with its error if any.
	FinishRun(id string, at time.Time, errMsg string) error
	// Runs returns the last n runs (all when n <= 0), newest first, with
	// their entries counted by state.
	Runs(n int) ([]Summary, error)
	// Run returns the run whose id is id or starts with it (an
	// ambiguous prefix is an error), with its entries in host order.
	Run(id string) (Run, []Entry, error)
	// RunsByID returns the runs with these exact ids; missing ones are
	// left out.
	RunsByID(ids []string) (map[string]Run, error)

	// PutEntry writes a device's entry in its run, which must exist.
	PutEntry(e Entry) error
	// HostEntries returns every entry of a host, oldest run first.
	HostEntries(host string) ([]Entry, error)
	// UnfinishedHosts lists, sorted, the hosts that have an unfinished
	// entry (see Entry.Unfinished).
	UnfinishedHosts() ([]string, error)
	// Reconcile stores what a later run found for an unfinished entry.
	Reconcile(r Reconciliation) error

	// Acquire takes the lock on l.Host for l.Run. A holder the store
	// knows to be gone is replaced and returned as broken; a live (or
	// possibly live) holder is a *LockedError. Re-acquiring one's own
	// lock succeeds.
	Acquire(l Lock) (broken *Lock, err error)
	// Release drops run's lock on host; another run's lock is left alone.
	Release(host, run string) error
	// Locks lists the locks held.
	Locks() ([]Lock, error)

	// Skipped lists the records reads could not decode, each once: one
	// damaged record must not hide the rest of the history.
	Skipped() []BadRecord
	// Close releases what the store holds open (connections, and the
	// locks tied to them).
	Close() error
}

var _ Backend = (*Store)(nil)

// Unfinished returns a host's entries without outcome or reconciliation,
// oldest first, leaving out the run named except.
func Unfinished(b Backend, host, except string) ([]Entry, error) {
	all, err := b.HostEntries(host)
	var out []Entry
	for _, e := range all {
		if e.Unfinished() && e.Run != except {
			out = append(out, e)
		}
	}
	return out, err
}
