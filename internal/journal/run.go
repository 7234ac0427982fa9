package journal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/inventory"
)

// Result is a recorded push: apply's report plus the run id and what was
// found on devices earlier runs left unfinished.
type Result struct {
	Run string `json:"run"`
	*apply.Report
	Reconciled []store.Reconciliation `json:"reconciled,omitempty"`
	// Warnings: stale locks broken, devices that could not be reconciled.
	Warnings []string `json:"warnings,omitempty"`
	// Restores are the snapshots a rollback restored.
	Restores []Target `json:"restores,omitempty"`
	// WaveRollback is the run that undid the failed wave of this apply
	// (apply --rollback-wave-on-failure).
	WaveRollback *Result `json:"wave_rollback,omitempty"`
	// Unrecorded are the journal writes that failed (a full disk, a
	// store gone read-only): the devices are as the report says, but the
	// run store does not hold the whole run. The error returned with the
	// Result includes them.
	Unrecorded []string `json:"unrecorded,omitempty"`
}

// NewRun describes a run of this process: kind, command line, and the
// playbook file and inventory it read (either may be empty),
// identified by absolute path and SHA-256. Their content is never stored.
func NewRun(kind, command, playbookFile, inventoryDir string) (store.Run, error) {
	r := store.NewRun(kind, command)
	var err error
	if playbookFile != "" {
		if r.PlaybookFile, err = filepath.Abs(playbookFile); err != nil {
			return r, err
		}
		if r.PlaybookSHA256, err = project.Digest(filepath.Dir(playbookFile), filepath.Base(playbookFile)); err != nil {
			return r, err
		}
	}
	if inventoryDir != "" {
		if r.Inventory, err = filepath.Abs(inventoryDir); err != nil {
			return r, err
		}
		if r.InventorySHA256, err = project.InventoryDigest(inventoryDir); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Apply records run and pushes the project through apply.Push (reviewed:
// the approved plan, or nil to push what a fresh read shows), journaling
// every device. The error joins the push's and the journal's.
func Apply(ctx context.Context, st store.Backend, run store.Run, p *project.Project, reviewed *plan.Plan, open plan.Opener, o apply.Options) (*Result, error) {
	run.Playbook = p.Playbook.Name
	if err := o.Validate(); err != nil {
		return nil, err // before the run is recorded: nothing was pushed
	}
	rec, err := Start(st, run, open)
	if err != nil {
		return nil, err
	}
	rep, err := apply.Push(ctx, p, reviewed, open, rec.Attach(o))
	return rec.result(rep, err)
}

// Rollback records run and pushes each target's snapshot, commit-confirmed,
// through apply.RunConfigs.
func Rollback(ctx context.Context, st store.Backend, run store.Run, targets []Target, open plan.Opener, o apply.Options) (*Result, error) {
	run.Restores = map[string]string{}
	desired := map[string]drivers.Config{}
	for _, t := range targets {
		run.Restores[t.Host] = t.Run
		desired[t.Host] = t.Config
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	rec, err := Start(st, run, open)
	if err != nil {
		return nil, err
	}
	rep, err := apply.RunConfigs(ctx, "rollback", desired, open, rec.Attach(o))
	res, err := rec.result(rep, err)
	if res != nil {
		res.Restores = targets
	}
	return res, err
}

// Reconcile settles the unfinished entries of hosts (of every host that
// has one when hosts is empty), each under its lock, recorded as run.
func Reconcile(ctx context.Context, st store.Backend, run store.Run, open plan.Opener, hosts []string, eo engine.Options) (*Result, error) {
	if len(hosts) == 0 {
		var err error
		if hosts, err = st.UnfinishedHosts(); err != nil {
			return nil, err
		}
	}
	rec, err := Start(st, run, open)
	if err != nil {
		return nil, err
	}
	_, _, err = engine.Run(ctx, hosts, eo, func(ctx context.Context, host string) engine.Result {
		if err := rec.lock(host); err != nil {
			rec.warn("%s: cannot reconcile: %v", host, err)
			return engine.Result{Status: engine.Failed, Error: err.Error()}
		}
		defer rec.unlock(host)
		rec.reconcileHost(ctx, host)
		return engine.Result{Status: engine.Unchanged}
	})
	return rec.result(nil, err)
}

// result finishes the run and assembles its Result.
func (r *Recorder) result(rep *apply.Report, pushErr error) (*Result, error) {
	jerr := r.Finish(pushErr)
	res := &Result{Run: r.run.ID, Report: rep, Reconciled: r.Reconciled(), Warnings: r.Warnings()}
	if jerr != nil {
		errs := unjoin(jerr)
		for _, e := range errs {
			res.Unrecorded = append(res.Unrecorded, e.Error())
		}
		// The list is in the Result; the devices' own errors already say
		// which of them a failed write stopped.
		jerr = fmt.Errorf("run %s is not fully recorded in the run store %s: %d journal writes failed, the first: %w",
			r.run.ID, r.st.Path(), len(errs), errs[0])
	}
	return res, errors.Join(pushErr, jerr)
}

// unjoin is the errors an errors.Join holds, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// ReconcileInventory settles what dead runs left on inventory hosts: on
// host, or, when host is empty, on every host that has an unfinished
// entry, recorded as run (only when there is something to settle: the
// Result is then nil). Hosts the inventory does not hold are named in the
// Warnings and left for a run that can reach them; the error names every
// host still unfinished afterwards.
func ReconcileInventory(ctx context.Context, st store.Backend, run store.Run, inv *inventory.Inventory, open plan.Opener, host string, eo engine.Options) (*Result, error) {
	var hosts []string
	if host != "" {
		hosts = []string{host}
	} else {
		var err error
		if hosts, err = st.UnfinishedHosts(); err != nil {
			return nil, err
		}
	}
	var missing, known []string
	for _, h := range hosts {
		if inv.Hosts[h] == nil {
			missing = append(missing, h)
		} else {
			known = append(known, h)
		}
	}
	if len(known) == 0 {
		if len(missing) > 0 {
			return nil, fmt.Errorf("unfinished entries for %s, not in inventory %s", strings.Join(missing, ", "), inv.Dir)
		}
		return nil, nil
	}
	res, err := Reconcile(ctx, st, run, open, known, eo)
	if res != nil {
		for _, h := range missing {
			res.Warnings = append(res.Warnings, h+": not in the inventory: not reconciled")
		}
	}
	if err != nil {
		return res, err
	}
	var left []string
	for _, h := range hosts {
		if es, err := store.Unfinished(st, h, ""); err != nil || len(es) > 0 {
			left = append(left, h)
		}
	}
	if len(left) > 0 {
		return res, fmt.Errorf("not reconciled: %s", strings.Join(left, ", "))
	}
	return res, nil
}
