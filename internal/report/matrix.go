package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// Endpoint is a row or column of the matrix: a role, a network or any.
type Endpoint struct {
	Name        string
	Kind        string // role, network, any
	Description string
	// Hosts is how many inventory hosts have the role (roles only).
	Hosts int
}

// Label is the endpoint as a header shows it.
func (e Endpoint) Label() string {
	switch e.Kind {
	case "role":
		return fmt.Sprintf("%s (role, %d %s)", e.Name, e.Hosts, plural(e.Hosts, "host", "hosts"))
	case "network":
		return e.Name + " (network)"
	}
	return "any (the whole world)"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Flow is one playbook flow as the report lists it.
type Flow struct {
	ID      int    // the flow's number (from 1, policy.Flow.ID); its anchor is flow-<ID>
	Name    string // the flow's name, if it has one
	Line    int    // source line
	From    []string
	To      []string
	Opens   []Open // services by name, then the flow's own ports
	Why     string
	Deny    bool
	Reject  bool // a deny that answers the sender
	Log     bool
	Feature string
	// Enabled is false when the flow's feature is switched off: it is
	// listed, not enforced.
	Enabled bool
}

// Anchor is the flow's id in the HTML report.
func (f Flow) Anchor() string { return fmt.Sprintf("flow-%d", f.ID) }

// MatrixCell is what one source may open to one destination.
type MatrixCell struct {
	Entries []CellEntry
}

// CellEntry is one flow's contribution to a cell.
type CellEntry struct {
	Open
	Flow int // the flow's number (from 1)
	Deny bool
	Why  string
}

// Matrix is the communication matrix: sources × destinations, each cell
// the services the enabled flows open between them.
type Matrix struct {
	Name  string
	Rows  []Endpoint     // sources
	Cols  []Endpoint     // destinations
	Grid  [][]MatrixCell // Grid[row][col]
	Flows []Flow         // every flow, enabled or not, in playbook order
}

// Cells counts the non-empty cells.
func (m *Matrix) Cells() int {
	n := 0
	for _, r := range m.Grid {
		for _, c := range r {
			if len(c.Entries) > 0 {
				n++
			}
		}
	}
	return n
}

// NewMatrix builds the matrix of a playbook over an inventory (which
// gives each role's host count and says which names are networks).
func NewMatrix(pb *policy.Playbook, inv *inventory.Inventory) *Matrix {
	m := &Matrix{Name: pb.Name}
	eps := map[string]Endpoint{}
	endpoint := func(name string) Endpoint {
		if e, ok := eps[name]; ok {
			return e
		}
		e := Endpoint{Name: name, Kind: "role"}
		switch {
		case name == policy.Any:
			e.Kind = "any"
		case inv != nil && inv.Networks[name] != nil:
			e.Kind, e.Description = "network", inv.Networks[name].Description
		default:
			e.Description = pb.Roles[name].Description
			if inv != nil {
				e.Hosts = len(inv.HostsWithRole(name))
			}
		}
		eps[name] = e
		return e
	}
	srcs, dsts := map[string]bool{}, map[string]bool{}
	for _, f := range pb.Flows {
		fl := Flow{ID: f.ID, Name: f.Name, Line: f.Line, From: f.From, To: f.To, Why: f.Why, Deny: f.Deny, Reject: f.Reject, Log: f.Log,
			Feature: f.Feature, Enabled: pb.Enabled(f), Opens: opens(pb, f)}
		m.Flows = append(m.Flows, fl)
		if !fl.Enabled {
			continue
		}
		for _, s := range f.From {
			srcs[s] = true
			endpoint(s)
		}
		for _, d := range f.To {
			dsts[d] = true
			endpoint(d)
		}
	}
	m.Rows, m.Cols = ordered(srcs, eps), ordered(dsts, eps)
	ri, ci := index(m.Rows), index(m.Cols)
	m.Grid = make([][]MatrixCell, len(m.Rows))
	for i := range m.Grid {
		m.Grid[i] = make([]MatrixCell, len(m.Cols))
	}
	for _, f := range m.Flows {
		if !f.Enabled {
			continue
		}
		for _, s := range f.From {
			for _, d := range f.To {
				c := &m.Grid[ri[s]][ci[d]]
				for _, o := range f.Opens {
					c.Entries = append(c.Entries, CellEntry{Open: o, Flow: f.ID, Deny: f.Deny, Why: f.Why})
				}
			}
		}
	}
	return m
}

// Open is one thing a flow opens: a named service (Ports lists its
// matches) or a port match the flow lists itself.
type Open struct {
	Label string
	Ports string
}

// opens lists what a flow opens: its services by name, then the ports it
// lists itself (a flow's Matches hold its services' matches first).
func opens(pb *policy.Playbook, f *policy.Flow) []Open {
	var out []Open
	n := 0
	for _, name := range f.Services {
		o := Open{Label: name}
		if svc := pb.Services[name]; svc != nil {
			n += len(svc.Matches)
			o.Ports = matches(svc.Matches)
		}
		out = append(out, o)
	}
	if n <= len(f.Matches) {
		for _, m := range f.Matches[n:] {
			out = append(out, Open{Label: m.String()})
		}
	}
	return out
}

func matches(ms []policy.Match) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}

// ordered sorts endpoints: roles, then networks, then any; by name.
func ordered(names map[string]bool, eps map[string]Endpoint) []Endpoint {
	out := make([]Endpoint, 0, len(names))
	for n := range names {
		out = append(out, eps[n])
	}
	rank := map[string]int{"role": 0, "network": 1, "any": 2}
	sort.Slice(out, func(i, j int) bool {
		if rank[out[i].Kind] != rank[out[j].Kind] {
			return rank[out[i].Kind] < rank[out[j].Kind]
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func index(eps []Endpoint) map[string]int {
	m := make(map[string]int, len(eps))
	for i, e := range eps {
		m[e.Name] = i
	}
	return m
}
