package journal

import (
	"context"
	"fmt"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/store"
)

// reconcileHost settles the host's entries that earlier runs left without
// an outcome, by reading the device. The caller holds the host's lock, so
// those runs are gone. A device that cannot be read is left for a later
// run, with a warning.
func (r *Recorder) reconcileHost(ctx context.Context, host string) {
	pending, err := store.Unfinished(r.st, host, r.run.ID)
	if err != nil {
		r.warn("%s: cannot read unfinished runs: %v", host, err)
		return
	}
	var touched []store.Entry
	for _, e := range pending {
		if e.Before == nil || e.Phase == "fetch" {
			r.settle1(e, store.Untouched, "it stopped before sending any change")
			continue
		}
		touched = append(touched, e)
	}
	if len(touched) == 0 {
		return
	}
	now, err := r.fetch(ctx, host)
	if err != nil {
		r.warn("%s: cannot reconcile %s, left for a later run: %v", host, runs(touched), err)
		return
	}
	// A device that has a dead run's change while that run's revert may
	// still fire would read as "no changes" now and revert later: wait
	// for the deadline. The entry was written before arming (phase apply)
	// or after it (check, confirm); Settle covers the arming itself.
	var deadline time.Time
	for _, e := range touched {
		if e.ConfirmWithin > 0 && e.Desired != nil && now.String() == e.Desired.String() {
			// The deadline the device armed, when the run lived to learn
			// it; else the latest it can be.
			dl := e.Updated.Add(e.ConfirmWithin + r.settle)
			if e.Deadline != nil {
				dl = e.Deadline.Add(r.settle)
			}
			if dl.After(deadline) {
				deadline = dl
			}
		}
	}
	if wait := time.Until(deadline); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			r.warn("%s: cannot reconcile %s, left for a later run: %v", host, runs(touched), ctx.Err())
			return
		case <-r.stop:
			r.warn("%s: cannot reconcile %s, left for a later run: the run was asked to stop", host, runs(touched))
			return
		}
		if now, err = r.fetch(ctx, host); err != nil {
			r.warn("%s: cannot reconcile %s, left for a later run: %v", host, runs(touched), err)
			return
		}
	}
	for _, e := range touched {
		switch {
		case now.String() == e.Before.String():
			r.settle1(e, store.RolledBack, "the device has the config from before that run: its revert fired or the change never landed")
		case e.Desired != nil && now.String() == e.Desired.String() && e.ConfirmWithin > 0:
			r.settle1(e, store.Applied, "the device kept the config that run pushed past its revert deadline: it was confirmed")
		case e.Desired != nil && now.String() == e.Desired.String():
			r.settle1(e, store.Applied, "the device has the config that run pushed (no revert was armed)")
		default:
			r.settle1(e, store.Indeterminate, "the device has neither the config from before that run nor the one it pushed")
		}
	}
}

// settle1 records one reconciliation.
func (r *Recorder) settle1(e store.Entry, result, detail string) {
	rec := store.Reconciliation{Run: e.Run, Host: e.Host, Phase: e.Phase, Result: result, Detail: detail,
		By: r.run.ID, At: time.Now().UTC()}
	if err := r.st.Reconcile(rec); err != nil {
		r.warn("%s: reconciled %s as %s but could not record it: %v", e.Host, e.Run, result, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reconciled = append(r.reconciled, rec)
}

func (r *Recorder) fetch(ctx context.Context, host string) (drivers.Config, error) {
	s, err := r.open(ctx, host)
	if err != nil {
		return drivers.Config{}, err
	}
	defer s.Close()
	return s.Fetch(ctx)
}

func (r *Recorder) warn(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

func runs(es []store.Entry) string {
	s := "run"
	if len(es) > 1 {
		s += "s"
	}
	for i, e := range es {
		if i > 0 {
			s += ","
		}
		s += " " + e.Run + " (stopped at " + e.Phase + ")"
	}
	return s
}
