package juniperjunos

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// families are Junos' filter families, with the intent family each holds.
var families = []struct {
	name string
	v    int
}{{"inet", 4}, {"inet6", 6}}

// build turns an Intent into the owned configuration: every network ACL
// becomes one filter per family (same name), bound to its interface unit
// in both families; every address set a rule uses becomes one prefix list
// per family it has prefixes of.
func build(in *intent.Intent) (Config, error) {
	var c Config
	lists := map[string]bool{}
	for _, f := range in.Filters {
		if f.Binding.Kind != intent.Interface {
			return Config{}, fmt.Errorf("filter %s: binding %q: Junos filters are interface ACLs here: %w", f.Name, f.Binding.Kind, fault.ErrUnsupported)
		}
		if err := checkName(f.Name); err != nil {
			return Config{}, fmt.Errorf("filter %s: %w", f.Name, err)
		}
		iface, unit, err := splitUnit(f.Binding.Interface)
		if err != nil {
			return Config{}, fmt.Errorf("filter %s: %w", f.Name, err)
		}
		dir := map[string]string{"in": "input", "out": "output"}[f.Binding.Direction]
		if dir == "" {
			return Config{}, fmt.Errorf("filter %s: direction %q: want in or out", f.Name, f.Binding.Direction)
		}
		for _, fam := range families {
			jf := Filter{Family: fam.name, Name: f.Name}
			names := map[string]int{}
			for _, r := range f.Rules {
				t, ok, err := term(in, r, fam.v, lists)
				if err != nil {
					return Config{}, fmt.Errorf("filter %s: rule %s: %w", f.Name, r.ID, err)
				}
				if !ok {
					continue
				}
				t.Name = uniqueName(names, termName(r))
				if r.Log {
					t.Count, t.Syslog = t.Name, true
				}
				jf.Terms = append(jf.Terms, t)
			}
			c.Filters = append(c.Filters, jf)
			c.Bindings = append(c.Bindings, Binding{Interface: iface, Unit: unit, Family: fam.name, Direction: dir, Filter: f.Name})
		}
	}
	for _, s := range in.Sets {
		for _, fam := range families {
			name := listName(s.Name, fam.name)
			if lists[name] {
				c.PrefixLists = append(c.PrefixLists, PrefixList{Name: name, Prefixes: intent.Aggregate(s.Family(fam.v))})
			}
		}
	}
	c.normalize()
	return c, nil
}

// term renders rule r for family v; ok is false when the rule cannot
// match in that family (an ICMP rule of the other family, a set with no
// prefix of it). lists collects the prefix lists used.
func term(in *intent.Intent, r *intent.Rule, v int, lists map[string]bool) (Term, bool, error) {
	if r.Family != 0 && r.Family != v {
		return Term{}, false, nil
	}
	var t Term
	for _, side := range []struct {
		set  string
		into *[]string
	}{{r.Src, &t.SrcLists}, {r.Dst, &t.DstLists}} {
		if side.set == "" {
			continue
		}
		s := in.Set(side.set)
		if s == nil {
			return Term{}, false, fmt.Errorf("unknown set %q", side.set)
		}
		if len(s.Family(v)) == 0 {
			return Term{}, false, nil
		}
		name := listName(s.Name, familyName(v))
		lists[name] = true
		*side.into = []string{name}
	}
	t.Action = "accept"
	switch {
	case r.Reject:
		t.Action = "reject"
	case r.Deny:
		t.Action = "discard"
	}
	switch r.Kind {
	case intent.Loopback:
		return Term{}, false, fmt.Errorf("loopback rules belong to host firewalls: %w", fault.ErrUnsupported)
	case intent.Established:
		if r.AnyProto {
			return Term{}, false, fmt.Errorf("a stateful established rule: Junos filters are stateless: %w", fault.ErrUnsupported)
		}
		t.Protocol, t.TCPEstablished = "tcp", true
		return t, true, nil
	}
	if r.AnyProto {
		return t, true, nil
	}
	if r.Proto.IsICMP() && (r.Proto == policy.ICMP) != (v == 4) {
		return Term{}, false, nil
	}
	t.Protocol = protoName(r.Proto)
	for _, p := range r.Ports {
		t.DstPorts = append(t.DstPorts, portText(p))
	}
	for _, p := range r.SrcPorts {
		t.SrcPorts = append(t.SrcPorts, portText(p))
	}
	if (len(r.Ports) > 0 || len(r.SrcPorts) > 0) && !r.Proto.HasPorts() {
		return Term{}, false, fmt.Errorf("ports on %s", r.Proto)
	}
	for _, ty := range r.ICMP {
		t.ICMPTypes = append(t.ICMPTypes, icmpName(v, ty))
	}
	return t, true, nil
}

func familyName(v int) string {
	if v == 6 {
		return "inet6"
	}
	return "inet"
}

func portText(p policy.PortRange) string {
	if p.Lo == p.Hi {
		return strconv.Itoa(int(p.Lo))
	}
	return fmt.Sprintf("%d-%d", p.Lo, p.Hi)
}

// protoName is Junos' keyword for a protocol (protocol in inet,
// next-header in inet6), else its number.
func protoName(p policy.Proto) string {
	switch p {
	case policy.ICMPv6:
		return "icmp6"
	case policy.TCP, policy.UDP, policy.ICMP, policy.GRE, policy.ESP, policy.AH, policy.OSPF, policy.VRRP, policy.SCTP, 2, 103:
		return p.String()
	}
	return strconv.Itoa(int(p))
}

// icmpName is Junos' keyword for an ICMP type, else its number.
func icmpName(v, t int) string {
	names := map[int]string{0: "echo-reply", 3: "unreachable", 4: "source-quench", 5: "redirect", 8: "echo-request",
		9: "router-advertisement", 10: "router-solicit", 11: "time-exceeded", 12: "parameter-problem",
		13: "timestamp", 14: "timestamp-reply"}
	if v == 6 {
		names = map[int]string{1: "destination-unreachable", 2: "packet-too-big", 3: "time-exceeded", 4: "parameter-problem",
			128: "echo-request", 129: "echo-reply", 133: "router-solicit", 134: "router-advertisement",
			135: "neighbor-solicit", 136: "neighbor-advertisement", 137: "redirect"}
	}
	if n, ok := names[t]; ok {
		return n
	}
	return strconv.Itoa(t)
}

// termName names a rule's term after what it is: a flow's rule after the
// flow (its number in the playbook and its reason), an always-on rule
// after its id.
func termName(r *intent.Rule) string {
	switch r.Kind {
	case intent.FlowRule, intent.Return:
		if len(r.Flows) == 0 {
			return r.ID
		}
		name := fmt.Sprintf("flow%d", r.Flows[0])
		if r.Kind == intent.Return {
			name = fmt.Sprintf("reply%d", r.Flows[0])
		}
		if len(r.Why) > 0 {
			if s := slug(r.Why[0]); s != "" {
				name += "-" + s
			}
		}
		return name
	}
	return r.ID
}

// slug keeps a reason's letters and digits, lower case, words joined by
// dashes, at most 32 bytes.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if b.Len() >= 32 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

func uniqueName(seen map[string]int, name string) string {
	seen[name]++
	if n := seen[name]; n > 1 {
		return fmt.Sprintf("%s-%d", name, n)
	}
	return name
}

// listName is the prefix list of a set's prefixes of one family. Long
// names are cut and made unique by a hash, within Junos' 64 characters.
func listName(set, family string) string {
	name := Prefix + set + "-" + family
	if len(name) > 64 {
		sum := sha256.Sum256([]byte(name))
		name = name[:64-9] + "-" + hex.EncodeToString(sum[:4])
	}
	return name
}

// splitUnit splits ge-0/0/1.0 into the interface and its unit (0 when
// none is given).
func splitUnit(s string) (iface, unit string, err error) {
	iface, unit = s, "0"
	if i := strings.LastIndexByte(s, '.'); i > 0 {
		iface, unit = s[:i], s[i+1:]
	}
	if _, ok := atoi(unit); !ok || iface == "" || strings.ContainsAny(iface, " \t\n;{}[]\"'") {
		return "", "", fmt.Errorf("interface %q: want a Junos interface name, optionally with .unit (ge-0/0/1.0)", s)
	}
	return iface, unit, nil
}

// checkName refuses names Junos would not take as one word.
func checkName(s string) error {
	if s == "" || len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return fmt.Errorf("name %q: Junos names here are 1-64 letters, digits, dashes, underscores or dots", s)
	}
	return nil
}
