package linuxiptables

import (
	"regexp"
	"strings"

	"github.com/fwpush/fwpush/drivers"
)

// Parse reads the canonical iptables-save parts back into their rules,
// for the semantic summary of a diff: each -A line of an FWPUSH chain,
// filed under its family and chain. iptables has no sets of its own here
// (sets are expanded into rules), so the set changes show as rules.
func (*Driver) Parse(c drivers.Config) (drivers.Ruleset, error) {
	rs := drivers.Ruleset{}
	for _, part := range []string{PartIPv4, PartIPv6} {
		cmd := "iptables"
		if part == PartIPv6 {
			cmd = "ip6tables"
		}
		for _, line := range strings.Split(c.Part(part), "\n") {
			t := strings.TrimSpace(line)
			if !strings.HasPrefix(t, "-A ") {
				continue
			}
			chain, _, _ := strings.Cut(strings.TrimPrefix(t, "-A "), " ")
			rs.Rules = append(rs.Rules, drivers.RuleLine{Filter: cmd + " " + chain, Text: cmd + " " + t, Action: target(t),
				Key: cmd + " " + saveCommentRE.ReplaceAllString(t, "")})
		}
	}
	return rs, nil
}

// saveCommentRE is a rule's comment match as iptables-save prints it: quoted
// with backslash escapes, or one bare word.
var saveCommentRE = regexp.MustCompile(` -m comment --comment ("(?:[^"\\]|\\.)*"|[^ "]+)`)

// target classifies a rule by its -j target.
func target(t string) drivers.Action {
	switch {
	case strings.Contains(t, " -j ACCEPT"):
		return drivers.PermitAction
	case strings.Contains(t, " -j DROP"), strings.Contains(t, " -j REJECT"):
		return drivers.DenyAction
	}
	return ""
}
