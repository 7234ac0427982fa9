package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/internal/termsafe"
	"github.com/fwpush/fwpush/inventory"
)

// rollbackFlags are rollback's own flags (pushFlags holds the connection
// and fleet ones).
type rollbackFlags struct {
	pf             pushFlags
	to             string
	yes            bool
	confirmTimeout time.Duration
}

func rollbackCmd(g *globals) *cobra.Command {
	var rf rollbackFlags
	cmd := &cobra.Command{
		Use:   "rollback HOST...",
		Short: "Restore hosts to the config they had before a recorded run, commit-confirmed",
		Long: `rollback restores each HOST to the snapshot the run store holds from before
run --to (default: the latest run that changed the host; a rollback is such
a run, so rolling back twice undoes the first rollback). It is a push like
apply: a device-side revert is armed, the result is checked over a new
connection, then confirmed; and it is recorded as a run. The inventory is
-i, else the one the restored run used.`,
		Example: `  fwpush rollback web-1 web-2                 # undo the latest change on each
  fwpush rollback web-1 --to 20261201T2209    # back to the config from before that run
  fwpush rollback web-1 -i INV --yes`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, hosts []string) error { return runRollback(cmd.Context(), g, &rf, hosts) },
	}
	f := cmd.Flags()
	rf.pf.register(f, true)
	g.addInputs(cmd, useInventory|useState, "text", "json")
	f.StringVar(&rf.to, "to", "", "restore the config from before this run (id or unique prefix)")
	f.BoolVarP(&rf.yes, "yes", "y", false, "do not ask before rolling back")
	f.DurationVar(&rf.confirmTimeout, "confirm-timeout", 120*time.Second, "device reverts by itself unless confirmed within this time (10s to 1h)")
	return cmd
}

// runRollback is `fwpush rollback`: find each host's snapshot, load the
// inventory that reaches them, say what is restored (and ask), push it
// commit-confirmed as a run of its own, report.
func runRollback(ctx context.Context, g *globals, rf *rollbackFlags, hosts []string) error {
	if err := g.checkFormat("text", "json"); err != nil {
		return err
	}
	if err := errors.Join(rf.pf.check(), policy.CheckConfirmTimeout("--confirm-timeout", rf.confirmTimeout)); err != nil {
		return err
	}
	st, err := g.runStore()
	if err != nil {
		return err
	}
	targets, err := journal.Targets(st, hosts, rf.to)
	if err != nil {
		return err
	}
	invDir, inv, err := g.rollbackInventory(ctx, st, targets)
	if err != nil {
		return err
	}
	// What is restored is said before the question (on stderr when
	// stdout carries json), and always in text.
	if g.format == "text" || g.interactive(rf.yes) {
		for _, t := range targets {
			fmt.Fprintf(g.humanOut(), "restore %s to its config from before run %s (%s, %s)\n", termsafe.Line(t.Host), t.Run, when(t.When), termsafe.Line(t.Who))
		}
	}
	if g.interactive(rf.yes) {
		if err := g.ask(ctx, "roll back?", "not rolled back"); err != nil {
			return err
		}
	}
	run, err := journal.NewRun("rollback", g.command(), "", invDir)
	if err != nil {
		return err
	}
	// A rollback needs no playbook: only the inventory, to reach devices.
	reg := all.Registry()
	open := g.opener(reg, inv, rf.pf.transport())
	eo := rf.pf.engine(policy.Push{}) // no playbook: flags and defaults
	prog := newProgress(g.errOut, len(targets), "rollback")
	eo.Observer = prog
	var res *journal.Result
	var rerr error
	err = changeDevices(ctx, func(work context.Context, stop <-chan struct{}) error {
		eo.Stop = stop
		res, rerr = journal.Rollback(work, st, run, targets, open, apply.Options{ConfirmWithin: rf.confirmTimeout, Engine: eo, Registry: reg})
		prog.done()
		return nil
	})
	if err != nil {
		return err // a signal came first: nothing was done
	}
	if res == nil || res.Report == nil {
		return rerr
	}
	if g.format == "json" {
		if err := g.json(res); err != nil {
			return err
		}
	} else {
		printJournal(g.out, res)
		rows := applyRows(res.Report)
		printDiffs(g.out, rows, false)
		printTable(g.out, rows, true)
		printSummary(g.out, res.Summary)
		printRecorded(g.out, res)
	}
	if rerr != nil {
		return &exitErr{code: exitError, err: rerr}
	}
	return nil
}

// rollbackInventory loads -i, else the inventory the restored runs used,
// checks it reaches every target, and asks for unset secrets.
func (g *globals) rollbackInventory(ctx context.Context, st store.Backend, targets []journal.Target) (string, *inventory.Inventory, error) {
	invDir := g.inventory
	if invDir == "" {
		var err error
		if invDir, err = recordedInventory(st, targets); err != nil {
			return "", nil, err
		}
	}
	inv, err := interruptible(ctx, func() (*inventory.Inventory, error) {
		return inventory.Load(invDir, inventory.WithPlatforms(all.Registry()))
	})
	if err != nil {
		return "", nil, err
	}
	g.scrub(inv)
	if err := errors.Join(inv.CheckPushable(), journal.CheckTargets(inv, targets)); err != nil {
		return "", nil, err
	}
	var targetHosts []*inventory.Host
	for _, t := range targets {
		if h := inv.Hosts[t.Host]; h != nil {
			targetHosts = append(targetHosts, h)
		}
	}
	return invDir, inv, g.secrets(ctx, targetHosts)
}

// recordedInventory is the inventory directory the targets' runs used;
// they must agree.
func recordedInventory(st store.Backend, targets []journal.Target) (string, error) {
	ids := make([]string, len(targets))
	for i, t := range targets {
		ids[i] = t.Run
	}
	runs, err := st.RunsByID(ids)
	if err != nil {
		return "", err
	}
	dir := ""
	for _, t := range targets {
		d := runs[t.Run].Inventory
		switch {
		case d == "":
			return "", fmt.Errorf("run %s recorded no inventory: pass -i PATH", t.Run)
		case dir != "" && d != dir:
			return "", fmt.Errorf("the runs to restore used different inventories (%s, %s): pass -i PATH", dir, d)
		}
		dir = d
	}
	return dir, nil
}
