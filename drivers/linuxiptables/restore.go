package linuxiptables

import (
	"regexp"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/drivers"
)

// managed lists every chain fwpush ever creates. RestoreInput declares all
// of them, so a chain the new config no longer has (FWPUSH-OUTPUT after
// egress filtering is turned off) is flushed rather than left behind.
var managed = []string{InputChain, OutputChain}

// RestoreInput returns what to feed `iptables-restore --noflush` (or
// ip6tables-restore) for one part. With --noflush, declaring a user chain
// creates it when missing and flushes it when present, and the whole table
// is committed as one transaction: every FWPUSH-* chain is replaced at
// once, while the builtin chains and everyone else's rules stay as they
// are. Chains the part lacks are declared empty; an empty chain behaves as
// absent (a jump to it returns) and Canonicalize omits it. An empty part
// therefore empties fwpush's chains.
func RestoreInput(part string) string {
	declared := map[string]bool{}
	var decls, rules []string
	for _, line := range strings.Split(part, "\n") {
		switch {
		case strings.HasPrefix(line, ":"):
			declared[chainName(line)] = true
			decls = append(decls, line)
		case strings.HasPrefix(line, "-A "):
			rules = append(rules, line)
		}
	}
	for _, c := range managed {
		if !declared[c] {
			decls = append(decls, ":"+c+" - [0:0]")
		}
	}
	sort.Slice(decls, func(i, j int) bool { return chainName(decls[i]) < chainName(decls[j]) })
	return "*filter\n" + joinLines(decls) + joinLines(rules) + "COMMIT\n"
}

func chainName(decl string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(decl, ":"), " ")
	return name
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// Hook is the one jump from a builtin chain into ours. It is not in the
// restore input because --noflush cannot tell whether it is already there:
// the session must make sure it exists exactly once, as rule 1 of Builtin.
type Hook struct {
	// Part is PartIPv4 (run iptables) or PartIPv6 (run ip6tables).
	Part    string
	Builtin string
	Chain   string
}

// Rule is the hook as iptables-save prints it.
func (h Hook) Rule() string { return "-A " + h.Builtin + " -j " + h.Chain }

// InsertArgs are the arguments that add the hook as rule 1.
func (h Hook) InsertArgs() []string { return []string{"-I", h.Builtin, "1", "-j", h.Chain} }

// DeleteArgs are the arguments that remove one copy of the hook.
func (h Hook) DeleteArgs() []string { return []string{"-D", h.Builtin, "-j", h.Chain} }

// HookRules lists the hooks a config needs: one per FWPUSH chain a part
// declares, in part order.
func HookRules(c drivers.Config) []Hook {
	var out []Hook
	for _, p := range c.Parts {
		for _, line := range strings.Split(p.Text, "\n") {
			if !strings.HasPrefix(line, ":") {
				continue
			}
			name := chainName(line)
			if b := strings.TrimPrefix(name, ChainPrefix); b != name && (b == "INPUT" || b == "OUTPUT" || b == "FORWARD") {
				out = append(out, Hook{Part: p.Name, Builtin: b, Chain: name})
			}
		}
	}
	return out
}

// HookPositions returns the 1-based positions of the hook within its
// builtin chain in a full iptables-save output; exactly [1] is correct.
func HookPositions(save string, h Hook) []int {
	var out []int
	n := 0
	for _, line := range filterTable(save) {
		line = stripCounters(line)
		if !strings.HasPrefix(line, "-A "+h.Builtin+" ") {
			continue
		}
		n++
		if line == h.Rule() {
			out = append(out, n)
		}
	}
	return out
}

// counters matches the "[packets:bytes] " iptables-save -c puts first.
var counters = regexp.MustCompile(`^\[\d+:\d+\] `)

func stripCounters(line string) string { return counters.ReplaceAllString(line, "") }

// filterTable returns the lines of the *filter table of an iptables-save
// output, without comments.
func filterTable(save string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(save, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "*"):
			in = line == "*filter"
		case line == "COMMIT":
			in = false
		case in && line != "" && !strings.HasPrefix(line, "#"):
			out = append(out, line)
		}
	}
	return out
}

// Canonicalize extracts fwpush's part of an iptables-save (or
// ip6tables-save) output: the FWPUSH-* chains of the filter table, with
// counters zeroed and every other chain and rule dropped. A chain without
// rules is left out (see RestoreInput), and with no rules at all the result
// is "", the same as an absent part.
func Canonicalize(save string) string {
	rules := map[string][]string{}
	for _, line := range filterTable(save) {
		line = stripCounters(line)
		if !strings.HasPrefix(line, "-A "+ChainPrefix) {
			continue
		}
		chain, _, _ := strings.Cut(strings.TrimPrefix(line, "-A "), " ")
		rules[chain] = append(rules[chain], line)
	}
	if len(rules) == 0 {
		return ""
	}
	chains := make([]string, 0, len(rules))
	for c := range rules {
		chains = append(chains, c)
	}
	sort.Strings(chains)
	var b strings.Builder
	b.WriteString("*filter\n")
	for _, c := range chains {
		b.WriteString(":" + c + " - [0:0]\n")
	}
	for _, c := range chains {
		b.WriteString(joinLines(rules[c]))
	}
	b.WriteString("COMMIT\n")
	return b.String()
}
