package serve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/check"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
)

// Result is one run of a job.
type Result struct {
	Job      string
	Mode     Mode
	Started  time.Time
	Finished time.Time
	// Outcome: compliant, drift, repaired or error (see the runs metric).
	Outcome string
	Check   *check.Report
	// Push is the re-push of the drifted devices (repush mode, when any
	// drifted), as recorded in the run store.
	Push *journal.Result
	// Project is what the run loaded (nil when loading failed).
	Project *project.Project
	Err     error
}

// Outcomes of a run.
const (
	OutcomeCompliant = "compliant"
	OutcomeDrift     = "drift"
	OutcomeRepaired  = "repaired"
	OutcomeError     = "error"
)

// Success says whether the run ended without error: every device checked
// and, in repush mode, every drifted device confirmed.
func (r *Result) Success() bool { return r.Outcome != OutcomeError }

// execute runs a job once: load, check, and in repush mode push the
// devices whose own part drifted.
func (s *Server) execute(j Job) *Result {
	res := &Result{Job: j.Name, Mode: j.Mode, Started: time.Now().UTC()}
	defer func() { res.Finished = time.Now().UTC() }()
	deadline := time.Now().Add(j.Timeout)
	p, err := project.Load(project.Options{Inventory: j.Inventory, Playbook: j.Playbook, Limit: j.Limit})
	if err != nil {
		res.Outcome, res.Err = OutcomeError, fmt.Errorf("job %s: %w", j.Name, err)
		return res
	}
	res.Project = p
	open := s.opener(p)

	// Reads change nothing: a stop or the timeout cancels them at once.
	rctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-rctx.Done():
		}
	}()
	rep, err := check.Run(rctx, p, open, engine.Options{Forks: p.Playbook.Push.Forks})
	res.Check = rep
	if err != nil {
		res.Outcome, res.Err = OutcomeError, fmt.Errorf("job %s: check: %w", j.Name, err)
		return res
	}
	res.Outcome = OutcomeCompliant
	switch {
	case rep.Summary.Error > 0:
		res.Outcome, res.Err = OutcomeError, rep.Err()
	case rep.Summary.Drift > 0:
		res.Outcome = OutcomeDrift
	}
	if j.Mode != Repush || len(rep.Repairable()) == 0 {
		return res
	}
	select {
	case <-s.stopping:
		return res // nothing started: leave the drift to the next run
	default:
	}
	res.Push, err = s.repush(j, p, rep.Repairable(), open, deadline)
	if res.Push == nil || res.Push.Report == nil || len(res.Push.Unrecorded) > 0 || len(pushFailures(res.Push)) > 0 {
		res.Outcome, res.Err = OutcomeError, errors.Join(res.Err, err)
		return res
	}
	// Devices another controller held, or not started because of a stop,
	// are left drifted for the next run; that is not a failure.
	if res.Outcome == OutcomeDrift && repairedAll(res) {
		res.Outcome = OutcomeRepaired
	}
	return res
}

// repush pushes hosts (the devices whose own part drifted) through
// journal.Apply: the run is recorded and each device locked in the store,
// read again (preflight), guarded against cutting this controller's
// management, pushed commit-confirmed in the playbook's waves. Its
// context is never cancelled: a stop or the timeout only stops new
// devices from starting, and each device being changed finishes.
func (s *Server) repush(j Job, p *project.Project, hosts []string, open plan.Opener, deadline time.Time) (*journal.Result, error) {
	want := map[string]bool{}
	for _, h := range hosts {
		want[h] = true
	}
	sub := *p
	sub.Selected = nil
	for _, h := range p.Selected {
		if want[h.Name] {
			sub.Selected = append(sub.Selected, h)
		}
	}
	pp := p.Playbook.Push
	within := j.ConfirmTimeout
	if within == 0 {
		within = pp.ConfirmTimeout
	}
	if within == 0 {
		within = DefaultConfirmTimeout
	}
	eo := engine.Options{Forks: pp.Forks, Serial: pp.Serial, Canary: pp.Canary, MaxFailPercentage: engine.NeverStop,
		Stop: s.stopOrDeadline(deadline), Observer: durations{s.m, j.Name}}
	if pp.MaxFailPercentage != nil {
		eo.MaxFailPercentage = *pp.MaxFailPercentage
	}
	run, err := journal.NewRun("apply", fmt.Sprintf("fwpush serve (%s): job %s re-pushes %d drifted %s", s.cfg.File, j.Name, len(sub.Selected),
		map[bool]string{true: "device", false: "devices"}[len(sub.Selected) == 1]), j.Playbook, j.Inventory)
	if err != nil {
		return nil, err
	}
	o := apply.Options{ConfirmWithin: within, Engine: eo, Registry: p.Registry, PostCheck: s.o.PostCheck}
	return journal.ApplyWaves(context.Background(), s.o.Store, run, &sub, nil, open, o, pp.RollbackWaveOnFailure, nil)
}

// stopOrDeadline is closed by a stop or at the deadline, whichever first.
func (s *Server) stopOrDeadline(deadline time.Time) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case <-s.stopping:
		case <-t.C:
		}
		close(ch)
	}()
	return ch
}

// pushFailures are the re-pushed devices that failed: not confirmed, not
// found unchanged, not held by another controller, not left unstarted
// by a stop.
func pushFailures(pr *journal.Result) []string {
	var out []string
	for _, d := range pr.Devices {
		switch o := pushOutcome(d); o {
		case string(apply.Confirmed), string(apply.Unchanged), "locked", "skipped":
		default:
			out = append(out, d.Host+" ("+o+")")
		}
	}
	return out
}

// repairedAll says whether every drifted device is back on the policy:
// its own part confirmed (or found unchanged) and no foreign finding.
func repairedAll(res *Result) bool {
	if res.Push == nil || res.Push.Report == nil {
		return false
	}
	for _, d := range res.Push.Devices {
		if d.Outcome != apply.Confirmed && d.Outcome != apply.Unchanged {
			return false
		}
	}
	for _, d := range res.Check.Devices {
		for _, f := range d.Findings {
			if f.Kind == check.Foreign {
				return false
			}
		}
	}
	return true
}

// pushOutcome is a pushed device's outcome as the metrics count it: a
// device another controller held is locked, not failed.
func pushOutcome(d apply.Device) string {
	var le *store.LockedError
	if errors.As(d.Err, &le) {
		return "locked"
	}
	switch {
	case d.Status == engine.Skipped:
		return "skipped"
	case d.Outcome != "":
		return string(d.Outcome)
	}
	return string(apply.Failed)
}

// durations feeds the push duration histogram from the push's engine.
type durations struct {
	m   *metrics
	job string
}

func (d durations) Started(string) {}

func (d durations) Finished(r engine.Result) {
	if r.Status != engine.Skipped {
		d.m.pushSeconds.WithLabelValues(d.job).Observe(r.Duration.Seconds())
	}
}

// opener connects to a project's hosts.
func (s *Server) opener(p *project.Project) plan.Opener {
	if s.o.Open != nil {
		return s.o.Open(p)
	}
	return plan.DriverOpener(p.Registry, p.Inv, s.o.Transport, nil)
}
