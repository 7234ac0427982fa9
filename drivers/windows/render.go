package windows

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/freetext"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// maxDescription bounds a rule's description (Windows keeps it as text;
// the management console shows the first line).
const maxDescription = 1024

// render turns an Intent into the group's rules. Windows Firewall matches
// no rules in order: an Allow rule anywhere admits, a Block rule anywhere
// wins over every Allow. So the Intent's first-match rules become a set:
// always-on and flow permits become Allow rules; a deny can only be a
// Block rule when no earlier permit overlaps it (else Windows would block
// what the playbook permits), which render refuses otherwise.
func render(in *intent.Intent) (string, error) {
	var notes []string
	var out []rule
	for _, f := range in.Filters {
		if f.Binding.Kind != intent.Input {
			return "", fmt.Errorf("filter %s: binding %s: the windows driver renders inbound host filters only (outbound needs the profile's default outbound action set to Block, outside fwpush's group): %w",
				f.Name, f.Binding.Kind, fault.ErrUnsupported)
		}
		if f.LogDrops {
			return "", fmt.Errorf("filter %s: logging drops is a profile setting on Windows, outside fwpush's group: %w", f.Name, fault.ErrUnsupported)
		}
		for i, r := range f.Rules {
			switch r.Kind {
			case intent.Established, intent.Loopback:
				continue // stateful, and loopback exempt: Windows does both
			}
			if r.Log {
				return "", fmt.Errorf("rule %s: per-rule logging: %w", r.ID, fault.ErrUnsupported)
			}
			if r.Reject {
				// compile makes it a Block and says so (Capabilities.Reject
				// is false): Windows Firewall never answers a blocked packet.
				return "", fmt.Errorf("rule %s: a reject (answering the denied packet): Windows Firewall blocks silently: %w", r.ID, fault.ErrUnsupported)
			}
			if r.Deny {
				for _, prev := range f.Rules[:i] {
					if !prev.Deny && prev.Kind != intent.Established && prev.Kind != intent.Loopback && overlaps(in, prev, r) {
						return "", fmt.Errorf("rule %s denies traffic that the earlier rule %s permits: Windows Firewall's block rules win over allow rules whatever their order, so it would block what the playbook permits: %w",
							r.ID, prev.ID, fault.ErrUnsupported)
					}
				}
			}
			wr, note, err := winRule(in, r, len(out)+1)
			if err != nil {
				return "", fmt.Errorf("rule %s: %w", r.ID, err)
			}
			if note != "" {
				notes = append(notes, note)
				continue
			}
			out = append(out, wr)
		}
	}
	return text(out, notes), nil
}

func winRule(in *intent.Intent, r *intent.Rule, n int) (rule, string, error) {
	wr := rule{ID: fmt.Sprintf("in-%03d", n), Direction: "inbound", Action: "allow", Enabled: true, Profile: "any",
		DisplayName: "fwpush " + r.ID, Description: description(r)}
	if r.Deny {
		wr.Action = "block"
	}
	fam := r.Family
	switch {
	case r.AnyProto:
		wr.Protocol = "any"
	case r.Proto == policy.ICMP:
		wr.Protocol, fam = "icmpv4", 4
	case r.Proto == policy.ICMPv6:
		wr.Protocol, fam = "icmpv6", 6
	case r.Proto == policy.TCP:
		wr.Protocol = "tcp"
	case r.Proto == policy.UDP:
		wr.Protocol = "udp"
	default:
		wr.Protocol = strconv.Itoa(int(r.Proto))
	}
	for _, p := range r.Ports {
		if p.Lo == p.Hi {
			wr.LocalPort = append(wr.LocalPort, strconv.Itoa(int(p.Lo)))
		} else {
			wr.LocalPort = append(wr.LocalPort, fmt.Sprintf("%d-%d", p.Lo, p.Hi))
		}
	}
	if len(r.Ports) > 0 && wr.Protocol != "tcp" && wr.Protocol != "udp" {
		return rule{}, "", fmt.Errorf("ports on %s: Windows Firewall filters ports for TCP and UDP only: %w", wr.Protocol, fault.ErrUnsupported)
	}
	for _, t := range r.ICMP {
		wr.IcmpType = append(wr.IcmpType, strconv.Itoa(t))
	}
	var err error
	var empty bool
	wr.RemoteAddress, empty, err = addresses(in, r.Src, fam)
	if err == nil && !empty {
		wr.LocalAddress, empty, err = addresses(in, r.Dst, fam)
	}
	if err != nil {
		return rule{}, "", err
	}
	if empty {
		// Windows reads an empty address list as "any": never write one.
		return rule{}, fmt.Sprintf("%s (%s) matches no address of its family: not rendered", r.ID, wr.DisplayName), nil
	}
	if fam != 0 && wr.RemoteAddress == nil && wr.LocalAddress == nil && wr.Protocol != "icmpv4" && wr.Protocol != "icmpv6" {
		return rule{}, "", fmt.Errorf("an IPv%d-only rule without addresses: Windows Firewall rules cannot name a family: %w", fam, fault.ErrUnsupported)
	}
	return wr, "", nil
}

// addresses returns set name's prefixes of family fam (0: both); nil for
// no set (any address). empty is a set with no prefix of that family.
func addresses(in *intent.Intent, name string, fam int) (ps []netip.Prefix, empty bool, err error) {
	if name == "" {
		return nil, false, nil
	}
	s := in.Set(name)
	if s == nil {
		return nil, false, fmt.Errorf("address set %q is not defined", name)
	}
	for _, p := range intent.Aggregate(append([]netip.Prefix(nil), s.Prefixes...)) {
		if fam == 0 || (fam == 4) == p.Addr().Is4() {
			ps = append(ps, p)
		}
	}
	sortPrefixes(ps)
	return ps, len(ps) == 0, nil
}

// description is the rule's why, one line: "flow 3: …; flow 5: …".
func description(r *intent.Rule) string {
	var parts []string
	for i, why := range r.Why {
		w := freetext.Line(why)
		if i < len(r.Flows) {
			w = fmt.Sprintf("flow %d: %s", r.Flows[i], w)
		}
		parts = append(parts, w)
	}
	return freetext.Cut(strings.Join(parts, "; "), maxDescription)
}

// overlaps says whether some packet matches both rules.
func overlaps(in *intent.Intent, a, b *intent.Rule) bool {
	if a.Family != 0 && b.Family != 0 && a.Family != b.Family {
		return false
	}
	if !a.AnyProto && !b.AnyProto {
		if a.Proto != b.Proto {
			return false
		}
		if a.Proto.HasPorts() && len(a.Ports) > 0 && len(b.Ports) > 0 && !portsOverlap(a.Ports, b.Ports) {
			return false
		}
		if a.Proto.IsICMP() && len(a.ICMP) > 0 && len(b.ICMP) > 0 && !intsOverlap(a.ICMP, b.ICMP) {
			return false
		}
	}
	return setsOverlap(in, a.Src, b.Src) && setsOverlap(in, a.Dst, b.Dst)
}

func portsOverlap(a, b []policy.PortRange) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Lo <= y.Hi && y.Lo <= x.Hi {
				return true
			}
		}
	}
	return false
}

func intsOverlap(a, b []int) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func setsOverlap(in *intent.Intent, a, b string) bool {
	if a == "" || b == "" {
		return true
	}
	sa, sb := in.Set(a), in.Set(b)
	if sa == nil || sb == nil {
		return true
	}
	for _, x := range sa.Prefixes {
		for _, y := range sb.Prefixes {
			if x.Overlaps(y) {
				return true
			}
		}
	}
	return false
}
