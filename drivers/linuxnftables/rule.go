package linuxnftables

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// rule prints one Intent rule as zero, one or two nft rules: a rule that
// names address sets and applies to both families becomes one rule per
// family, skipping a family whose set half is empty. A rule left with no
// family matches nothing and is omitted.
func (r *renderer) rule(chain string, rule *intent.Rule) ([]string, error) {
	verdict := "accept"
	switch {
	case rule.Reject:
		verdict = rejectVerdict(ruleFamily(rule))
	case rule.Deny:
		verdict = "drop"
	}
	switch rule.Kind {
	case intent.Established:
		return []string{r.tail(chain, rule, []string{"ct state established,related"}, verdict)}, nil
	case intent.Loopback:
		dir := "iif"
		if chain == "output" {
			dir = "oif"
		}
		return []string{r.tail(chain, rule, []string{dir + ` "lo"`}, verdict)}, nil
	}
	proto, err := protoMatch(rule)
	if err != nil {
		return nil, err
	}
	fam := ruleFamily(rule)
	if rule.Src == "" && rule.Dst == "" {
		// Only a family the protocol match (or a reject's ICMP reply)
		// does not already imply needs an explicit nfproto (nft would
		// hide it as a dependency anyway).
		var pre []string
		if fam != 0 && !rule.Proto.IsICMP() && !rule.Reject {
			pre = append(pre, "meta nfproto ipv"+strconv.Itoa(fam))
		}
		return []string{r.tail(chain, rule, append(pre, proto...), verdict)}, nil
	}
	fams := []int{4, 6}
	if fam != 0 {
		fams = []int{fam}
	}
	var out []string
	for _, f := range fams {
		matches, ok, err := r.addrs(rule, f)
		if err != nil {
			return nil, err
		}
		v := verdict
		if rule.Reject {
			v = rejectVerdict(f)
		}
		if ok {
			out = append(out, r.tail(chain, rule, append(matches, proto...), v))
		}
	}
	return out, nil
}

// ruleFamily is the rule's IP family; ICMP types only exist in one.
func ruleFamily(rule *intent.Rule) int {
	switch {
	case rule.AnyProto:
		return rule.Family
	case rule.Proto == policy.ICMP:
		return 4
	case rule.Proto == policy.ICMPv6:
		return 6
	}
	return rule.Family
}

// addrs returns the saddr/daddr matches of one family, and false when a set
// the rule needs has no prefix of that family. It marks the sets it uses.
func (r *renderer) addrs(rule *intent.Rule, fam int) ([]string, bool, error) {
	kw := "ip"
	if fam == 6 {
		kw = "ip6"
	}
	var out []string
	for _, ref := range []struct{ set, field string }{{rule.Src, "saddr"}, {rule.Dst, "daddr"}} {
		if ref.set == "" {
			continue
		}
		halves := r.sets[ref.set]
		if halves == nil {
			return nil, false, fmt.Errorf("unknown address set %q", ref.set)
		}
		h := &halves[fam/6]
		if len(h.prefixes) == 0 {
			return nil, false, nil
		}
		out = append(out, kw+" "+ref.field+" @"+h.ident)
	}
	for _, ref := range []string{rule.Src, rule.Dst} {
		if ref != "" {
			r.sets[ref][fam/6].used = true
		}
	}
	return out, true, nil
}

// protoMatch prints the protocol and port or type match as nft lists it.
func protoMatch(rule *intent.Rule) ([]string, error) {
	p := rule.Proto
	switch {
	case rule.AnyProto:
		return nil, nil
	case p.HasPorts() && len(rule.Ports) > 0:
		return []string{linuxhost.ProtocolName(p) + " dport " + ports(rule.Ports)}, nil
	case p.IsICMP() && len(rule.ICMP) > 0:
		types, err := icmpTypes(p, rule.ICMP)
		if err != nil {
			return nil, err
		}
		kw := "icmp"
		if p == policy.ICMPv6 {
			kw = "icmpv6"
		}
		return []string{kw + " type " + types}, nil
	}
	return []string{"meta l4proto " + linuxhost.ProtocolName(p)}, nil
}

// ports prints merged, ascending port ranges as nft lists an anonymous
// set: "lo-hi" for a range. An anonymous set keeps the canonical form one
// line per rule, where a named port set would add a block per rule.
func ports(rs []policy.PortRange) string {
	merged := policy.MergePorts(rs)
	vals := make([]string, len(merged))
	for i, pr := range merged {
		vals[i] = pr.String()
	}
	return braces(vals)
}

// tail adds logging, the verdict and the comment.
func (r *renderer) tail(chain string, rule *intent.Rule, matches []string, verdict string) string {
	parts := matches
	if rule.Log {
		parts = append(parts, `log prefix "`+logPrefix("fwpush "+chain+" "+rule.ID+": ", 127)+`"`)
	}
	parts = append(parts, verdict)
	if c := comment(rule); c != "" {
		parts = append(parts, `comment "`+c+`"`)
	}
	return strings.Join(parts, " ")
}

// rejectVerdict is a reject as nft lists it back: a rule of one family
// names the ICMP reply nft sends by default; one of both families (inet)
// is a bare reject, which answers each family in its own ICMP.
func rejectVerdict(family int) string {
	switch family {
	case 4:
		return "reject with icmp port-unreachable"
	case 6:
		return "reject with icmpv6 port-unreachable"
	}
	return "reject"
}
