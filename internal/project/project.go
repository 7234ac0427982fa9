// Package project loads what every command starts from: an inventory, a
// playbook, the host selection and the compiled Intents.
package project

import (
	"errors"
	"fmt"
	"slices"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/compile"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/yamlsrc"
	"github.com/fwpush/fwpush/inventory"
)

// Options say where to load from.
type Options struct {
	Inventory string
	Playbook  string
	Limit     string
	// Features switch playbook features on (true) or off (false) over
	// its options.features (--feature, --no-feature).
	Features map[string]bool
	// Registry resolves platforms; nil means every driver fwpush ships.
	Registry *drivers.Registry
}

// Project is a validated, compiled playbook over an inventory.
type Project struct {
	// Options are what the project was loaded from.
	Options  Options
	Registry *drivers.Registry
	Inv      *inventory.Inventory
	Playbook *policy.Playbook
	// Selected are the hosts --limit keeps, sorted by name.
	Selected []*inventory.Host
	// Intents has every host of the inventory, so explain can follow a
	// packet through devices outside --limit.
	Intents map[string]*intent.Intent
	// Warnings are the inventory's then the playbook's, each
	// "file:line:col: field: message".
	Warnings []string
}

// Load reads, validates and compiles. Every problem of both files is
// reported at once; nothing here connects anywhere. When validation fails
// the error carries the warnings too (yamlsrc.Warnings reads them): a
// warning often explains an error.
func Load(o Options) (*Project, error) {
	if o.Inventory == "" {
		return nil, errors.New("no inventory: pass -i PATH")
	}
	if o.Playbook == "" {
		return nil, errors.New("no playbook: pass -p FILE")
	}
	if o.Registry == nil {
		o.Registry = all.Registry()
	}
	inv, ierr := inventory.Load(o.Inventory, inventory.WithPlatforms(o.Registry))
	pb, perr := policy.Load(o.Playbook)
	if perr == nil {
		perr = pb.SetFeatures(o.Features)
	}
	if err := errors.Join(ierr, perr); err != nil {
		return nil, err
	}
	warnings := append(append([]string(nil), inv.Warnings...), pb.Warnings...)
	// A bad --limit and a policy that does not compile are reported
	// together, like every other problem of the inputs.
	keep, lerr := inv.ParseLimit(o.Limit)
	intents, cerr := compile.Compile(pb, inv, nil, o.Registry)
	if cerr == nil {
		warnings = append(warnings, compile.Warnings(pb, inv, intents)...)
	}
	if err := yamlsrc.Fail(slices.DeleteFunc([]error{lerr, cerr}, func(e error) bool { return e == nil }), warnings); err != nil {
		return nil, err
	}
	p := &Project{Options: o, Registry: o.Registry, Inv: inv, Playbook: pb, Intents: intents, Selected: inv.Select(keep), Warnings: warnings}
	if len(p.Selected) == 0 {
		return nil, fmt.Errorf("--limit %q selects no host", o.Limit)
	}
	return p, nil
}
