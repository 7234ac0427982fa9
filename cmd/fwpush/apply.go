package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/report"
	"github.com/fwpush/fwpush/internal/verify"
)

// applyFlags are apply's own flags (pushFlags holds the connection and
// fleet ones).
type applyFlags struct {
	pf                                                              pushFlags
	yes, noConfirm, showDiff, rollbackWave, postVerify, outsideMgmt bool
	planFile                                                        string
	confirmTimeout, probeTimeout                                    time.Duration
}

func applyCmd(g *globals) *cobra.Command {
	var af applyFlags
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Push with commit-confirm: arm a device-side revert, apply, check over a new connection, confirm",
		Long: `apply fetches each device, diffs, and pushes the change atomically. Before
changing anything it arms a revert on the device itself that fires unless
fwpush confirms within --confirm-timeout; it confirms only after a NEW
management connection succeeds (and, with --verify, the probes that reach
the device see the policy), so a policy that locks fwpush out, or does not
work on the device, undoes itself. On a terminal it shows the plan and asks first (--yes skips that);
without a terminal it never waits for input.`,
		Example: `  fwpush apply -i INV -p PLAYBOOK                        # shows the plan, asks, pushes commit-confirmed
  fwpush apply --plan plan.json --yes                    # pushes exactly what plan --out saved
  fwpush apply -i INV -p PLAYBOOK --canary 1 --serial 25% --max-fail-percentage 0 --rollback-wave-on-failure
  fwpush apply -i INV -p PLAYBOOK --verify -v            # probe each device before confirming it`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runApply(cmd.Context(), g, &af) },
	}
	f := cmd.Flags()
	af.pf.register(f, true)
	g.addInputs(cmd, useInventory|usePlaybook|useLimit|useState, "text", "json", "junit", "html")
	f.BoolVarP(&af.yes, "yes", "y", false, "do not ask before pushing")
	f.StringVar(&af.planFile, "plan", "", "push exactly the plan saved by `fwpush plan --out FILE`; devices changed since are refused")
	f.BoolVar(&af.outsideMgmt, "outside-management", false, "skip the lock-out guard: push even when the new policy would not admit this controller's own address (for a controller that reaches devices through a path their policy does not filter)")
	f.BoolVar(&af.showDiff, "diff", false, "print each device's unified diff, not only its summary")
	f.DurationVar(&af.confirmTimeout, "confirm-timeout", 120*time.Second, "device reverts by itself unless confirmed within this time (10s to 1h)")
	f.BoolVar(&af.noConfirm, "no-confirm", false, "push without arming a device-side revert (dangerous; the only way to turn the revert off)")
	f.BoolVar(&af.postVerify, "verify", false, "before confirming a device, run the verify probes that reach it; a mismatch rolls it back")
	f.DurationVar(&af.probeTimeout, "probe-timeout", 2*time.Second, "with --verify: how long a probe waits before calling a port blocked (above 0)")
	f.BoolVar(&af.rollbackWave, "rollback-wave-on-failure", false, "when a wave passes --max-fail-percentage, also roll back that wave's confirmed devices")
	return cmd
}

// check validates every flag before anything is loaded, recorded or
// contacted.
func (af *applyFlags) check() error {
	if err := af.pf.check(); err != nil {
		return err
	}
	switch {
	case af.noConfirm && af.pf.given("confirm-timeout"):
		return fmt.Errorf("--no-confirm and --confirm-timeout contradict: --no-confirm arms no revert at all")
	case af.noConfirm && af.postVerify:
		return fmt.Errorf("--verify checks a device before confirming it: it needs commit-confirm (drop --no-confirm)")
	case af.pf.given("confirm-timeout"):
		if err := policy.CheckConfirmTimeout("--confirm-timeout", af.confirmTimeout); err != nil {
			return err
		}
	}
	if af.postVerify {
		return policy.CheckPositiveDuration("--probe-timeout", af.probeTimeout)
	}
	return nil
}

// options resolves the push options: flags first, then the playbook's
// push: section, then the defaults.
func (af *applyFlags) options(p *project.Project) (apply.Options, bool, error) {
	pp := p.Playbook.Push
	within := af.confirmTimeout
	if pp.ConfirmTimeout > 0 && !af.pf.given("confirm-timeout") {
		within = pp.ConfirmTimeout // checked when the playbook was parsed
	}
	if af.noConfirm {
		within = 0
	}
	rollbackWave := pp.RollbackWaveOnFailure
	if af.pf.given("rollback-wave-on-failure") {
		if err := policy.CheckRollbackWave("--rollback-wave-on-failure", "--max-fail-percentage (or the playbook's push.max_fail_percentage)",
			af.rollbackWave, af.pf.maxFailSet(pp)); err != nil {
			return apply.Options{}, false, err
		}
		rollbackWave = af.rollbackWave
	}
	o := apply.Options{ConfirmWithin: within, NoConfirm: af.noConfirm, Engine: af.pf.engine(pp), Registry: p.Registry,
		OutsideManagement: af.outsideMgmt}
	if af.postVerify {
		probes, err := verify.Generate(p, verify.Options{})
		if err != nil {
			return apply.Options{}, false, err
		}
		o.PostCheck = verify.PostCheck(probes, probeRunner(p, af.pf.transport()), af.probeTimeout)
	}
	return o, rollbackWave, nil
}

// runApply is `fwpush apply`: load, record, review (a saved plan, or the
// live one shown and asked on a terminal), push in waves, report.
func runApply(ctx context.Context, g *globals, af *applyFlags) error {
	if err := g.checkFormat("text", "json", "junit", "html"); err != nil {
		return err
	}
	if err := af.check(); err != nil {
		return err
	}
	g.warningsInJSON = true
	var saved *plan.File
	if af.planFile != "" {
		var err error
		if saved, err = plan.Load(af.planFile); err != nil {
			return err
		}
		g.fromPlan(saved.Inputs)
	}
	p, err := g.project(ctx)
	if err != nil {
		return err
	}
	if err := p.Inv.CheckPushable(); err != nil {
		return err // before anything is recorded or contacted
	}
	if err := g.secrets(ctx, p.Selected); err != nil {
		return err
	}
	var reviewed *plan.Plan
	if saved != nil {
		if err := saved.Check(p); err != nil {
			return err
		}
		reviewed = saved.Plan
	}
	o, rollbackWave, err := af.options(p)
	if err != nil {
		return err
	}
	st, err := g.runStore() // before any connection: no push goes unrecorded
	if err != nil {
		return err
	}
	run, err := journal.NewRun("apply", g.command(), g.playbook, g.inventory)
	if err != nil {
		return err
	}
	open := g.opener(p.Registry, p.Inv, af.pf.transport())
	if af.noConfirm {
		fmt.Fprintln(g.errOut, "WARNING: --no-confirm: no device-side revert is armed; a policy that locks fwpush out will STAY until fixed by hand")
	}
	if af.outsideMgmt {
		fmt.Fprintln(g.errOut, "WARNING: --outside-management: the lock-out guard is off; a policy that cuts this controller's management is pushed, and only each device's own revert undoes it")
	}
	if g.interactive(af.yes) && saved == nil {
		pl, stop, err := g.review(ctx, p, open, af.pf.engine(p.Playbook.Push))
		if stop || err != nil {
			return err
		}
		reviewed = pl // push what was shown: a device that changes meanwhile is refused
	}
	t0 := time.Now()
	prog := newProgress(g.errOut, len(p.Selected), "apply")
	o.Engine.Observer = prog
	var res *journal.Result
	var aerr error
	err = changeDevices(ctx, func(work context.Context, stop <-chan struct{}) error {
		o.Engine.Stop = stop
		res, aerr = journal.ApplyWaves(work, st, run, p, reviewed, open, o, rollbackWave, prog.done)
		return nil
	})
	if err != nil {
		return err // a signal came before the push started: nothing was done
	}
	if res == nil || res.Report == nil {
		return aerr
	}
	if err := printApply(g, p, res, af.showDiff, time.Since(t0)); err != nil {
		return err
	}
	if aerr != nil {
		return &exitErr{code: exitError, err: aerr}
	}
	return nil
}

// review shows the live plan on the terminal and asks; stop is set when
// there is nothing to push or the answer is no.
func (g *globals) review(ctx context.Context, p *project.Project, open plan.Opener, eo engine.Options) (pl *plan.Plan, stop bool, err error) {
	pl, _, perr := plan.Live(ctx, p, open, eo)
	if pl == nil {
		return nil, true, perr
	}
	rows := planRows(pl)
	printDiffs(g.humanOut(), rows, true)
	printTable(g.humanOut(), rows, false)
	if perr != nil {
		return nil, true, &exitErr{code: exitError, err: perr}
	}
	switch {
	case !pl.Changes() && g.format == "text":
		fmt.Fprintln(g.out, "no changes")
		return nil, true, nil
	case !pl.Changes():
		// Nothing to ask; stdout still gets its document, as without a
		// terminal.
		fmt.Fprintln(g.humanOut(), "no changes")
		return pl, false, nil
	}
	if err := g.ask(ctx, "push these changes?", "not pushed"); err != nil {
		return nil, true, err
	}
	return pl, false, nil
}

// printApply writes the run's report in the chosen format.
func printApply(g *globals, p *project.Project, res *journal.Result, showDiff bool, took time.Duration) error {
	rep := res.Report
	rows := applyRows(rep)
	switch g.format {
	case "json":
		// The run's own warnings (stale locks broken) follow the
		// inventory's and playbook's.
		res.Warnings = append(append([]string(nil), p.Warnings...), res.Warnings...)
		return g.json(res)
	case "html":
		printJournal(g.errOut, res)
		return report.HTML(g.out, report.FromApply(rep, res.Run, p))
	case "junit":
		printJournal(g.errOut, res)
		if wr := res.WaveRollback; wr != nil && wr.Report != nil {
			fmt.Fprintf(g.errOut, "rolled back the failed wave's confirmed devices as run %s:\n", wr.Run)
			printTable(g.errOut, applyRows(wr.Report), true)
		}
		return writeJUnit(g.out, "fwpush apply "+p.Playbook.Name, rows, took)
	}
	printJournal(g.out, res)
	printDiffs(g.out, rows, showDiff)
	printWarnings(g.out, rows)
	printTable(g.out, rows, true)
	printSummary(g.out, rep.Summary)
	printRecorded(g.out, res)
	if wr := res.WaveRollback; wr != nil && wr.Report != nil {
		fmt.Fprintf(g.out, "\nrolled back the failed wave's confirmed devices (--rollback-wave-on-failure):\n")
		printTable(g.out, applyRows(wr.Report), true)
		printRecorded(g.out, wr)
	}
	return nil
}

func applyRows(rep *apply.Report) []row {
	rows := make([]row, 0, len(rep.Devices))
	for _, d := range rep.Devices {
		rows = append(rows, row{host: d.Host, platform: d.Platform, status: d.Status, outcome: string(d.Outcome),
			phase: d.Phase, err: d.Error, diff: d.Diff, warnings: d.Warnings})
	}
	return rows
}
