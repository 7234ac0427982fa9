// Package diff compares what a device has with what fwpush wants: a
// unified diff for review, and a semantic summary (what becomes permitted,
// what stops being permitted, which address sets change).
package diff

import (
	"regexp"
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
	// Permitted are accept rules added, Unpermitted accept rules removed;
	// Denied and Undenied the same for drop rules.
	Permitted   []string    `json:"newly_permitted,omitempty"`
	Unpermitted []string    `json:"no_longer_permitted,omitempty"`
	Denied      []string    `json:"newly_denied,omitempty"`
	Undenied    []string    `json:"no_longer_denied,omitempty"`
	Sets        []SetChange `json:"sets,omitempty"`
	// Reordered is set when the same rules and sets are only in another
	// order.
	Reordered bool `json:"reordered,omitempty"`
	// Created / Removed: the owned part did not exist / will be removed.
	Created bool `json:"created,omitempty"`
}

// SetChange is the elements added to and removed from one address set.
type SetChange struct {
	Name    string   `json:"name"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// Compute compares current and desired, part by part.
func Compute(current, desired drivers.Config) Diff {
	cur, des := current.String(), desired.String()
	d := Diff{Changed: cur != des}
	if !d.Changed {
		return d
	}
	d.Unified = udiff.Unified("device (current)", "fwpush (desired)", cur, des)
	d.Summary = summarize(current, desired)
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

var (
	setStart   = regexp.MustCompile(`^\s*set (\S+) \{`)
	chainStart = regexp.MustCompile(`^\s*chain (\S+) \{`)
	elemStart  = regexp.MustCompile(`elements = \{(.*)$`)
)

type parsed struct {
	rules map[string]int
	sets  map[string]map[string]bool
}

// parse extracts rule lines and set elements from nft or iptables text,
// into p. Each name is qualified with prefix; an nft rule also with its
// chain ("input: ..."), since the same rule in input and output are two
// different permits. iptables rules name their chain themselves.
func (p parsed) parse(prefix, text string) {
	var set, chain string
	inElems := false
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if m := chainStart.FindStringSubmatch(line); m != nil {
			chain = m[1] + ": "
			continue
		}
		if m := setStart.FindStringSubmatch(line); m != nil {
			set, inElems = prefix+m[1], false
			p.sets[set] = map[string]bool{}
			continue
		}
		if set != "" {
			if m := elemStart.FindStringSubmatch(t); m != nil {
				inElems, t = true, m[1]
			}
			if inElems {
				for _, e := range strings.Split(strings.TrimSuffix(strings.TrimSpace(t), "}"), ",") {
					if e = strings.TrimSpace(e); e != "" {
						p.sets[set][e] = true
					}
				}
				if strings.HasSuffix(t, "}") {
					inElems = false
				}
			}
			if t == "}" {
				set = ""
			}
			continue
		}
		if action(t) != "" {
			p.rules[prefix+chain+t]++
		}
	}
}

// parseAll parses every part of c; with more than one part (iptables and
// ip6tables) each name starts with its part's.
func parseAll(c drivers.Config) parsed {
	p := parsed{rules: map[string]int{}, sets: map[string]map[string]bool{}}
	for _, part := range c.Parts {
		prefix := ""
		if len(c.Parts) > 1 {
			prefix = part.Name + " "
		}
		p.parse(prefix, part.Text)
	}
	return p
}

// action classifies a rule line by its verdict.
func action(t string) string {
	switch {
	case strings.HasSuffix(t, " accept") || strings.Contains(t, " accept comment ") || strings.Contains(t, "-j ACCEPT"):
		return "accept"
	case strings.HasSuffix(t, " drop") || strings.Contains(t, " drop comment ") || strings.Contains(t, "-j DROP") ||
		strings.Contains(t, " reject") || strings.Contains(t, "-j REJECT"):
		return "drop"
	}
	return ""
}

func summarize(cur, des drivers.Config) Summary {
	a, b := parseAll(cur), parseAll(des)
	var s Summary
	for _, r := range keys(b.rules) {
		for n := b.rules[r] - a.rules[r]; n > 0; n-- {
			if action(r) == "accept" {
				s.Permitted = append(s.Permitted, r)
			} else {
				s.Denied = append(s.Denied, r)
			}
		}
	}
	for _, r := range keys(a.rules) {
		for n := a.rules[r] - b.rules[r]; n > 0; n-- {
			if action(r) == "accept" {
				s.Unpermitted = append(s.Unpermitted, r)
			} else {
				s.Undenied = append(s.Undenied, r)
			}
		}
	}
	names := map[string]bool{}
	for n := range a.sets {
		names[n] = true
	}
	for n := range b.sets {
		names[n] = true
	}
	for _, n := range keys(names) {
		c := SetChange{Name: n}
		for e := range b.sets[n] {
			if !a.sets[n][e] {
				c.Added = append(c.Added, e)
			}
		}
		for e := range a.sets[n] {
			if !b.sets[n][e] {
				c.Removed = append(c.Removed, e)
			}
		}
		if len(c.Added)+len(c.Removed) > 0 {
			sort.Strings(c.Added)
			sort.Strings(c.Removed)
			s.Sets = append(s.Sets, c)
		}
	}
	s.Reordered = len(s.Permitted)+len(s.Unpermitted)+len(s.Denied)+len(s.Undenied)+len(s.Sets) == 0
	return s
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
