// Package plan computes what a push would change: per device, the desired
// config, and (live) the current one and their diff. A Plan is a value:
// sorted, JSON-tagged, printed by the CLI and consumed by apply.
package plan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/project"
)

// Plan is the dry run for a set of devices.
type Plan struct {
	Playbook  string   `json:"playbook"`
	Inventory string   `json:"inventory"`
	Offline   bool     `json:"offline"`
	Devices   []Device `json:"devices"`
}

// New is an empty plan of the project.
func New(p *project.Project) *Plan {
	return &Plan{Playbook: p.Playbook.Name, Inventory: p.Inv.Dir}
}

// Device is one device's part of the plan.
type Device struct {
	Host     string          `json:"host"`
	Platform string          `json:"platform"`
	Status   engine.Status   `json:"status,omitempty"`
	Rules    int             `json:"rules"`
	Desired  drivers.Config  `json:"desired"`
	Current  *drivers.Config `json:"current,omitempty"`
	Diff     *diff.Diff      `json:"diff,omitempty"`
	// BeforeDigest identifies Current (see Digest): apply refuses a
	// device whose config no longer matches the plan it was shown.
	BeforeDigest string `json:"before_sha256,omitempty"`
	// Origin is the address the device saw fwpush's connection come from,
	// when the session knows it; Lock the trial holding the device's lock.
	Origin string         `json:"origin,omitempty"`
	Lock   *drivers.Trial `json:"lock,omitempty"`
	// Warnings name rules outside fwpush's part that can undo the policy.
	Warnings []string `json:"warnings,omitempty"`
	// Validated: the device checked the change and would take it.
	Validated bool `json:"validated,omitempty"`
	// Notes say what the device's network ACLs filter and what they
	// leave alone: each denies only the rest of the traffic it protects,
	// and passes everything else.
	Notes []string `json:"notes,omitempty"`
	Error string   `json:"error,omitempty"`
	// Err is the error behind Error, kept so callers can test its kind
	// with errors.Is (a saved plan does not carry it).
	Err error `json:"-"`
}

// Offline renders every selected device without touching any. A device
// whose platform cannot render is reported in its entry and in the error;
// the others are still planned.
func Offline(p *project.Project) (*Plan, error) {
	pl := New(p)
	pl.Offline = true
	err := OfflineEach(p, func(d Device) error {
		pl.Devices = append(pl.Devices, d)
		return nil
	})
	return pl, err
}

// OfflineEach renders the selected devices one at a time, in name order,
// handing each to fn, so a 5,000-device plan never holds every config in
// memory. Render errors are collected; an error from fn stops the walk.
func OfflineEach(p *project.Project, fn func(Device) error) error {
	var errs []error
	for _, h := range p.Selected {
		d, err := Render(p, h.Name)
		if err != nil {
			errs = append(errs, err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// Render renders one device's desired config; on error the Device carries
// the message too.
func Render(p *project.Project, host string) (Device, error) {
	in := p.Intents[host]
	d := Device{Host: host, Platform: in.Platform}
	for _, f := range in.Filters {
		d.Rules += len(f.Rules)
		if f.Binding.Kind == intent.Interface {
			d.Notes = append(d.Notes, aclNote(f))
		}
	}
	drv, err := p.Registry.Get(in.Platform)
	if err == nil {
		d.Desired, err = drv.Render(in)
	}
	if err != nil {
		err = fmt.Errorf("%s: render: %w", host, err)
		d.Error, d.Err = err.Error(), err
		d.Status = engine.Failed
	}
	return d, err
}

// aclNote states a network ACL's default in words.
func aclNote(f *intent.Filter) string {
	what := "what goes to"
	if f.Binding.Direction == "in" {
		what = "what comes from"
	}
	return fmt.Sprintf("ACL %s (%s %s) filters %s %s: it permits the flows that cross it and their replies, denies the rest of that traffic, and passes all other traffic, which it does not protect",
		f.Name, f.Binding.Interface, f.Binding.Direction, what, strings.Join(f.Binding.Protects, ", "))
}
