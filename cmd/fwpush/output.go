package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/report"
	"github.com/fwpush/fwpush/internal/termsafe"
	"github.com/fwpush/fwpush/internal/verify"
)

// row is one device in a summary table or a JUnit test case.
type row struct {
	host, platform string
	status         engine.Status
	outcome, phase string
	err            string
	diff           *diff.Diff
	warnings       []string
	notes          []string
}

func printWarnings(w io.Writer, rows []row) {
	for _, r := range rows {
		for _, m := range r.warnings {
			fmt.Fprintf(w, "warning: %s: %s\n", termsafe.Line(r.host), termsafe.Line(m))
		}
	}
}

func printTable(w io.Writer, rows []row, withOutcome bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if withOutcome {
		fmt.Fprintln(tw, "HOST\tPLATFORM\tSTATUS\tOUTCOME\tPHASE\tCHANGE\tERROR")
	} else {
		fmt.Fprintln(tw, "HOST\tPLATFORM\tSTATUS\tCHANGE\tERROR")
	}
	for _, r := range rows {
		change := "-"
		if r.diff != nil && r.diff.Changed {
			s := r.diff.Summary
			change = fmt.Sprintf("+%d/-%d permits", len(s.Permitted), len(s.Unpermitted))
			if n := len(s.Sets); n > 0 {
				change += fmt.Sprintf(", %d sets", n)
			}
			if s.Reordered {
				change = "reordered"
			}
		}
		e := termsafe.Line(firstLine(r.err))
		host, platform := termsafe.Line(r.host), termsafe.Line(r.platform)
		if withOutcome {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", host, platform, r.status, r.outcome, r.phase, change, e)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", host, platform, r.status, change, e)
		}
	}
	tw.Flush()
}

func printSummary(w io.Writer, sum engine.Summary) {
	var parts []string
	for _, st := range []engine.Status{engine.Changed, engine.Unchanged, engine.Failed, engine.Unreachable, engine.Skipped} {
		if n := sum.Counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	fmt.Fprintf(w, "%d devices: %s\n", sum.Total, strings.Join(parts, ", "))
	if sum.Aborted != "" {
		fmt.Fprintf(w, "stopped: %s\n", termsafe.Line(sum.Aborted))
	}
}

// printDiffs prints each changed device's semantic summary and, with
// unified, its unified diff.
func printDiffs(w io.Writer, rows []row, unified bool) {
	for _, r := range rows {
		if r.diff == nil || !r.diff.Changed {
			continue
		}
		fmt.Fprintf(w, "=== %s (%s)\n", termsafe.Line(r.host), termsafe.Line(r.platform))
		for _, n := range r.notes {
			fmt.Fprintf(w, "  note: %s\n", termsafe.Line(n))
		}
		s := r.diff.Summary
		if s.Created {
			fmt.Fprintln(w, "  (fwpush's table/chains do not exist yet on this device)")
		}
		for _, l := range s.Permitted {
			fmt.Fprintf(w, "  + permit  %s\n", termsafe.Line(l))
		}
		for _, l := range s.Unpermitted {
			fmt.Fprintf(w, "  - permit  %s\n", termsafe.Line(l))
		}
		for _, l := range s.Denied {
			fmt.Fprintf(w, "  + deny    %s\n", termsafe.Line(l))
		}
		for _, l := range s.Undenied {
			fmt.Fprintf(w, "  - deny    %s\n", termsafe.Line(l))
		}
		for _, c := range s.Sets {
			fmt.Fprintf(w, "  ~ set %s: +%s -%s\n", termsafe.Line(c.Name), termsafe.Line(fmt.Sprint(c.Added)), termsafe.Line(fmt.Sprint(c.Removed)))
		}
		if s.Reordered {
			fmt.Fprintln(w, "  ~ same rules, new order")
		}
		if unified {
			fmt.Fprintln(w, termsafe.Text(r.diff.Unified))
		}
	}
}

// writeJUnit emits one test case per device: failed and unreachable
// devices are failures, skipped ones skipped; diffs go to system-out.
func writeJUnit(w io.Writer, suite string, rows []row, elapsed time.Duration) error {
	s := report.NewJUnitSuite(suite, elapsed)
	sort.Slice(rows, func(i, j int) bool { return rows[i].host < rows[j].host })
	for _, r := range rows {
		c := report.JUnitCase{Name: r.host, Classname: "fwpush." + r.platform}
		if r.diff != nil && r.diff.Changed {
			c.SystemOut = r.diff.Unified
		}
		switch r.status {
		case engine.Failed, engine.Unreachable:
			c.Failure = &report.JUnitMessage{Message: string(r.status) + ": " + firstLine(r.err), Text: r.err}
		case engine.Skipped:
			c.Skipped = &report.JUnitMessage{Message: firstLine(r.err)}
		}
		s.Add(c)
	}
	return report.WriteJUnit(w, s)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// writeOfflineJUnit emits one test case per device rendered offline: a
// device whose config could not be rendered is a failure.
func writeOfflineJUnit(w io.Writer, suite string, devices []plan.Device, elapsed time.Duration) error {
	s := report.NewJUnitSuite(suite, elapsed)
	for _, d := range devices {
		c := report.JUnitCase{Name: d.Host, Classname: "fwpush." + d.Platform, SystemOut: fmt.Sprintf("%d rules", d.Rules)}
		if d.Error != "" {
			c.Failure = &report.JUnitMessage{Message: "render: " + firstLine(d.Error), Text: d.Error}
		}
		s.Add(c)
	}
	return report.WriteJUnit(w, s)
}

// writeVerifyJUnit emits one test case per probe: a probe whose result
// does not match the policy is a failure.
func writeVerifyJUnit(w io.Writer, suite string, rep *verify.Report, elapsed time.Duration) error {
	s := report.NewJUnitSuite(suite, elapsed)
	for _, r := range rep.Results {
		c := report.JUnitCase{Name: r.Probe.String(), Classname: "fwpush.verify." + r.From}
		if !r.Pass {
			msg := "got " + string(r.Got)
			if r.Note != "" {
				msg += " (" + r.Note + ")"
			}
			c.Failure = &report.JUnitMessage{Message: msg, Text: msg + ": " + r.Why}
		}
		s.Add(c)
	}
	return report.WriteJUnit(w, s)
}
