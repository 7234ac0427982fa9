package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/check"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
)

// Page is everything one HTML report shows. Sections without data (no
// matrix for a history, no runs for a check) are left out.
type Page struct {
	Title     string
	Subtitle  string
	Generated time.Time
	Stats     []Stat
	Devices   []Device
	Matrix    *Matrix
	Runs      []Run
	Warnings  []string
	// Links are extra navigation (the serve web UI), label → URL path.
	Links []Link
	// Tables are extra sections (the serve web UI's jobs and results),
	// shown after the summary.
	Tables []Table
}

// Table is a titled table of cells.
type Table struct {
	ID, Title, Note string
	Head            []string
	Rows            [][]Cell
}

// Cell is one table cell: text, linked when Href is set, a badge when
// Class is.
type Cell struct{ Text, Href, Class string }

// Link is a navigation entry.
type Link struct{ Label, Href string }

// Stat is one number of the summary.
type Stat struct {
	Label string
	N     int
	Class string // ok, warn, bad, info
}

// Device is one device's section.
type Device struct {
	Host, Platform string
	Status         string // compliant, drift, error, changed, unchanged, confirmed, …
	Class          string // ok, warn, bad, info
	Findings       []check.Finding
	// Semantic is the change or drift in words, one rule per line.
	Semantic []Semantic
	// Rows is the side-by-side diff of LeftTitle and RightTitle.
	Rows                  []SideRow
	LeftTitle, RightTitle string
	// Config is shown whole when there is nothing to diff (an offline
	// plan renders without reading any device).
	Config string
	Error  string
}

// Semantic is one line of a semantic summary.
type Semantic struct {
	Sign  string // +, -, ~
	Label string
	Rule  string
}

// Run is a recorded run as the history lists it.
type Run struct {
	ID, Kind, Who, Playbook, Command string
	Started                          time.Time
	Finished                         bool
	Counts                           string
	Href                             string // where its diffs are, when served
}

// context is how many unchanged lines surround a change in the diffs.
const context = 3

// FromCheck is the report of a compliance check: verdicts, each drifted
// device's drift (device against policy, side by side) and the matrix.
func FromCheck(rep *check.Report, p *project.Project) Page {
	pg := Page{Title: "fwpush check: " + rep.Playbook, Generated: rep.Checked,
		Subtitle: fmt.Sprintf("compliance of %d devices of inventory %s", rep.Summary.Total, rep.Inventory),
		Stats: []Stat{{"devices", rep.Summary.Total, "info"}, {"compliant", rep.Summary.Compliant, "ok"},
			{"drift", rep.Summary.Drift, "warn"}, {"error", rep.Summary.Error, "bad"}},
		Warnings: rep.Warnings}
	if p != nil {
		pg.Matrix = NewMatrix(p.Playbook, p.Inv)
	}
	for _, d := range rep.Devices {
		dv := Device{Host: d.Host, Platform: d.Platform, Status: string(d.Status), Class: ClassOf(string(d.Status)),
			Findings: d.Findings, LeftTitle: "device (now)", RightTitle: "policy (fwpush)"} // errors are findings
		if d.Drift != nil {
			dv.Semantic = semantic(*d.Drift, "permitted by hand, not by the policy", "no longer permitted (the policy permits it)",
				"denied by hand", "no longer denied (the policy denies it)")
		}
		if d.Read.Current != nil && d.Repair != nil {
			dv.Rows = SideBySide(d.Read.Current.String(), d.Read.Desired.String(), context)
		}
		pg.Devices = append(pg.Devices, dv)
	}
	return pg
}

// FromPlan is the report of a plan: live, each device's pending change
// side by side; offline, each device's rendered config.
func FromPlan(pl *plan.Plan, p *project.Project) Page {
	pg := Page{Title: "fwpush plan: " + pl.Playbook, Generated: time.Now().UTC(), Matrix: NewMatrix(p.Playbook, p.Inv),
		Warnings: p.Warnings}
	counts := map[string]int{}
	for _, d := range pl.Devices {
		counts[string(d.Status)]++
		pg.Devices = append(pg.Devices, planDevice(d))
	}
	if pl.Offline {
		pg.Subtitle = fmt.Sprintf("%d devices rendered offline from inventory %s; nothing was contacted", len(pl.Devices), pl.Inventory)
		pg.Stats = []Stat{{"devices", len(pl.Devices), "info"}, {"flows", len(p.Playbook.Flows), "info"}, {"failed", counts["failed"], "bad"}}
		return pg
	}
	pg.Subtitle = fmt.Sprintf("dry run of %d devices of inventory %s", len(pl.Devices), pl.Inventory)
	pg.Stats = []Stat{{"devices", len(pl.Devices), "info"}, {"changes pending", counts["changed"], "warn"},
		{"unchanged", counts["unchanged"], "ok"}, {"failed", counts["failed"] + counts["unreachable"], "bad"}}
	return pg
}

func planDevice(d plan.Device) Device {
	dv := Device{Host: d.Host, Platform: d.Platform, Status: string(d.Status), Class: ClassOf(string(d.Status)), Error: d.Error,
		LeftTitle: "device (now)", RightTitle: "policy (fwpush)"}
	for _, w := range d.Warnings {
		dv.Findings = append(dv.Findings, check.Finding{Kind: check.Foreign, Detail: w})
	}
	switch {
	case d.Current == nil && d.Error == "":
		dv.Config = d.Desired.String()
	case d.Diff != nil && d.Diff.Changed:
		dv.Semantic = semantic(d.Diff.Summary, "newly permitted", "no longer permitted", "newly denied", "no longer denied")
		dv.Rows = SideBySide(d.Current.String(), d.Desired.String(), context)
	}
	return dv
}

// FromApply is the report of a push: each device's outcome and the
// change it was pushed, side by side.
func FromApply(rep *apply.Report, run string, p *project.Project) Page {
	pg := Page{Title: "fwpush apply: " + rep.Playbook, Generated: time.Now().UTC(), Warnings: p.Warnings,
		Matrix: NewMatrix(p.Playbook, p.Inv)}
	pg.Subtitle = fmt.Sprintf("%d devices pushed commit-confirmed", len(rep.Devices))
	if run != "" {
		pg.Subtitle += ", recorded as run " + run
	}
	counts := map[string]int{}
	for _, d := range rep.Devices {
		counts[string(d.Outcome)]++
		dv := planDevice(d.Device)
		dv.Status, dv.Class = string(d.Outcome), ClassOf(string(d.Outcome))
		if d.Outcome == "" {
			dv.Status, dv.Class = string(d.Status), ClassOf(string(d.Status))
		}
		pg.Devices = append(pg.Devices, dv)
	}
	pg.Stats = []Stat{{"devices", len(rep.Devices), "info"}, {"confirmed", counts["confirmed"] + counts["applied"], "ok"},
		{"unchanged", counts["unchanged"], "ok"}, {"rolled back", counts["rolled-back"], "warn"},
		{"failed", counts["failed"] + counts["indeterminate"], "bad"}}
	return pg
}

// FromHistory is the report of the run store: the runs listed, and, when
// one is shown, its entries' stored diffs. href, when set, links each run
// to its page (the serve web UI).
func FromHistory(location string, runs []store.Summary, shown *store.Run, entries []store.Entry, href func(id string) string) Page {
	pg := Page{Title: "fwpush history", Generated: time.Now().UTC(), Subtitle: "runs recorded in " + location}
	for _, r := range runs {
		rv := Run{ID: r.ID, Kind: r.Kind, Who: r.Who, Playbook: r.Playbook, Command: r.Command, Started: r.Started,
			Finished: r.Finished != nil, Counts: Counts(r.Counts)}
		if href != nil {
			rv.Href = href(r.ID)
		}
		pg.Runs = append(pg.Runs, rv)
	}
	pg.Stats = []Stat{{"runs", len(runs), "info"}}
	if shown == nil {
		return pg
	}
	pg.Title = "fwpush run " + shown.ID
	pg.Subtitle = fmt.Sprintf("%s by %s, started %s: %s", shown.Kind, shown.Who, shown.Started.UTC().Format(time.RFC3339), shown.Command)
	states := map[string]int{}
	for _, e := range entries {
		states[e.State()]++
		pg.Devices = append(pg.Devices, entryDevice(e, e.Host))
	}
	pg.Stats = []Stat{{"devices", len(entries), "info"}, {"confirmed", states["confirmed"], "ok"}, {"failed", states["failed"], "bad"}}
	return pg
}

// FromHostHistory is one device's history: the runs that touched host,
// newest first, each with what it pushed there.
func FromHostHistory(location, host string, entries []store.Entry, runs map[string]store.Run, href func(id string) string) Page {
	pg := Page{Title: "fwpush history of " + host, Generated: time.Now().UTC(), Subtitle: "runs recorded in " + location}
	states := map[string]int{}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		states[e.State()]++
		r := runs[e.Run]
		rv := Run{ID: e.Run, Kind: r.Kind, Who: r.Who, Playbook: r.Playbook, Command: r.Command, Started: r.Started,
			Finished: r.Finished != nil, Counts: e.State()}
		if href != nil {
			rv.Href = href(e.Run)
		}
		pg.Runs = append(pg.Runs, rv)
		pg.Devices = append(pg.Devices, entryDevice(e, host+" in run "+e.Run))
	}
	pg.Stats = []Stat{{"runs", len(entries), "info"}, {"confirmed", states["confirmed"], "ok"}, {"failed", states["failed"], "bad"}}
	return pg
}

// entryDevice is a run's journal entry for one device, titled title.
func entryDevice(e store.Entry, title string) Device {
	dv := Device{Host: title, Platform: e.Platform, Status: e.State(), Class: ClassOf(e.State()), Error: e.Error,
		LeftTitle: "before the run", RightTitle: "pushed"}
	if e.Reconciled != nil {
		dv.Findings = append(dv.Findings, check.Finding{Kind: "reconciled", Detail: e.Reconciled.Detail + " (by run " + e.Reconciled.By + ")"})
	}
	if e.Diff != nil && e.Diff.Changed {
		dv.Semantic = semantic(e.Diff.Summary, "newly permitted", "no longer permitted", "newly denied", "no longer denied")
	}
	if e.Before != nil && e.Desired != nil {
		dv.Rows = SideBySide(cfgText(e.Before), cfgText(e.Desired), context)
	}
	return dv
}

func cfgText(c *drivers.Config) string { return c.String() }

// semantic lists a diff summary's rules under the four labels given.
func semantic(s diff.Summary, permitted, unpermitted, denied, undenied string) []Semantic {
	var out []Semantic
	add := func(sign, label string, rules []string) {
		for _, r := range rules {
			out = append(out, Semantic{sign, label, r})
		}
	}
	add("+", permitted, s.Permitted)
	add("-", unpermitted, s.Unpermitted)
	add("+", denied, s.Denied)
	add("-", undenied, s.Undenied)
	for _, c := range s.Sets {
		out = append(out, Semantic{"~", "set " + c.Name, fmt.Sprintf("added %s; removed %s", list(c.Added), list(c.Removed))})
	}
	if s.Reordered {
		out = append(out, Semantic{"~", "order", "the same rules in another order"})
	}
	if s.Unparsed != "" {
		out = append(out, Semantic{"~", "no semantic summary", s.Unparsed})
	}
	return out
}

// ClassOf maps any status or outcome to a colour class.
func ClassOf(status string) string {
	switch {
	case status == "compliant" || status == "unchanged" || status == "confirmed" || status == "applied":
		return "ok"
	case status == "drift" || status == "changed" || status == "rolled-back" || strings.HasPrefix(status, "reconciled:"):
		return "warn"
	case status == "skipped":
		return "info"
	}
	return "bad"
}

// Counts prints outcome counts, largest first ("-" for none), as history
// lists them.
func Counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return dash(strings.Join(parts, ", "))
}
