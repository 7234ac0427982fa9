package linuxhost

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Foreign reports the parts of the host's ruleset fwpush does not own that
// can undo the policy. In nftables every base chain on a hook sees the
// packet and a drop anywhere wins, so another table's input/output chain
// that drops or rejects can block traffic the policy permits (an accept
// there cannot permit what fwpush drops). fwpush never changes these; it
// says where they are.
func (s *Session) Foreign(ctx context.Context) ([]string, error) {
	out, err := s.c.Run(ctx, "nft -s list ruleset 2>/dev/null || true", nil)
	if err != nil {
		return nil, fmt.Errorf("foreign rules: %w", err)
	}
	return ForeignRules(out), nil
}

var (
	tableRE = regexp.MustCompile(`^table (\S+) (\S+) \{`)
	chainRE = regexp.MustCompile(`^\s*chain (\S+) \{`)
	hookRE  = regexp.MustCompile(`type filter hook (input|output|forward|prerouting) priority [^;]+;(?: policy (\S+);)?`)
)

// ForeignRules parses `nft -s list ruleset` and describes every chain
// outside fwpush's own that can drop traffic on a filtering hook.
func ForeignRules(ruleset string) []string {
	var out []string
	var table, chain, hook, policy string
	drops, first := 0, ""
	flush := func() {
		if chain == "" || hook == "" {
			return
		}
		// iptables hosts: our hook jump is rule 1 and FWPUSH-* ends in a
		// verdict, so nothing after it in this chain sees a packet.
		if strings.HasPrefix(first, "jump FWPUSH-") || strings.Contains(first, "jump FWPUSH-") {
			return
		}
		var what []string
		if policy == "drop" {
			what = append(what, "policy drop")
		}
		if drops > 0 {
			what = append(what, fmt.Sprintf("%d drop/reject rule(s)", drops))
		}
		if len(what) > 0 {
			out = append(out, fmt.Sprintf("foreign chain %s %s (hook %s) has %s: it can block traffic this policy permits",
				table, chain, hook, strings.Join(what, " and ")))
		}
	}
	for _, line := range strings.Split(ruleset, "\n") {
		t := strings.TrimSpace(line)
		if m := tableRE.FindStringSubmatch(line); m != nil {
			table, chain = m[1]+" "+m[2], ""
			continue
		}
		if table == "inet fwpush" {
			continue
		}
		if m := chainRE.FindStringSubmatch(line); m != nil {
			flush()
			chain, hook, policy, drops, first = m[1], "", "", 0, ""
			continue
		}
		if chain == "" {
			continue
		}
		if m := hookRE.FindStringSubmatch(t); m != nil {
			hook, policy = m[1], m[2]
			continue
		}
		if t == "}" {
			flush()
			chain = ""
			continue
		}
		if t == "" {
			continue
		}
		if first == "" {
			first = t
		}
		if strings.HasSuffix(t, " drop") || strings.Contains(t, " drop ") || t == "drop" || strings.Contains(t, "reject") {
			drops++
		}
	}
	return out
}
