// Package diff compares what a device has with what fwpush wants: a
// unified diff for review, and a semantic summary (what becomes
// permitted, what stops being permitted, which address sets change),
// computed from the rules the platform's driver reads back, so it knows
// no platform's syntax.
package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/fwpush/fwpush/drivers"
)

// Diff is the comparison of one device's current and desired config.
type Diff struct {
	Changed bool    `json:"changed"`
	Unified string  `json:"unified,omitempty"`
	Summary Summary `json:"summary"`
}

// Summary says what the change does, not how the text moves.
type Summary struct {
	// Permitted are permit rules added, Unpermitted permit rules removed;
	// Denied and Undenied the same for deny rules.
	Permitted   []string    `json:"newly_permitted,omitempty"`
	Unpermitted []string    `json:"no_longer_permitted,omitempty"`
	Denied      []string    `json:"newly_denied,omitempty"`
	Undenied    []string    `json:"no_longer_denied,omitempty"`
	Sets        []SetChange `json:"sets,omitempty"`
	// Reordered is set when the same rules and sets are only in another
	// order.
	Reordered bool `json:"reordered,omitempty"`
	// Created: the owned part did not exist on the device yet.
	Created bool `json:"created,omitempty"`
	// Unparsed says why there is no semantic summary (the platform has no
	// parser, or the device's text could not be read back).
	Unparsed string `json:"unparsed,omitempty"`
}

// SetChange is the elements added to and removed from one address set.
type SetChange struct {
	Name    string   `json:"name"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// Compute compares current and desired; p, the platform's driver when it
// can read its config back, gives the semantic summary.
func Compute(current, desired drivers.Config, p drivers.Parser) Diff {
	cur, des := current.String(), desired.String()
	d := Diff{Changed: cur != des}
	if !d.Changed {
		return d
	}
	d.Unified = udiff.Unified("device (current)", "fwpush (desired)", cur, des)
	d.Summary = summarize(current, desired, p)
	d.Summary.Created = empty(current)
	return d
}

// empty reports whether a config has no text in any part: fwpush's part
// does not exist on the device yet.
func empty(c drivers.Config) bool {
	for _, p := range c.Parts {
		if strings.TrimSpace(p.Text) != "" {
			return false
		}
	}
	return true
}

func summarize(cur, des drivers.Config, p drivers.Parser) Summary {
	if p == nil {
		return Summary{Unparsed: "this platform's driver cannot read its config back"}
	}
	a, err := p.Parse(cur)
	if err != nil {
		return Summary{Unparsed: fmt.Sprintf("current config: %v", err)}
	}
	b, err := p.Parse(des)
	if err != nil {
		return Summary{Unparsed: fmt.Sprintf("desired config: %v", err)}
	}
	var s Summary
	ca, cb := count(a), count(b)
	for _, k := range keys(cb) {
		for n := cb[k].n - ca[k].n; n > 0; n-- {
			switch cb[k].action {
			case drivers.PermitAction:
				s.Permitted = append(s.Permitted, cb[k].text)
			case drivers.DenyAction:
				s.Denied = append(s.Denied, cb[k].text)
			}
		}
	}
	for _, k := range keys(ca) {
		for n := ca[k].n - cb[k].n; n > 0; n-- {
			switch ca[k].action {
			case drivers.PermitAction:
				s.Unpermitted = append(s.Unpermitted, ca[k].text)
			case drivers.DenyAction:
				s.Undenied = append(s.Undenied, ca[k].text)
			}
		}
	}
	s.Sets = setChanges(a.Sets, b.Sets)
	// Rules that differ only in comments (flows renumbered or reworded)
	// change nothing; the same rules in another order are a reorder.
	s.Reordered = len(s.Permitted)+len(s.Unpermitted)+len(s.Denied)+len(s.Undenied)+len(s.Sets) == 0 &&
		!slices.Equal(matches(a), matches(b))
	return s
}

type counted struct {
	n      int
	text   string
	action drivers.Action
}

// matches lists the rules' filters and matches, in order.
func matches(rs drivers.Ruleset) []string {
	out := make([]string, len(rs.Rules))
	for i, r := range rs.Rules {
		out[i] = r.Filter + "\x00" + r.Match()
	}
	return out
}

// count keys each rule by its filter and match (its text without a
// comment): the same rule twice is counted twice.
func count(rs drivers.Ruleset) map[string]counted {
	m := map[string]counted{}
	for _, r := range rs.Rules {
		k := r.Filter + "\x00" + r.Match()
		c := m[k]
		c.n++
		c.text, c.action = r.Text, r.Action
		m[k] = c
	}
	return m
}

func setChanges(a, b map[string][]string) []SetChange {
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	var out []SetChange
	for _, n := range keys(names) {
		old, cur := toSet(a[n]), toSet(b[n])
		c := SetChange{Name: n}
		for e := range cur {
			if !old[e] {
				c.Added = append(c.Added, e)
			}
		}
		for e := range old {
			if !cur[e] {
				c.Removed = append(c.Removed, e)
			}
		}
		if len(c.Added)+len(c.Removed) > 0 {
			sort.Strings(c.Added)
			sort.Strings(c.Removed)
			out = append(out, c)
		}
	}
	return out
}

func toSet(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
