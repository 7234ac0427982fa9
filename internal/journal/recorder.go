package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/store"
)

// Recorder journals one run in the store. It implements apply.Journal.
type Recorder struct {
	st     store.Backend
	run    store.Run
	open   plan.Opener
	within time.Duration
	settle time.Duration
	// stop is the push's soft stop (engine.Options.Stop): reconciling
	// does not wait for a dead run's revert once it is closed.
	stop <-chan struct{}

	mu         sync.Mutex
	entries    map[string]*store.Entry
	locked     map[string]bool
	reconciled []store.Reconciliation
	warnings   []string
	errs       []error
}

// Start records run (new, with an id) and returns its recorder. open is
// used to reconcile devices that an earlier run left unfinished.
func Start(st store.Backend, run store.Run, open plan.Opener) (*Recorder, error) {
	if err := st.CreateRun(run); err != nil {
		return nil, fmt.Errorf("journal: run %s not recorded, nothing pushed: %w", run.ID, err)
	}
	return &Recorder{st: st, run: run, open: open, settle: 3 * time.Second,
		entries: map[string]*store.Entry{}, locked: map[string]bool{}}, nil
}

// Run is the run being recorded.
func (r *Recorder) Run() store.Run { return r.run }

// Attach returns o journaling into r, pushing as r's run: every device
// records the run as the holder of its trial lock. r learns the revert
// delay armed, to record it with each entry.
func (r *Recorder) Attach(o apply.Options) apply.Options {
	r.within, r.stop = o.ConfirmWithin, o.Engine.Stop
	if o.Settle > 0 {
		r.settle = o.Settle
	}
	o.Journal = r
	o.Trial = Trial(r.run)
	return o
}

// Trial is the device-side identity of a run's changes.
func Trial(run store.Run) drivers.Trial {
	user, _, _ := strings.Cut(run.Who, "@")
	return drivers.Trial{Run: run.ID, Controller: run.Hostname, User: user, Since: run.Started}
}

// Begin takes the device's lock in the store (failing fast when another
// live run holds it) and settles what earlier runs left unfinished on it,
// before the push reads it.
func (r *Recorder) Begin(ctx context.Context, host string) error {
	if err := r.lock(host); err != nil {
		return err
	}
	r.reconcileHost(ctx, host)
	return nil
}

// Phase records the device before a phase.
func (r *Recorder) Phase(ctx context.Context, d apply.Device) error {
	e := r.entry(d)
	if d.Phase == "apply" {
		e.ConfirmWithin = r.within
	}
	if d.Armed != nil {
		dl := d.Armed.Deadline
		e.Deadline = &dl
	}
	if err := r.st.PutEntry(*e); err != nil {
		err = fmt.Errorf("journal: %w", err)
		r.fail(err)
		return err
	}
	return nil
}

// lock takes the host's lock for this run, breaking a stale one.
func (r *Recorder) lock(host string) error {
	broken, err := r.st.Acquire(store.LockFor(r.run, host))
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.locked[host] = true
	if broken != nil {
		r.warnings = append(r.warnings, fmt.Sprintf("%s: broke the stale lock of %s: that process is gone", host, *broken))
	}
	return nil
}

func (r *Recorder) unlock(host string) {
	r.mu.Lock()
	held := r.locked[host]
	delete(r.locked, host)
	r.mu.Unlock()
	if held {
		if err := r.st.Release(host, r.run.ID); err != nil {
			r.fail(fmt.Errorf("journal: %s: unlock: %w", host, err))
		}
	}
}

// End records the device's outcome and releases its lock. A device that
// was never started (its wave was not reached) leaves no entry.
func (r *Recorder) End(ctx context.Context, d apply.Device) {
	defer r.unlock(d.Host)
	if d.Outcome == "" {
		return
	}
	e := r.entry(d)
	e.Outcome, e.Error = string(d.Outcome), d.Error
	if e.Outcome == "" {
		e.Outcome = string(apply.Failed)
	}
	e.After = after(d)
	if err := r.st.PutEntry(*e); err != nil {
		r.fail(fmt.Errorf("journal: %s: outcome %s not recorded: %w", d.Host, d.Outcome, err))
	}
}

// after is the config the device ended with, as far as the push read it
// back: apply only reports confirmed after fetching the new config over a
// new connection, and rolled-back after reading the old one back.
func after(d apply.Device) *drivers.Config {
	switch d.Outcome {
	case apply.Confirmed, apply.Applied:
		c := d.Desired
		return &c
	case apply.Unchanged, apply.RolledBack, apply.Failed:
		return d.Current
	}
	return nil
}

// entry updates and returns the host's entry from the device record.
func (r *Recorder) entry(d apply.Device) *store.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[d.Host]
	if e == nil {
		e = &store.Entry{Run: r.run.ID, Host: d.Host}
		r.entries[d.Host] = e
	}
	desired := d.Desired
	e.Platform, e.Phase, e.Desired = d.Platform, d.Phase, &desired
	if d.Current != nil {
		e.Before = d.Current
	}
	if d.Diff != nil {
		e.Diff = d.Diff
	}
	e.Updated = time.Now().UTC()
	return e
}

func (r *Recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

// Reconciled is what this run found on devices earlier runs left
// unfinished.
func (r *Recorder) Reconciled() []store.Reconciliation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]store.Reconciliation(nil), r.reconciled...)
}

// Warnings are stale locks broken and devices that could not be
// reconciled.
func (r *Recorder) Warnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.warnings...)
}

// Finish marks the run finished with the push's error, releases any lock
// still held, and returns the journal's own failures.
func (r *Recorder) Finish(pushErr error) error {
	r.mu.Lock()
	var hosts []string
	for h := range r.locked {
		hosts = append(hosts, h)
	}
	r.mu.Unlock()
	for _, h := range hosts {
		r.unlock(h)
	}
	msg := ""
	if pushErr != nil {
		msg = pushErr.Error()
	}
	if err := r.st.FinishRun(r.run.ID, time.Now(), msg); err != nil {
		r.fail(fmt.Errorf("journal: %w", err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}
