package linuxiptables

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/freetext"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// maxMultiport is how many ports one multiport match holds; a range takes
// two of them.
const maxMultiport = 15

// rule expands one Intent rule into this family's iptables rules: one per
// source prefix × destination prefix × protocol match (a multiport chunk or
// an ICMP type), each preceded by a LOG twin when the rule logs. A rule of
// the other family, or naming a set without prefixes of this family,
// yields nothing.
func (r *renderer) rule(chain, ifFlag string, rule *intent.Rule) ([]string, error) {
	target := "ACCEPT"
	switch {
	case rule.Reject:
		// As iptables-save prints it back: the default reply, spelt out.
		target = "REJECT --reject-with icmp-port-unreachable"
		if r.fam == 6 {
			target = "REJECT --reject-with icmp6-port-unreachable"
		}
	case rule.Deny:
		target = "DROP"
	}
	var protos []string
	switch rule.Kind {
	case intent.Established:
		protos = []string{" -m conntrack --ctstate RELATED,ESTABLISHED"}
	case intent.Loopback:
		protos = []string{" " + ifFlag + " lo"}
	default:
		if fam := ruleFamily(rule); fam != 0 && fam != r.fam {
			return nil, nil
		}
		var err error
		if protos, err = r.protoMatches(rule); err != nil {
			return nil, err
		}
	}
	srcs, ok, err := r.addrs("-s", rule.Src)
	if err != nil || !ok {
		return nil, err
	}
	dsts, ok, err := r.addrs("-d", rule.Dst)
	if err != nil || !ok {
		return nil, err
	}
	var tail string
	// One readable line, each reason after its flow's number, cut on
	// word boundaries (see freetext.Reasons); quote escapes what
	// iptables-restore would otherwise read as syntax.
	if c := freetext.Reasons(rule.Flows, rule.Why, maxComment); c != "" {
		tail = " -m comment --comment" + quote(c)
	}
	var out []string
	for _, s := range srcs {
		for _, d := range dsts {
			for _, p := range protos {
				head := "-A " + chain + s + d + p + tail
				if rule.Log {
					out = append(out, head+" -j LOG --log-prefix"+quote(logPrefix(chain, rule.ID)))
				}
				out = append(out, head+" -j "+target)
			}
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

// addrs returns the " -s prefix" options of a set, [""] for any, and false
// when the set has no prefix of this family. iptables-save prints every
// address with its mask and drops a /0 altogether.
func (r *renderer) addrs(flag, set string) ([]string, bool, error) {
	if set == "" {
		return []string{""}, true, nil
	}
	ps, known := r.sets[set]
	if !known {
		return nil, false, fmt.Errorf("unknown address set %q", set)
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.Bits() == 0 {
			out = append(out, "")
		} else {
			out = append(out, " "+flag+" "+p.String())
		}
	}
	return out, len(out) > 0, nil
}

// protoMatches returns the protocol matches, in iptables-save's order.
func (r *renderer) protoMatches(rule *intent.Rule) ([]string, error) {
	p := rule.Proto
	if rule.AnyProto {
		return []string{""}, nil
	}
	if p == 0 {
		// "-p 0" means every protocol to iptables, not HOPOPT.
		return nil, fmt.Errorf("protocol 0: %w", fault.ErrUnsupported)
	}
	name := linuxhost.ProtocolName(p)
	switch {
	case p.HasPorts() && len(rule.Ports) > 0:
		return portMatches(name, policy.MergePorts(rule.Ports)), nil
	case p.IsICMP() && len(rule.ICMP) > 0:
		mod := " -m icmp --icmp-type "
		if p == policy.ICMPv6 {
			mod = " -m icmp6 --icmpv6-type "
		}
		var out []string
		for _, t := range uniqSorted(rule.ICMP) {
			if t < 0 || t > 255 {
				return nil, fmt.Errorf("%s type %d is outside 0-255", p, t)
			}
			out = append(out, " -p "+name+mod+strconv.Itoa(t))
		}
		return out, nil
	}
	return []string{" -p " + name}, nil
}

// portMatches uses the protocol's own match for one port or range and
// multiport for several, split so no match exceeds 15 ports.
func portMatches(proto string, rs []policy.PortRange) []string {
	var out []string
	for len(rs) > 0 {
		n, slots := 0, 0
		for n < len(rs) {
			w := 1
			if rs[n].Lo != rs[n].Hi {
				w = 2
			}
			if slots+w > maxMultiport {
				break
			}
			slots += w
			n++
		}
		chunk := rs[:n]
		rs = rs[n:]
		if len(chunk) == 1 {
			out = append(out, " -p "+proto+" -m "+proto+" --dport "+portString(chunk[0]))
			continue
		}
		vals := make([]string, len(chunk))
		for i, pr := range chunk {
			vals[i] = portString(pr)
		}
		out = append(out, " -p "+proto+" -m multiport --dports "+strings.Join(vals, ","))
	}
	return out
}

func portString(pr policy.PortRange) string {
	if pr.Lo == pr.Hi {
		return strconv.Itoa(int(pr.Lo))
	}
	return fmt.Sprintf("%d:%d", pr.Lo, pr.Hi)
}

func uniqSorted(in []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}
