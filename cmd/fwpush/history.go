package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/report"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/internal/termsafe"
	"github.com/fwpush/fwpush/inventory"
)

func historyCmd(g *globals) *cobra.Command {
	var pf pushFlags
	var show string
	var last int
	var reconcile bool
	cmd := &cobra.Command{
		Use:   "history [HOST]",
		Short: "List recorded runs, one host's outcomes, or a run's stored diffs",
		Long: `history reads the run store (--state, $FWPUSH_STATE, else
$XDG_STATE_HOME/fwpush/runs.db). Without arguments it lists runs, newest
first; with HOST, that host's entry in every run; with --show RUN, the
run's stored plan and diff per device (RUN may be a unique prefix).
--reconcile -i INVENTORY reads the devices that killed runs left
unfinished and records what they ended with, without pushing anything.`,
		Example: `  fwpush history                         # recent runs
  fwpush history web-1                   # one host's outcomes
  fwpush history --show 20261201T2209    # a run's stored diffs (id or unique prefix)
  fwpush history --reconcile -i INV      # settle runs a killed controller left`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkFormat("text", "json", "html"); err != nil {
				return err
			}
			if g.format == "html" && reconcile {
				return fmt.Errorf("--format html shows the run list, one run (--show RUN [HOST]) or a host's history, not --reconcile")
			}
			if err := errors.Join(pf.check(), policy.CheckAtLeast("--last", last, 0)); err != nil {
				return err
			}
			// Only --reconcile writes; reading never opens the store for
			// writing, so a read-only store (file or file system) lists.
			open := g.readStore
			if reconcile {
				open = g.runStore
			}
			st, err := open()
			if err != nil {
				return err
			}
			host := ""
			if len(args) == 1 {
				host = args[0]
			}
			switch {
			case reconcile:
				return historyReconcile(cmd, g, st, &pf, host)
			case show != "":
				return historyShow(g, st, show, host)
			case host != "":
				return historyHost(g, st, host)
			}
			runs, err := st.Runs(last)
			if err != nil {
				return err
			}
			if g.format == "json" {
				if runs == nil {
					runs = []store.Summary{}
				}
				return g.json(runs)
			}
			if g.format == "html" {
				return report.HTML(g.out, report.FromHistory(st.Path(), runs, nil, nil, nil))
			}
			if len(runs) == 0 {
				fmt.Fprintf(g.out, "no runs recorded in %s\n", st.Path())
				return nil
			}
			tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tWHEN\tWHO\tKIND\tPLAYBOOK\tDEVICES\tCOMMAND")
			for _, r := range runs {
				devices := report.Counts(r.Counts)
				if r.Finished == nil {
					devices += " (run unfinished)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", termsafe.Line(r.ID), when(r.Started), termsafe.Line(r.Who), termsafe.Line(r.Kind),
					termsafe.Line(dash(r.Playbook)), termsafe.Line(devices), termsafe.Line(r.Command))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&show, "show", "", "print this run's stored plan and diffs (id or unique prefix)")
	f.IntVarP(&last, "last", "n", 50, "list at most this many runs (0: all)")
	f.BoolVar(&reconcile, "reconcile", false, "read devices left unfinished by killed runs and record their state (needs -i)")
	pf.register(f, false)
	g.addInputs(cmd, useInventory|useState, "text", "json", "html")
	return cmd
}

// hostRow is one run's entry for a host.
type hostRow struct {
	Run        string                `json:"run"`
	Kind       string                `json:"kind"`
	Started    time.Time             `json:"started"`
	Who        string                `json:"who"`
	Command    string                `json:"command"`
	Playbook   string                `json:"playbook,omitempty"`
	State      string                `json:"state"`
	Phase      string                `json:"phase"`
	Changed    bool                  `json:"changed"`
	Error      string                `json:"error,omitempty"`
	Reconciled *store.Reconciliation `json:"reconciled,omitempty"`
}

func historyHost(g *globals, st store.Backend, host string) error {
	es, err := st.HostEntries(host)
	if err != nil {
		return err
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.Run
	}
	runs, err := st.RunsByID(ids)
	if err != nil {
		return err
	}
	rows := []hostRow{}
	for i := len(es) - 1; i >= 0; i-- {
		e, r := es[i], runs[es[i].Run]
		rows = append(rows, hostRow{Run: e.Run, Kind: r.Kind, Started: r.Started, Who: r.Who, Command: r.Command,
			Playbook: r.Playbook, State: e.State(), Phase: e.Phase, Changed: e.Diff != nil && e.Diff.Changed,
			Error: e.Error, Reconciled: e.Reconciled})
	}
	if g.format == "json" {
		return g.json(rows)
	}
	if g.format == "html" {
		return report.HTML(g.out, report.FromHostHistory(st.Path(), host, es, runs, nil))
	}
	if len(rows) == 0 {
		fmt.Fprintf(g.out, "no run recorded for %s\n", termsafe.Line(host))
		return nil
	}
	tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tWHEN\tWHO\tKIND\tPLAYBOOK\tOUTCOME\tPHASE\tCHANGE\tERROR")
	for _, r := range rows {
		change := "-"
		if r.Changed {
			change = "diff"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", termsafe.Line(r.Run), when(r.Started), termsafe.Line(r.Who),
			termsafe.Line(r.Kind), termsafe.Line(dash(r.Playbook)), termsafe.Line(r.State), termsafe.Line(r.Phase), change,
			termsafe.Line(firstLine(r.Error)))
	}
	return tw.Flush()
}

// shown is a run with its entries, as --show prints it.
type shown struct {
	Run     store.Run     `json:"run"`
	Entries []store.Entry `json:"entries"`
}

func historyShow(g *globals, st store.Backend, id, host string) error {
	r, es, err := st.Run(id)
	if err != nil {
		return err
	}
	if host != "" {
		var keep []store.Entry
		for _, e := range es {
			if e.Host == host {
				keep = append(keep, e)
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("run %s has no entry for %s", r.ID, host)
		}
		es = keep
	}
	if es == nil {
		es = []store.Entry{}
	}
	if g.format == "json" {
		return g.json(shown{Run: r, Entries: es})
	}
	if g.format == "html" {
		return report.HTML(g.out, report.FromHistory(st.Path(), nil, &r, es, nil))
	}
	printRun(g.out, r)
	for _, e := range es {
		fmt.Fprintf(g.out, "=== %s (%s): %s, phase %s\n", termsafe.Line(e.Host), termsafe.Line(dash(e.Platform)),
			termsafe.Line(e.State()), termsafe.Line(e.Phase))
		if e.Error != "" {
			fmt.Fprintf(g.out, "error: %s\n", termsafe.Line(e.Error))
		}
		if c := e.Reconciled; c != nil {
			fmt.Fprintf(g.out, "reconciled by run %s: %s (%s)\n", termsafe.Line(c.By), termsafe.Line(c.Result), termsafe.Line(c.Detail))
		}
		switch {
		case e.Diff == nil:
			fmt.Fprintln(g.out, "(never read from the device: no diff)")
		case !e.Diff.Changed:
			fmt.Fprintln(g.out, "(no changes)")
		default:
			fmt.Fprint(g.out, termsafe.Text(e.Diff.Unified))
			if !strings.HasSuffix(e.Diff.Unified, "\n") {
				fmt.Fprintln(g.out)
			}
		}
	}
	return nil
}

func printRun(w io.Writer, r store.Run) {
	line := termsafe.Line
	fmt.Fprintf(w, "run %s (%s) by %s, pid %d, started %s", line(r.ID), line(r.Kind), line(r.Who), r.PID, when(r.Started))
	if r.Finished != nil {
		fmt.Fprintf(w, ", finished %s\n", when(*r.Finished))
	} else {
		fmt.Fprintln(w, ", never finished")
	}
	fmt.Fprintf(w, "command: %s\n", line(r.Command))
	if r.PlaybookFile != "" {
		fmt.Fprintf(w, "playbook: %s (%s, sha256 %s)\n", line(r.Playbook), line(r.PlaybookFile), line(r.PlaybookSHA256))
	}
	if r.Inventory != "" {
		fmt.Fprintf(w, "inventory: %s (sha256 %s)\n", line(r.Inventory), line(r.InventorySHA256))
	}
	hosts := make([]string, 0, len(r.Restores))
	for h := range r.Restores {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		fmt.Fprintf(w, "restores: %s to its config from before run %s\n", line(h), line(r.Restores[h]))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", line(r.Error))
	}
}

func historyReconcile(cmd *cobra.Command, g *globals, st store.Backend, pf *pushFlags, host string) error {
	if g.inventory == "" {
		return fmt.Errorf("--reconcile needs the inventory to reach devices: pass -i PATH")
	}
	reg := all.Registry()
	inv, err := interruptible(cmd.Context(), func() (*inventory.Inventory, error) {
		return inventory.Load(g.inventory, inventory.WithPlatforms(reg))
	})
	if err != nil {
		return err
	}
	g.scrub(inv)
	hosts := inv.Select(nil)
	if h := inv.Hosts[host]; h != nil {
		hosts = []*inventory.Host{h}
	}
	if err := g.secrets(cmd.Context(), hosts); err != nil {
		return err
	}
	run, err := journal.NewRun("reconcile", g.command(), "", g.inventory)
	if err != nil {
		return err
	}
	res, rerr := journal.ReconcileInventory(cmd.Context(), st, run, inv, g.opener(reg, inv, pf.transport()), host, pf.engine(policy.Push{}))
	switch {
	case res == nil && rerr == nil:
		if g.format == "json" {
			return g.json(&journal.Result{})
		}
		fmt.Fprintln(g.out, "nothing to reconcile")
		return nil
	case res != nil && g.format == "json":
		if err := g.json(res); err != nil {
			return err
		}
	case res != nil:
		printJournal(g.out, res)
		fmt.Fprintf(g.out, "%d reconciled\n", len(res.Reconciled))
	}
	if rerr != nil {
		return &exitErr{code: exitError, err: rerr}
	}
	return nil
}

func when(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
