// Package apply pushes plans: it reads every device first (a live plan),
// refuses the whole run when the new policy would cut this controller's
// own management connection to any device, then per device: fetch,
// apply with a device-side revert armed, check over a new connection, and
// confirm or roll back. The outcome is always read back from the device.
package apply

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/compile"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
)

// Outcome is what a device ended with, established by reading it back.
type Outcome string

// Outcomes.
const (
	Unchanged     Outcome = "unchanged"
	Confirmed     Outcome = "confirmed"
	Applied       Outcome = "applied" // without commit-confirm
	RolledBack    Outcome = "rolled-back"
	Failed        Outcome = "failed" // nothing changed on the device
	Indeterminate Outcome = "indeterminate"
)

// Options control a push.
type Options struct {
	// ConfirmWithin arms a device-side revert that fires unless the push is
	// confirmed in time. It must be above 0 unless NoConfirm is set: a
	// zero value is refused, never taken to mean "no revert".
	ConfirmWithin time.Duration
	// Trial identifies the push on every device (run id, controller,
	// user); an empty Run gets a fresh id.
	Trial drivers.Trial
	// NoConfirm pushes without any device-side revert (not recommended: a
	// policy that cuts management stays until fixed by hand). It is the
	// only way to turn commit-confirm off; ConfirmWithin must then be 0
	// and PostCheck nil, since nothing could undo a failed check.
	NoConfirm bool
	// PostCheck runs after the change, before confirming; an error rolls
	// the device back.
	PostCheck func(ctx context.Context, host string) error
	Engine    engine.Options
	// Settle is how long past the confirm deadline to wait before reading
	// a device back that we could not reach to confirm.
	Settle time.Duration
	// Journal, when set, records each device before each phase and after
	// its outcome (see Journal).
	Journal Journal
	// Registry gives each platform's config reader for the semantic
	// summary of diffs; Push defaults it to the project's.
	Registry *drivers.Registry
	// OutsideManagement skips the lock-out guard that refuses a run whose
	// new policy would not admit this controller's own connection. It is
	// for a controller that reaches devices through a path their policy
	// does not filter (an out-of-band management port) — and for tests of
	// the device-side revert, the last line of defence.
	OutsideManagement bool
}

// Validate refuses options that would push without the revert the
// caller meant to have, or that the engine cannot honour. Run and
// RunConfigs call it before contacting any device.
func (o Options) Validate() error {
	var errs []error
	switch {
	case o.NoConfirm && o.ConfirmWithin != 0:
		errs = append(errs, fmt.Errorf("apply: NoConfirm and ConfirmWithin %s contradict: choose one", o.ConfirmWithin))
	case o.NoConfirm && o.PostCheck != nil:
		errs = append(errs, errors.New("apply: a PostCheck needs commit-confirm (NoConfirm is set): nothing would undo a failed check"))
	case !o.NoConfirm && o.ConfirmWithin <= 0:
		errs = append(errs, fmt.Errorf("apply: ConfirmWithin %s: commit-confirm needs a revert delay above 0 (set NoConfirm to push without a revert)", o.ConfirmWithin))
	}
	if o.Settle < 0 {
		errs = append(errs, fmt.Errorf("apply: Settle %s: want 0 (the default) or more", o.Settle))
	}
	if err := o.Engine.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("apply: %w", err))
	}
	return errors.Join(errs...)
}

// Device is one device's push record.
type Device struct {
	plan.Device
	Outcome Outcome `json:"outcome"`
	// Phase is the last phase reached: plan, gate, fetch, apply, check,
	// confirm.
	Phase string `json:"phase"`
	// Batch is the 1-based wave the device was pushed in (0: never started).
	Batch int `json:"batch,omitempty"`
	// Armed is the revert the device armed (zero: none).
	Armed *drivers.Armed `json:"armed,omitempty"`
}

// Report is the whole push.
type Report struct {
	Playbook string         `json:"playbook"`
	Devices  []Device       `json:"devices"`
	Summary  engine.Summary `json:"summary"`
}

// Run plans the project's selected devices live and pushes the plan.
func Run(ctx context.Context, p *project.Project, open plan.Opener, o Options) (*Report, error) {
	return Push(ctx, p, nil, open, o)
}

// Push pushes the project's selected devices. reviewed, when non-nil, is
// the plan a person or a pipeline approved: a device whose current config
// no longer matches the one reviewed, or whose desired config differs
// from the reviewed one, is refused, the others are pushed. Every device
// is read before any is changed; when the new policy would cut this
// controller's management connection to any of them, or the inventory
// names no management network to prove that against, nothing is pushed.
func Push(ctx context.Context, p *project.Project, reviewed *plan.Plan, open plan.Opener, o Options) (*Report, error) {
	if err := errors.Join(o.Validate(), p.Inv.CheckPushable()); err != nil {
		return nil, err
	}
	hosts := make([]string, len(p.Selected))
	for i, h := range p.Selected {
		hosts[i] = h.Name
	}
	o.Trial = trial(o.Trial)
	if o.Registry == nil {
		o.Registry = p.Registry
	}
	pre := preflight(ctx, p, hosts, reviewed, open, o)
	if o.OutsideManagement {
		return push(ctx, p.Playbook.Name, hosts, func(host string) Device { return pre[host] }, open, o)
	}
	if err := gate(p, hosts, pre); err != nil {
		rep := &Report{Playbook: p.Playbook.Name, Summary: engine.Summary{Total: len(hosts), Counts: map[engine.Status]int{}}}
		for _, h := range hosts {
			d := pre[h]
			if d.Outcome == "" {
				d.Outcome, d.Phase, d.Status = Failed, "gate", engine.Failed
				if d.Error == "" {
					d.Error = fmt.Sprintf("%s: not pushed: the lock-out guard refused the run", h)
				}
			}
			rep.Summary.Counts[d.Status]++
			o.end(ctx, d)
			rep.Devices = append(rep.Devices, d)
		}
		return rep, err
	}
	return push(ctx, p.Playbook.Name, hosts, func(host string) Device { return pre[host] }, open, o)
}

// trial fills in what the caller left out.
func trial(t drivers.Trial) drivers.Trial {
	if t.Run == "" {
		t.Run = fmt.Sprintf("%x", time.Now().UnixNano())
	}
	if t.Since.IsZero() {
		t.Since = time.Now().UTC()
	}
	return t
}

// preflight reads every host (under the journal's lock, after it
// settled what earlier runs left unfinished) into the device it will
// push. A device that cannot be read, is refused by the journal, or
// changed since the reviewed plan leaves preflight with its outcome set.
func preflight(ctx context.Context, p *project.Project, hosts []string, reviewed *plan.Plan, open plan.Opener, o Options) map[string]Device {
	approved := map[string]plan.Device{}
	if reviewed != nil {
		for _, d := range reviewed.Devices {
			approved[d.Host] = d
		}
	}
	eo := engine.Options{Forks: o.Engine.Forks, MaxFailPercentage: engine.NeverStop, Stop: o.Engine.Stop}
	results, _, _ := engine.Run(ctx, hosts, eo, func(ctx context.Context, host string) engine.Result {
		d := Device{Device: plan.Device{Host: host, Platform: p.Intents[host].Platform}, Phase: "plan"}
		if err := o.begin(ctx, host); err != nil {
			d.Err = fmt.Errorf("%s: %w", host, err)
			d.Outcome, d.Status, d.Error = Failed, engine.Failed, d.Err.Error()
			return engine.Result{Detail: d}
		}
		d.Device = plan.Fetch(ctx, p, open, host)
		switch {
		case d.Error != "":
			d.Outcome = Failed
		case reviewed != nil:
			if why := stale(approved[host], d.Device); why != "" {
				d.Err = fmt.Errorf("%s: not pushed: %s since the reviewed plan; run plan again", host, why)
				d.Outcome, d.Status, d.Error = Failed, engine.Failed, d.Err.Error()
			}
		}
		return engine.Result{Detail: d}
	})
	out := map[string]Device{}
	for _, r := range results {
		d, ok := r.Detail.(Device)
		if !ok {
			d = Device{Device: plan.Device{Host: r.Host, Status: engine.Failed, Error: r.Host + ": not read: " + r.Error},
				Outcome: Failed, Phase: "plan"}
		}
		out[r.Host] = d
	}
	return out
}

// stale says what changed between the reviewed device and the live one
// ("" when nothing did).
func stale(reviewed, live plan.Device) string {
	switch {
	case reviewed.Host == "":
		return "the reviewed plan does not include it, so nothing was reviewed"
	case reviewed.Current == nil:
		return "the reviewed plan could not read it"
	case reviewed.BeforeDigest != live.BeforeDigest:
		return "its config changed"
	case plan.Digest(reviewed.Desired) != plan.Digest(live.Desired):
		return "the config fwpush renders for it changed"
	}
	return ""
}

// gate refuses the run when any device about to change would, under its
// new policy, cut the management connection this controller has to it:
// before anything is armed, so no device changes. Each refused device
// gets its reason.
func gate(p *project.Project, hosts []string, pre map[string]Device) error {
	var errs []error
	for _, h := range hosts {
		d := pre[h]
		if d.Outcome != "" || d.Status != engine.Changed {
			continue
		}
		origin, err := netip.ParseAddr(d.Origin)
		if err != nil {
			// The driver cannot tell: only the management networks were
			// proven (compile.CheckManagement), and the report says so.
			d.Warnings = append(d.Warnings, "lock-out guard: the device did not say which address it sees this controller come from; only the management networks were checked")
			pre[h] = d
			continue
		}
		if err := compile.CheckOrigin(p.Intents[h], origin); err != nil {
			d.Err = fmt.Errorf("%s: %w", h, err)
			d.Outcome, d.Phase, d.Status, d.Error = Failed, "gate", engine.Failed, d.Err.Error()
			pre[h] = d
			errs = append(errs, d.Err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("nothing was pushed: %w", errors.Join(errs...))
}

// push runs every host through pushDevice; prepared gives each host's
// device as preflight left it.
func push(ctx context.Context, name string, hosts []string, prepared func(host string) Device, open plan.Opener, o Options) (*Report, error) {
	if o.Settle == 0 {
		o.Settle = 3 * time.Second
	}
	results, sum, err := engine.Run(ctx, hosts, o.Engine, func(ctx context.Context, host string) engine.Result {
		d := prepared(host)
		if d.Outcome == "" {
			d = pushDevice(ctx, d, open, o)
		}
		st := engine.Failed
		switch d.Outcome {
		case Unchanged:
			st = engine.Unchanged
		case Confirmed, Applied:
			st = engine.Changed
		}
		if d.Status == engine.Unreachable || d.Status == engine.Skipped {
			st = d.Status
		}
		d.Status = st
		o.end(ctx, d)
		return engine.Result{Status: st, Error: d.Error, Detail: d}
	})
	if err != nil {
		return nil, err
	}
	rep := &Report{Playbook: name, Summary: sum}
	var errs []error
	for _, r := range results {
		d, ok := r.Detail.(Device)
		if !ok {
			d = prepared(r.Host)
			if d.Host == "" {
				d.Host = r.Host
			}
			d.Status = r.Status
			if d.Outcome == "" || r.Status == engine.Skipped {
				d.Outcome, d.Error = "", "not started: "+sum.Aborted
			}
			if r.Batch == 0 {
				o.end(ctx, d) // never started: the journal releases it
			}
		}
		if r.Status != engine.Skipped {
			d.Batch = r.Batch
		}
		switch {
		case r.Status == engine.Skipped:
		case d.Err != nil:
			errs = append(errs, d.Err)
		case d.Error != "":
			errs = append(errs, errors.New(d.Error))
		}
		rep.Devices = append(rep.Devices, d)
	}
	if sum.Aborted != "" {
		errs = append(errs, errors.New(sum.Aborted))
	}
	return rep, errors.Join(errs...)
}

func pushDevice(ctx context.Context, d Device, open plan.Opener, o Options) Device {
	host := d.Host
	d.Outcome = Failed
	if d.Status == engine.Unchanged {
		d.Outcome = Unchanged
		return d
	}
	fail := func(phase string, err error) Device {
		d.Err = fmt.Errorf("%s: %s: %w", host, phase, err)
		d.Phase, d.Error, d.Status = phase, d.Err.Error(), plan.Classify(err)
		return d
	}
	if err := o.enter(ctx, &d, "fetch"); err != nil {
		return fail("fetch", err)
	}
	s, err := open(ctx, host)
	if err != nil {
		return fail("connect", err)
	}
	defer s.Close()
	before, err := s.Fetch(ctx)
	if err != nil {
		return fail("fetch", err)
	}
	if d.Current != nil && plan.Digest(before) != plan.Digest(*d.Current) {
		return fail("fetch", errors.New("the device's config changed since it was read moments ago (another operator?); not pushed, run again"))
	}
	df := diff.Compute(before, d.Desired, plan.Parser(o.Registry, d.Platform))
	d.Current, d.Diff = &before, &df
	if !df.Changed {
		d.Outcome = Unchanged
		return d
	}
	if o.Engine.Stopped() {
		// Asked to stop between the read and the change: leave the
		// device as it is rather than start a change nobody will watch.
		d.Outcome, d.Status = "", engine.Skipped
		d.Error = fmt.Sprintf("%s: not changed: the run was asked to stop before its change; the device is untouched", host)
		return d
	}
	if err := o.enter(ctx, &d, "apply"); err != nil {
		return fail("apply", err) // nothing changed yet
	}
	armed, err := s.Apply(ctx, d.Desired, drivers.ApplyOptions{Trial: o.Trial, ConfirmWithin: o.ConfirmWithin})
	if armed.Within > 0 {
		d.Armed = &armed
	}
	if err != nil {
		if errors.Is(err, fault.ErrRejected) || errors.Is(err, fault.ErrNotApplied) || errors.Is(err, fault.ErrLocked) {
			// Refused, held by another trial, or stopped while staging,
			// before anything was armed or applied: the device is as it
			// was, so this is a failure, not a rollback.
			return fail("apply", err)
		}
		d = fail("apply", err)
		d.Outcome = readBack(ctx, open, d, o)
		if d.Outcome == Indeterminate && !o.NoConfirm {
			// A dropped connection does not stop the command on the
			// device: it may have the change with its revert armed. Let
			// its own timer decide, then read it back.
			d.Outcome = waitRevert(ctx, open, &d, o)
		}
		return d
	}
	if o.NoConfirm {
		d.Outcome = Applied
		return d
	}
	// Confirm only over a fresh connection: an established session can
	// survive a policy that blocks every new one (RELIABILITY A2).
	_ = o.enter(ctx, &d, "check") // past the change: the journal reports its own failures
	check, err := open(ctx, host)
	if err != nil {
		d = fail("check", fmt.Errorf("new management connection failed, device reverts by itself: %w", err))
		d.Outcome = waitRevert(ctx, open, &d, o)
		return d
	}
	defer check.Close()
	now, err := check.Fetch(ctx)
	if err == nil && now.String() != d.Desired.String() {
		err = fmt.Errorf("device config differs from the one just applied:\n%s", diff.Compute(now, d.Desired, nil).Unified)
	}
	if err == nil && o.PostCheck != nil {
		err = o.PostCheck(ctx, host)
	}
	if err != nil {
		d = fail("check", err)
		if rerr := check.Rollback(ctx, before, o.Trial); rerr != nil {
			d.Err = fmt.Errorf("%w; rollback: %w", d.Err, rerr)
			d.Error = d.Err.Error()
		}
		d.Outcome = readBack(ctx, open, d, o)
		return d
	}
	_ = o.enter(ctx, &d, "confirm")
	if err := check.Confirm(ctx, o.Trial); err != nil {
		d = fail("confirm", err)
		d.Outcome = waitRevert(ctx, open, &d, o)
		return d
	}
	d.Outcome = Confirmed
	return d
}

// waitRevert waits for the device's own revert timer (the deadline it
// armed, or the one asked for when arming was not confirmed), then reads
// it back. Asked to stop, it does not wait: the timer fires all the same,
// and the next run reconciles the indeterminate entry by reading the
// device.
func waitRevert(ctx context.Context, open plan.Opener, d *Device, o Options) Outcome {
	deadline := time.Now().Add(o.ConfirmWithin)
	if d.Armed != nil && d.Armed.Deadline.After(time.Now()) {
		deadline = d.Armed.Deadline
	}
	select {
	case <-time.After(time.Until(deadline) + o.Settle):
	case <-ctx.Done():
		return Indeterminate
	case <-o.Engine.Stop:
		d.Error += "; the run was asked to stop: did not wait for its revert timer, which fires by itself"
		return Indeterminate
	}
	return readBack(ctx, open, *d, o)
}

// readBack establishes the outcome from the device itself.
func readBack(ctx context.Context, open plan.Opener, d Device, o Options) Outcome {
	s, err := open(ctx, d.Host)
	if err != nil {
		return Indeterminate
	}
	defer s.Close()
	now, err := s.Fetch(ctx)
	switch {
	case err != nil:
		return Indeterminate
	case d.Current != nil && now.String() == d.Current.String():
		return RolledBack
	case now.String() == d.Desired.String() && o.NoConfirm:
		return Applied
	}
	return Indeterminate
}
