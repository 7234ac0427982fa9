// Package apply pushes plans: per device, fetch, diff, apply with a
// device-side revert armed, check over a new connection, then confirm or
// roll back. The outcome is always read back from the device.
package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/engine"
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
	// Phase is the last phase reached: fetch, apply, check, confirm.
	Phase string `json:"phase"`
	// Batch is the 1-based wave the device was pushed in (0: never started).
	Batch int `json:"batch,omitempty"`
}

// Report is the whole push.
type Report struct {
	Playbook string         `json:"playbook"`
	Devices  []Device       `json:"devices"`
	Summary  engine.Summary `json:"summary"`
}

// Run pushes the project's desired config to every selected device.
func Run(ctx context.Context, p *project.Project, reg *drivers.Registry, open plan.Opener, o Options) (*Report, error) {
	hosts := make([]string, len(p.Selected))
	for i, h := range p.Selected {
		hosts[i] = h.Name
	}
	render := func(host string) (plan.Device, error) { return plan.Render(p, reg, host) }
	return push(ctx, p.Playbook.Name, hosts, render, open, o)
}

// push runs every host through pushDevice; render gives each host's
// desired config.
func push(ctx context.Context, name string, hosts []string, render func(host string) (plan.Device, error), open plan.Opener, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Settle == 0 {
		o.Settle = 3 * time.Second
	}
	results, sum, err := engine.Run(ctx, hosts, o.Engine, func(ctx context.Context, host string) engine.Result {
		d := pushDevice(ctx, render, open, o, host)
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
		if o.Journal != nil {
			o.Journal.End(ctx, d)
		}
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
			d = Device{Device: plan.Device{Host: r.Host, Status: r.Status}, Outcome: Failed, Phase: "not started"}
			if r.Status == engine.Skipped {
				d.Outcome, d.Error = "", "not started: "+sum.Aborted
			}
		}
		if r.Status != engine.Skipped {
			d.Batch = r.Batch
		}
		if d.Error != "" && r.Status != engine.Skipped {
			errs = append(errs, errors.New(d.Error))
		}
		rep.Devices = append(rep.Devices, d)
	}
	if sum.Aborted != "" {
		errs = append(errs, errors.New(sum.Aborted))
	}
	return rep, errors.Join(errs...)
}

func pushDevice(ctx context.Context, render func(host string) (plan.Device, error), open plan.Opener, o Options, host string) Device {
	pd, err := render(host)
	d := Device{Device: pd, Outcome: Failed, Phase: "render"}
	if err != nil {
		return d
	}
	fail := func(phase string, err error) Device {
		d.Phase, d.Error = phase, fmt.Sprintf("%s: %s: %v", host, phase, err)
		d.Status = plan.Classify(err)
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
	df := diff.Compute(before, d.Desired)
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
	if err := s.Apply(ctx, d.Desired, o.ConfirmWithin); err != nil {
		if errors.Is(err, drivers.ErrRejected) {
			return fail("apply", err) // refused before anything changed
		}
		d = fail("apply", err)
		d.Outcome = readBack(ctx, open, host, before, d.Desired, o)
		if d.Outcome == Indeterminate && !o.NoConfirm {
			// A dropped connection does not stop the command on the
			// device: it may have the change with its revert armed. Let
			// its own timer decide, then read it back.
			d.Outcome = waitRevert(ctx, open, host, before, &d, o)
		}
		return d
	}
	if o.NoConfirm {
		d.Outcome = Applied
		return d
	}
	// Confirm only over a fresh connection: an established session can
	// survive a policy that blocks every new one (RELIABILITY.md, A2).
	_ = o.enter(ctx, &d, "check") // past the change: the journal reports its own failures
	check, err := open(ctx, host)
	if err != nil {
		d = fail("check", fmt.Errorf("new management connection failed, device reverts by itself: %w", err))
		d.Outcome = waitRevert(ctx, open, host, before, &d, o)
		return d
	}
	defer check.Close()
	now, err := check.Fetch(ctx)
	if err == nil && now.String() != d.Desired.String() {
		err = fmt.Errorf("device config differs from the one just applied:\n%s", diff.Compute(now, d.Desired).Unified)
	}
	if err == nil && o.PostCheck != nil {
		err = o.PostCheck(ctx, host)
	}
	if err != nil {
		d = fail("check", err)
		if rerr := check.Rollback(ctx, before); rerr != nil {
			d.Error += fmt.Sprintf("; rollback: %v", rerr)
		}
		d.Outcome = readBack(ctx, open, host, before, d.Desired, o)
		return d
	}
	_ = o.enter(ctx, &d, "confirm")
	if err := check.Confirm(ctx); err != nil {
		d = fail("confirm", err)
		d.Outcome = waitRevert(ctx, open, host, before, &d, o)
		return d
	}
	d.Outcome = Confirmed
	return d
}

// waitRevert waits for the device's own revert timer, then reads it back.
// Asked to stop, it does not wait: the timer fires all the same, and the
// next run reconciles the indeterminate entry by reading the device.
func waitRevert(ctx context.Context, open plan.Opener, host string, before drivers.Config, d *Device, o Options) Outcome {
	select {
	case <-time.After(o.ConfirmWithin + o.Settle):
	case <-ctx.Done():
		return Indeterminate
	case <-o.Engine.Stop:
		d.Error += "; the run was asked to stop: did not wait for its revert timer, which fires by itself"
		return Indeterminate
	}
	return readBack(ctx, open, host, before, d.Desired, o)
}

// readBack establishes the outcome from the device itself.
func readBack(ctx context.Context, open plan.Opener, host string, before, desired drivers.Config, o Options) Outcome {
	s, err := open(ctx, host)
	if err != nil {
		return Indeterminate
	}
	defer s.Close()
	now, err := s.Fetch(ctx)
	switch {
	case err != nil:
		return Indeterminate
	case now.String() == before.String():
		return RolledBack
	case now.String() == desired.String() && o.NoConfirm:
		return Applied
	}
	return Indeterminate
}
