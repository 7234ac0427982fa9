package openconfig

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

// ACL set types.
const (
	IPv4 = "ACL_IPV4"
	IPv6 = "ACL_IPV6"
)

var families = []struct {
	v   int
	typ string
}{{4, IPv4}, {6, IPv6}}

// build turns an Intent into the owned configuration: every network ACL
// becomes an ACL_IPV4 and an ACL_IPV6 set of the same name, bound to its
// interface; address sets become prefix sets, port lists port sets.
func build(in *intent.Intent) (Config, error) {
	var c Config
	prefixSets := map[string]bool{}
	portSets := map[string][]string{}
	for _, f := range in.Filters {
		if f.Binding.Kind != intent.Interface {
			return Config{}, fmt.Errorf("filter %s: binding %q: OpenConfig ACLs bind to interfaces: %w", f.Name, f.Binding.Kind, fault.ErrUnsupported)
		}
		dir := map[string]string{"in": "ingress", "out": "egress"}[f.Binding.Direction]
		if dir == "" {
			return Config{}, fmt.Errorf("filter %s: direction %q: want in or out", f.Name, f.Binding.Direction)
		}
		if err := checkName(f.Name); err != nil {
			return Config{}, fmt.Errorf("filter %s: %w", f.Name, err)
		}
		if err := checkName(f.Binding.Interface); err != nil {
			return Config{}, fmt.Errorf("filter %s: interface: %w", f.Name, err)
		}
		for _, fam := range families {
			set := ACLSet{Name: f.Name, Type: fam.typ, Description: "fwpush: " + f.Binding.Direction + " on " + f.Binding.Interface}
			for _, r := range f.Rules {
				es, err := entries(in, r, fam.v, prefixSets, portSets)
				if err != nil {
					return Config{}, fmt.Errorf("filter %s: rule %s: %w", f.Name, r.ID, err)
				}
				for _, e := range es {
					e.Seq = 10 * (len(set.Entries) + 1)
					set.Entries = append(set.Entries, e)
				}
			}
			c.ACLSets = append(c.ACLSets, set)
			c.Bindings = append(c.Bindings, Binding{Interface: f.Binding.Interface, Direction: dir, Set: f.Name, Type: fam.typ})
		}
	}
	for _, s := range in.Sets {
		for _, fam := range families {
			name := setName(s.Name)
			if prefixSets[name+"/"+strconv.Itoa(fam.v)] {
				c.PrefixSets = append(c.PrefixSets, PrefixSet{Name: name, Family: fam.v, Prefixes: intent.Aggregate(s.Family(fam.v))})
			}
		}
	}
	for name, ports := range portSets {
		c.PortSets = append(c.PortSets, PortSet{Name: name, Ports: ports})
	}
	c.normalize()
	return c, nil
}

// entries renders rule r for family v (none when it cannot match there).
// A rule matching several ICMP types becomes one entry per type: an entry
// matches one.
func entries(in *intent.Intent, r *intent.Rule, v int, prefixSets map[string]bool, portSets map[string][]string) ([]Entry, error) {
	if r.Family != 0 && r.Family != v {
		return nil, nil
	}
	e := Entry{Action: "ACCEPT", Log: r.Log, Description: describe(r)}
	switch {
	case r.Reject:
		e.Action = "REJECT"
	case r.Deny:
		e.Action = "DROP"
	}
	for _, side := range []struct {
		set  string
		into *string
	}{{r.Src, &e.SrcSet}, {r.Dst, &e.DstSet}} {
		if side.set == "" {
			continue
		}
		s := in.Set(side.set)
		if s == nil {
			return nil, fmt.Errorf("unknown set %q", side.set)
		}
		if len(s.Family(v)) == 0 {
			return nil, nil
		}
		name := setName(s.Name)
		prefixSets[name+"/"+strconv.Itoa(v)] = true
		*side.into = name
	}
	switch r.Kind {
	case intent.Loopback:
		return nil, fmt.Errorf("loopback rules belong to host firewalls: %w", fault.ErrUnsupported)
	case intent.Established:
		if r.AnyProto {
			return nil, fmt.Errorf("a stateful established rule: OpenConfig ACLs are stateless: %w", fault.ErrUnsupported)
		}
		e.Protocol, e.TCPEstablished = "6", true
		return []Entry{e}, nil
	}
	if r.AnyProto {
		return []Entry{e}, nil
	}
	if r.Proto.IsICMP() && (r.Proto == policy.ICMP) != (v == 4) {
		return nil, nil
	}
	e.Protocol = strconv.Itoa(int(r.Proto))
	if (len(r.Ports) > 0 || len(r.SrcPorts) > 0) && !r.Proto.HasPorts() {
		return nil, fmt.Errorf("ports on %s", r.Proto)
	}
	e.DstPort, e.DstPortSet = ports(r.Ports, portSets)
	e.SrcPort, e.SrcPortSet = ports(r.SrcPorts, portSets)
	if len(r.ICMP) == 0 {
		return []Entry{e}, nil
	}
	var out []Entry
	for _, t := range r.ICMP {
		id, ok := icmpIdentity(v, t)
		if !ok {
			return nil, fmt.Errorf("ICMP type %d has no openconfig-icmpv%d-types identity: %w", t, map[int]int{4: 4, 6: 6}[v], fault.ErrUnsupported)
		}
		x := e
		x.ICMPType = id
		out = append(out, x)
	}
	return out, nil
}

// ports renders a port list: one port or range inline, several as a port
// set named after its content.
func ports(rs []policy.PortRange, sets map[string][]string) (inline, set string) {
	var vals []string
	for _, p := range rs {
		if p.Lo == p.Hi {
			vals = append(vals, strconv.Itoa(int(p.Lo)))
		} else {
			vals = append(vals, fmt.Sprintf("%d..%d", p.Lo, p.Hi))
		}
	}
	switch len(vals) {
	case 0:
		return "", ""
	case 1:
		return vals[0], ""
	}
	name := Prefix + "PORTS-" + strings.ReplaceAll(strings.Join(vals, "-"), "..", "_")
	if len(name) > 48 {
		sum := sha256.Sum256([]byte(strings.Join(vals, ",")))
		name = Prefix + "PORTS-" + hex.EncodeToString(sum[:6])
	}
	sets[name] = vals
	return "", name
}

// setName is the prefix set of an address set, cut and made unique by a
// hash when long.
func setName(s string) string {
	name := Prefix + s
	if len(name) > 64 {
		sum := sha256.Sum256([]byte(name))
		name = name[:64-9] + "-" + hex.EncodeToString(sum[:4])
	}
	return name
}

// describe is an entry's description: the rule and the first reason,
// one line of printable text.
func describe(r *intent.Rule) string {
	s := r.ID
	if len(r.Why) > 0 {
		s += ": " + r.Why[0]
	}
	s = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return ' '
		}
		return c
	}, s)
	if len(s) > 120 {
		s = s[:120]
	}
	return strings.TrimSpace(s)
}

// ICMP type identities of openconfig-icmpv4-types and -icmpv6-types.
var icmpIDs = map[int]map[int]string{
	4: {0: "ECHO_REPLY", 3: "DST_UNREACHABLE", 5: "REDIRECT", 8: "ECHO", 9: "ROUTER_ADVERTISEMENT", 10: "ROUTER_SOLICITATION",
		11: "TIME_EXCEEDED", 12: "PARAM_PROBLEM", 13: "TIMESTAMP", 14: "TIMESTAMP_REPLY", 30: "TRACEROUTE"},
	6: {1: "DESTINATION_UNREACHABLE", 2: "PACKET_TOO_BIG", 3: "TIME_EXCEEDED", 4: "PARAMETER_PROBLEM", 128: "ECHO_REQUEST",
		129: "ECHO_REPLY", 130: "MULTICAST_LISTENER_QUERY", 131: "MULTICAST_LISTENER_REPORT", 132: "MULTICAST_LISTENER_DONE",
		133: "ROUTER_SOLICITATION", 134: "ROUTER_ADVERTISEMENT", 135: "NEIGHBOR_SOLICITATION", 136: "NEIGHBOR_ADVERTISEMENT",
		137: "REDIRECT"},
}

func icmpIdentity(v, t int) (string, bool) {
	id, ok := icmpIDs[v][t]
	return id, ok
}

// checkName refuses names that are not one plain token.
func checkName(s string) error {
	if s == "" || len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:", r))
	}) {
		return fmt.Errorf("name %q: want 1-64 letters, digits, dashes, underscores, dots, slashes or colons", s)
	}
	return nil
}
