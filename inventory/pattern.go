package inventory

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// Ansible host patterns, evaluated as Ansible evaluates them (ansible-core
// 2.14, checked against the ansible CLI in pattern_oracle_test.go), so an
// Ansible user's --limit selects what it would select in ansible:
//
//	a,b  a:b      union (commas win: with a comma, ':' is no separator)
//	a:!b a,!b     all of a but b      (exclusions apply last)
//	a:&b a,&b     hosts in both       (intersections after the unions)
//	!b            every host but b    (no union given: "all")
//	all  *        every host
//	web-*  ~re    globs (fnmatch) and regular expressions (Go RE2,
//	              anchored at the start, as Python's re.match)
//
// A plain word is a host when a host has that name, else a group; a group
// selects its hosts and its child groups' hosts. The groups "all" (every
// host) and "ungrouped" (hosts in no group) always exist.
//
// fwpush is stricter than Ansible where Ansible would quietly do less than
// asked: a name that is neither a host nor a group, and a glob or
// regular expression that matches neither, is an error (Ansible warns and
// goes on, so a typo in "!sprout-22" would push to sprout-2); so are
// subscripts ("web[0]", which depend on the inventory file's order) and
// "@file".

// splitHostPattern splits an Ansible pattern into its single patterns: at
// commas when there is one, else at colons and whitespace, unless the
// whole pattern reads as one address (an IPv6 address, host:port).
func splitHostPattern(pattern string) []string {
	var parts []string
	switch {
	case strings.Contains(pattern, ","):
		parts = strings.Split(pattern, ",")
	case isAddress(pattern):
		parts = []string{pattern}
	default:
		parts = colonSplit.FindAllString(pattern, -1)
	}
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// colonSplit finds the pieces of a ':'-separated pattern: runs of anything
// but whitespace, ':' and brackets, or whole bracketed expressions.
var colonSplit = regexp.MustCompile(`(?:[^\s:\[\]]|\[[^\]]*\])+`)

// subscript is a pattern ending in an Ansible subscript: [3], [-1], [0:2].
var subscript = regexp.MustCompile(`^(.+)\[(?:-?[0-9]+|[0-9]+[:-][0-9]*)\]$`)

// selectPattern returns the hosts an Ansible pattern selects.
func (inv *Inventory) selectPattern(pattern string) (map[string]bool, error) {
	parts := splitHostPattern(pattern)
	if len(parts) == 0 {
		return nil, fmt.Errorf("empty host pattern %s", yamlsrc.Quote(pattern))
	}
	var regular, intersect, exclude []string
	for _, p := range parts {
		switch p[0] {
		case '!':
			exclude = append(exclude, p)
		case '&':
			intersect = append(intersect, p)
		default:
			regular = append(regular, p)
		}
	}
	if len(regular) == 0 {
		regular = []string{"all"}
	}
	sel := map[string]bool{}
	for _, p := range append(append(regular, intersect...), exclude...) {
		if _, ok := inv.Hosts[p]; ok {
			sel[p] = true // a plain host name is that host, before any group
			continue
		}
		name := strings.TrimLeft(p[:1], "!&") + p[1:]
		if selectorRE.MatchString(name) || dataRE.MatchString(name) {
			return nil, fmt.Errorf("%s: fwpush's selectors are operands of their own, not part of an Ansible pattern: join them with and, or, not ('web and platform:linux-nftables')", yamlsrc.Quote(name))
		}
		that, err := inv.matchOne(name)
		if err != nil {
			return nil, err
		}
		switch p[0] {
		case '!':
			for h := range that {
				delete(sel, h)
			}
		case '&':
			for h := range sel {
				if !that[h] {
					delete(sel, h)
				}
			}
		default:
			for h := range that {
				sel[h] = true
			}
		}
	}
	return sel, nil
}

// matchOne returns the hosts one single pattern (without its ! or &)
// matches: every host of each group whose name it matches, and the hosts
// whose names it matches when no group matched or it is a glob or regex.
func (inv *Inventory) matchOne(p string) (map[string]bool, error) {
	switch {
	case p == "":
		return nil, fmt.Errorf("empty pattern after '!' or '&'")
	case p[0] == '@':
		return nil, fmt.Errorf("%s: a limit file (@FILE) is not read by fwpush: name the hosts", yamlsrc.Quote(p))
	case p[0] != '~' && subscript.MatchString(p):
		return nil, fmt.Errorf("%s: subscripts select by position in an inventory file, which fwpush does not keep: name the hosts (or use a glob)", yamlsrc.Quote(p))
	}
	match, err := compileMatch(p)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	groupMatched := false
	for _, g := range inv.patternGroups() {
		if !match(g) {
			continue
		}
		groupMatched = true
		for _, h := range inv.groupHosts(g) {
			out[h.Name] = true
		}
	}
	hostMatched := false
	if !groupMatched || p[0] == '~' || strings.ContainsAny(p, ".?*[") {
		for _, n := range inv.Names() {
			if match(n) {
				hostMatched = true
				out[n] = true
			}
		}
	}
	if !groupMatched && !hostMatched {
		if p[0] == '~' || strings.ContainsAny(p, "?*[") {
			return nil, fmt.Errorf("%s matches no host or group", yamlsrc.Quote(p))
		}
		return nil, fmt.Errorf("no host or group %s", yamlsrc.Quote(p))
	}
	return out, nil
}

// patternGroups are the group names a pattern can match: the inventory's
// groups and Ansible's two implicit ones.
func (inv *Inventory) patternGroups() []string {
	gs := sortedKeys(inv.Groups)
	for _, implicit := range []string{"all", "ungrouped"} {
		if _, ok := inv.Groups[implicit]; !ok {
			gs = append(gs, implicit)
		}
	}
	return gs
}

// groupHosts are the hosts of group g, with Ansible's meaning of "all"
// (every host) and "ungrouped" (the hosts in no group, and those of a
// group so named).
func (inv *Inventory) groupHosts(g string) []*Host {
	switch g {
	case "all":
		return inv.Select(nil)
	case "ungrouped":
		return inv.Select(func(h *Host) bool { return len(h.Roles) == 0 || h.HasRole("ungrouped") })
	}
	return inv.HostsWithRole(g)
}

// compileMatch returns the matcher of a single pattern: a regular
// expression after '~' (matched at the start of a name, as Python's
// re.match), else an fnmatch glob matched against the whole name.
func compileMatch(p string) (func(string) bool, error) {
	if p[0] == '~' {
		re, err := regexp.Compile(`^(?:` + p[1:] + `)`)
		if err != nil {
			return nil, fmt.Errorf("%s: bad regular expression (fwpush reads Go's RE2 syntax, which has no lookaround or backreferences): %v", yamlsrc.Quote(p), err)
		}
		return re.MatchString, nil
	}
	if !strings.ContainsAny(p, "?*[") {
		return func(s string) bool { return s == p }, nil
	}
	g := parseGlob(p)
	return g.match, nil
}

// glob is an fnmatch pattern: '*' any run, '?' one character, "[...]" a
// set ("[!...]" its complement; a '[' with no closing ']' is literal).
// There is no escape character, as in Python's fnmatch.
type glob []globItem

type globItem struct {
	kind   byte // '*', '?', '[' or 0 for a literal
	lit    rune
	negate bool
	ranges [][2]rune
}

func parseGlob(p string) glob {
	rs := []rune(p)
	var g glob
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '*':
			if len(g) == 0 || g[len(g)-1].kind != '*' {
				g = append(g, globItem{kind: '*'})
			}
		case '?':
			g = append(g, globItem{kind: '?'})
		case '[':
			j := i + 1
			if j < len(rs) && rs[j] == '!' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				g = append(g, globItem{lit: '['})
				continue
			}
			item := globItem{kind: '['}
			body := rs[i+1 : j]
			if len(body) > 0 && body[0] == '!' {
				item.negate, body = true, body[1:]
			}
			for k := 0; k < len(body); k++ {
				lo, hi := body[k], body[k]
				if k+2 < len(body) && body[k+1] == '-' {
					hi = body[k+2]
					k += 2
				}
				if lo <= hi {
					item.ranges = append(item.ranges, [2]rune{lo, hi})
				}
			}
			g = append(g, item)
			i = j
		default:
			g = append(g, globItem{lit: c})
		}
	}
	return g
}

// match reports whether the whole of s matches, backtracking only to the
// last '*' (linear for patterns without stars, quadratic at worst).
func (g glob) match(s string) bool {
	rs := []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(rs) {
		if pi < len(g) {
			it := g[pi]
			switch {
			case it.kind == '*':
				star, mark = pi, si
				pi++
				continue
			case it.one(rs[si]):
				pi++
				si++
				continue
			}
		}
		if star < 0 {
			return false
		}
		pi, mark = star+1, mark+1
		si = mark
	}
	for pi < len(g) && g[pi].kind == '*' {
		pi++
	}
	return pi == len(g)
}

// one reports whether a non-star item matches the character r.
func (it globItem) one(r rune) bool {
	switch it.kind {
	case '?':
		return true
	case '[':
		in := false
		for _, rg := range it.ranges {
			if r >= rg[0] && r <= rg[1] {
				in = true
				break
			}
		}
		return in != it.negate
	case '*':
		return false
	}
	return r == it.lit
}
