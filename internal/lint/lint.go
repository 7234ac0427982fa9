// Package lint finds what a playbook says that cannot be what its author
// means, against one inventory: roles with nothing in them, flows that can
// never match, flows that repeat an earlier one, and flows an earlier one
// hides. Nothing here changes what fwpush compiles; lint only reports.
package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/internal/endpoint"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// Kind names what a finding is about.
type Kind string

// Kinds of findings.
const (
	// EmptyRole: a declared role with no host and no network here.
	EmptyRole Kind = "empty-role"
	// NeverMatches: a flow side selects no address, so it compiles to
	// no rule.
	NeverMatches Kind = "never-matches"
	// Duplicate: the flow says what an earlier flow says, all of it.
	Duplicate Kind = "duplicate"
	// Redundant: an earlier flow with the same action already covers
	// all of the flow's traffic.
	Redundant Kind = "redundant"
	// Shadowed: an earlier flow with the other action decides all of
	// the flow's traffic first, so the flow never takes effect.
	Shadowed Kind = "shadowed"
)

// Finding is one thing lint reports, at its place in the playbook.
type Finding struct {
	Kind Kind `json:"kind"`
	// At is "file:line:col: field", as every fwpush message places it.
	At string `json:"at"`
	// Flow is the flow's number (from 1), 0 for a role; By the earlier
	// flow that duplicates, covers or shadows it.
	Flow    int    `json:"flow,omitempty"`
	By      int    `json:"by,omitempty"`
	Message string `json:"message"`
}

func (f Finding) String() string { return f.At + ": " + f.Message }

// Run lints pb against inv. Flows a feature switches off are left out, as
// compile leaves them out. A flow counts as covered only by one earlier
// flow: traffic several earlier flows cover between them is not found.
func Run(pb *policy.Playbook, inv *inventory.Inventory) []Finding {
	r := endpoint.New(pb, inv)
	var out []Finding
	at := func(path ...any) string {
		return strings.TrimSuffix(pb.Doc.Errorf(path, "").Error(), ": ")
	}
	roles := make([]string, 0, len(pb.Roles))
	for name := range pb.Roles {
		roles = append(roles, name)
	}
	sort.Strings(roles)
	for _, name := range roles {
		if len(inv.HostsWithRole(name)) == 0 && len(inv.NetworksWithRole(name)) == 0 {
			out = append(out, Finding{Kind: EmptyRole, At: at("roles", name),
				Message: fmt.Sprintf("role %q has no host and no network in inventory %s", name, inv.Dir)})
		}
	}
	type flow struct {
		f        *policy.Flow
		from, to *netipx.IPSet
	}
	var earlier []flow
	for _, f := range pb.Flows {
		if !pb.Enabled(f) {
			continue
		}
		cur := flow{f: f, from: r.Addresses(f.From), to: r.Addresses(f.To)}
		empty := false
		for _, side := range []struct {
			name    string
			entries []string
			set     *netipx.IPSet
		}{{"from", f.From, cur.from}, {"to", f.To, cur.to}} {
			if len(side.set.Prefixes()) == 0 {
				empty = true
				out = append(out, Finding{Kind: NeverMatches, At: at(f.Path(side.name)...), Flow: f.ID,
					Message: fmt.Sprintf("%s can never match: %s %v selects no address in inventory %s", f.Label(), side.name, side.entries, inv.Dir)})
			}
		}
		if empty {
			continue
		}
		for _, e := range earlier {
			if !covers(e.from, cur.from) || !covers(e.to, cur.to) || !matchesCover(e.f.Matches, f.Matches) {
				continue
			}
			fd := Finding{At: at(f.Path()...), Flow: f.ID, By: e.f.ID}
			switch {
			case e.f.Deny != f.Deny || e.f.Reject != f.Reject:
				fd.Kind = Shadowed
				fd.Message = fmt.Sprintf("%s never takes effect: %s (line %d) %s all of its traffic first", f.Label(), e.f.Label(), e.f.Line, verb(e.f))
			case covers(cur.from, e.from) && covers(cur.to, e.to) && matchesCover(f.Matches, e.f.Matches):
				fd.Kind = Duplicate
				fd.Message = fmt.Sprintf("%s repeats %s (line %d): same endpoints, same ports, same action", f.Label(), e.f.Label(), e.f.Line)
			default:
				fd.Kind = Redundant
				fd.Message = fmt.Sprintf("%s adds nothing: %s (line %d) already %s all of its traffic", f.Label(), e.f.Label(), e.f.Line, verb(e.f))
			}
			out = append(out, fd)
			break
		}
		earlier = append(earlier, cur)
	}
	return out
}

func verb(f *policy.Flow) string {
	switch {
	case f.Reject:
		return "rejects"
	case f.Deny:
		return "denies"
	}
	return "permits"
}

// covers says whether every address of b is in a.
func covers(a, b *netipx.IPSet) bool {
	for _, p := range b.Prefixes() {
		if !a.ContainsPrefix(p) {
			return false
		}
	}
	return true
}

// matchesCover says whether every packet one of bs matches, one of as
// matches too (each of bs within a single one of as).
func matchesCover(as, bs []policy.Match) bool {
	for _, b := range bs {
		if !slices.ContainsFunc(as, func(a policy.Match) bool { return matchCovers(a, b) }) {
			return false
		}
	}
	return true
}

func matchCovers(a, b policy.Match) bool {
	if a.Proto != b.Proto {
		return false
	}
	if len(a.Ports) > 0 {
		if len(b.Ports) == 0 {
			return false
		}
		// Adjacent ranges (80-81, 82-83) cover what spans them.
		aPorts := policy.MergePorts(a.Ports)
		for _, br := range b.Ports {
			if !slices.ContainsFunc(aPorts, func(ar policy.PortRange) bool { return ar.Lo <= br.Lo && br.Hi <= ar.Hi }) {
				return false
			}
		}
	}
	if len(a.ICMP) > 0 {
		if len(b.ICMP) == 0 {
			return false
		}
		for _, t := range b.ICMP {
			if !slices.Contains(a.ICMP, t) {
				return false
			}
		}
	}
	return true
}
