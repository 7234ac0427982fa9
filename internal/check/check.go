// Package check is the read-only compliance check: it reads each selected
// device (plan.Fetch: no lock taken, nothing armed) and says whether the
// device still has the policy, and if not, how it drifted: fwpush's part
// changed by hand (what it now permits or no longer permits), fwpush's
// part missing, or rules outside fwpush's part that can block the policy;
// a device that cannot be judged (unreachable, mid-change under another
// run's trial, failed) is an error, named.
package check

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
)

// Status is a device's verdict.
type Status string

// Statuses, in increasing gravity.
const (
	Compliant Status = "compliant"
	Drift     Status = "drift"
	Error     Status = "error"
)

// Kind classifies one finding.
type Kind string

// Kinds of drift, then kinds of error.
const (
	// Modified: fwpush's part of the device was changed by hand.
	Modified Kind = "modified"
	// Missing: the device has no fwpush part at all.
	Missing Kind = "missing"
	// Foreign: rules outside fwpush's part can block what the policy
	// permits.
	Foreign Kind = "foreign"
	// Unreachable: the device could not be reached.
	Unreachable Kind = "unreachable"
	// Locked: another run's trial holds the device: it may be mid-change,
	// so it cannot be judged now.
	Locked Kind = "locked"
	// Failed: anything else that stopped the check (render, auth, read).
	Failed Kind = "failed"
)

// status is the verdict a finding of kind k implies.
func (k Kind) status() Status {
	switch k {
	case Modified, Missing, Foreign:
		return Drift
	}
	return Error
}

// Finding is one thing the check found on a device.
type Finding struct {
	Kind   Kind   `json:"kind"`
	Detail string `json:"detail"`
}

// Device is one device's check.
type Device struct {
	Host     string    `json:"host"`
	Platform string    `json:"platform"`
	Status   Status    `json:"status"`
	Findings []Finding `json:"findings,omitempty"`
	// Drift is what the device does that the policy does not, read from
	// the policy's side: newly_permitted are rules the device now has
	// beyond the policy, no_longer_permitted rules of the policy the
	// device lost. Set for Modified.
	Drift *diff.Summary `json:"drift,omitempty"`
	// Repair is the change a push would make (device → policy), as plan
	// shows it. Set whenever the owned part differs.
	Repair *diff.Diff `json:"repair,omitempty"`
	// Lock is the trial holding the device, when one does.
	Lock  *drivers.Trial `json:"lock,omitempty"`
	Error string         `json:"error,omitempty"`
	// Read is the device as plan.Fetch read it (desired and current
	// configs), for reports.
	Read plan.Device `json:"-"`
}

// Summary counts devices by status.
type Summary struct {
	Total     int `json:"total"`
	Compliant int `json:"compliant"`
	Drift     int `json:"drift"`
	Error     int `json:"error"`
}

// Report is a whole check.
type Report struct {
	Playbook  string    `json:"playbook"`
	Inventory string    `json:"inventory"`
	Checked   time.Time `json:"checked"`
	Compliant bool      `json:"compliant"`
	Summary   Summary   `json:"summary"`
	Devices   []Device  `json:"devices"`
	Warnings  []string  `json:"warnings,omitempty"`
}

// Exit codes: what a scheduler or CI job acts on.
const (
	ExitCompliant = 0
	ExitError     = 1
	ExitDrift     = 2
)

// ExitCode is 0 when every device is compliant, 1 when any could not be
// checked (an error outranks drift: the unchecked device may drift too),
// else 2.
func (r *Report) ExitCode() int {
	switch {
	case r.Summary.Error > 0:
		return ExitError
	case r.Summary.Drift > 0:
		return ExitDrift
	}
	return ExitCompliant
}

// Err names the devices that could not be checked and why (nil when
// every device was judged).
func (r *Report) Err() error {
	var parts []string
	for _, d := range r.Devices {
		if d.Status != Error {
			continue
		}
		for _, f := range d.Findings {
			if f.Kind.status() == Error {
				parts = append(parts, fmt.Sprintf("%s (%s)", d.Host, f.Kind))
				break
			}
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d devices could not be checked: %s", len(parts), r.Summary.Total, strings.Join(parts, ", "))
}

// Repairable lists the hosts whose own part drifted (modified or
// missing): what a re-push fixes. Foreign rules are not fwpush's to touch.
func (r *Report) Repairable() []string {
	var out []string
	for _, d := range r.Devices {
		for _, f := range d.Findings {
			if f.Kind == Modified || f.Kind == Missing {
				out = append(out, d.Host)
				break
			}
		}
	}
	return out
}

// Run checks the project's selected devices, eo bounding concurrency (its
// Observer sees compliant devices as unchanged, drifted ones as changed).
// It only reads: no lock in any store or on any device, nothing armed.
func Run(ctx context.Context, p *project.Project, open plan.Opener, eo engine.Options) (*Report, error) {
	hosts := make([]string, len(p.Selected))
	for i, h := range p.Selected {
		hosts[i] = h.Name
	}
	// Every device is read, whatever fails: a check does not stop early.
	eo.Serial, eo.Canary, eo.MaxFailPercentage = nil, 0, engine.NeverStop
	results, _, err := engine.Run(ctx, hosts, eo, func(ctx context.Context, host string) engine.Result {
		d := Classify(plan.Fetch(ctx, p, open, host), p.Registry)
		st := engine.Unchanged
		switch d.Status {
		case Drift:
			st = engine.Changed
		case Error:
			st = engine.Failed
			if d.Read.Status == engine.Unreachable {
				st = engine.Unreachable
			}
		}
		return engine.Result{Status: st, Error: d.Error, Detail: d}
	})
	if err != nil {
		return nil, err
	}
	rep := &Report{Playbook: p.Playbook.Name, Inventory: p.Inv.Dir, Checked: time.Now().UTC(), Warnings: p.Warnings}
	for _, r := range results {
		d, ok := r.Detail.(Device)
		if !ok { // never started: cancelled
			d = Device{Host: r.Host, Platform: p.Intents[r.Host].Platform, Status: Error,
				Findings: []Finding{{Failed, "not checked: " + stopped(ctx)}}, Error: r.Host + ": not checked: " + stopped(ctx)}
		}
		rep.add(d)
	}
	rep.Compliant = rep.Summary.Total == rep.Summary.Compliant
	return rep, ctx.Err()
}

func stopped(ctx context.Context) string {
	if err := context.Cause(ctx); err != nil {
		return err.Error()
	}
	return "the check was stopped"
}

func (r *Report) add(d Device) {
	r.Devices = append(r.Devices, d)
	r.Summary.Total++
	switch d.Status {
	case Compliant:
		r.Summary.Compliant++
	case Drift:
		r.Summary.Drift++
	default:
		r.Summary.Error++
	}
}

// Classify turns one device as plan.Fetch read it into its verdict; reg
// gives the platform's parser for the semantic summary of the drift.
func Classify(pd plan.Device, reg *drivers.Registry) Device {
	d := Device{Host: pd.Host, Platform: pd.Platform, Lock: pd.Lock, Error: pd.Error, Read: pd}
	add := func(k Kind, format string, args ...any) {
		d.Findings = append(d.Findings, Finding{Kind: k, Detail: fmt.Sprintf(format, args...)})
	}
	if pd.Lock != nil {
		add(Locked, "a trial is pending on the device: %s; it may be mid-change, so it is judged on the next check", pd.Lock)
	}
	if pd.Diff != nil && pd.Diff.Changed && pd.Current != nil {
		d.Repair = pd.Diff
		if pd.Diff.Summary.Created {
			add(Missing, "fwpush's part is missing from the device (never pushed, or removed by hand)")
		} else {
			drift := diff.Compute(pd.Desired, *pd.Current, plan.Parser(reg, pd.Platform)).Summary
			d.Drift = &drift
			add(Modified, "fwpush's part was changed on the device: %s", describe(drift))
		}
	}
	for _, w := range pd.Warnings {
		add(Foreign, "%s", w)
	}
	if pd.Error != "" {
		switch {
		case pd.Status == engine.Unreachable:
			add(Unreachable, "%s", pd.Error)
		default:
			add(Failed, "%s", pd.Error)
		}
	}
	sort.SliceStable(d.Findings, func(i, j int) bool { return order[d.Findings[i].Kind] < order[d.Findings[j].Kind] })
	d.Status = Compliant
	for _, f := range d.Findings {
		if s := f.Kind.status(); rank[s] > rank[d.Status] {
			d.Status = s
		}
	}
	return d
}

var (
	order = map[Kind]int{Unreachable: 0, Failed: 1, Locked: 2, Missing: 3, Modified: 4, Foreign: 5}
	rank  = map[Status]int{Compliant: 0, Drift: 1, Error: 2}
)

// describe says what a drift does, in words a ticket can carry.
func describe(s diff.Summary) string {
	var parts []string
	n := func(k int, one, many string) {
		if k == 1 {
			parts = append(parts, one)
		} else if k > 1 {
			parts = append(parts, fmt.Sprintf(many, k))
		}
	}
	n(len(s.Permitted), "1 rule permits what the policy does not", "%d rules permit what the policy does not")
	n(len(s.Unpermitted), "1 rule of the policy is gone (its traffic is no longer permitted)", "%d rules of the policy are gone (their traffic is no longer permitted)")
	n(len(s.Denied), "1 deny rule added", "%d deny rules added")
	n(len(s.Undenied), "1 deny rule of the policy removed", "%d deny rules of the policy removed")
	n(len(s.Sets), "1 address set changed", "%d address sets changed")
	switch {
	case s.Unparsed != "":
		parts = append(parts, "the text differs (no semantic summary: "+s.Unparsed+")")
	case s.Reordered:
		parts = append(parts, "the same rules in another order")
	case len(parts) == 0:
		parts = append(parts, "the text differs")
	}
	return strings.Join(parts, "; ")
}
