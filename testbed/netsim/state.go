package netsim

import (
	"fmt"
	"net/netip"
	"sort"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/testbed/enforce"
)

// buildState translates the interface bindings of cfg into what the lab
// enforces: one Binding per mapped interface and direction. IPv4 and IPv6
// ACLs bound to the same side share one Filter, each rule scoped to its
// family; a family with no effective ACL is permitted by a final rule.
// Bound-but-undefined ACLs permit everything (Filter nil when neither
// family filters), as on IOS; every defined ACL ends in its implicit deny.
func buildState(cfg *Config, d dialect, ifmap map[string]string) enforce.State {
	names := make([]string, 0, len(ifmap))
	for n := range ifmap {
		names = append(names, n)
	}
	sort.Strings(names)
	st := enforce.State{}
	for _, n := range names {
		ifc := cfg.iface(n)
		for _, dir := range []enforce.Direction{enforce.In, enforce.Out} {
			// IOS, NX-OS and EOS never apply an outbound ACL to packets
			// the device itself sends.
			b := enforce.Binding{Interface: ifmap[n], Direction: dir, TransitOnly: dir == enforce.Out}
			if ifc != nil {
				v4, v6 := ifc.In4, ifc.In6
				if dir == enforce.Out {
					v4, v6 = ifc.Out4, ifc.Out6
				}
				b.Filter = combine(cfg, d, v4, v6)
			}
			st.Bindings = append(st.Bindings, b)
		}
	}
	return st
}

func combine(cfg *Config, d dialect, v4, v6 string) *enforce.Filter {
	r4, ok4 := aclRules(cfg, d, false, v4)
	r6, ok6 := aclRules(cfg, d, true, v6)
	if !ok4 && !ok6 {
		return nil
	}
	f := &enforce.Filter{Default: enforce.Deny}
	switch {
	case ok4 && ok6:
		f.Name = v4 + "+" + v6
	case ok4:
		f.Name = v4
	default:
		f.Name = v6
	}
	f.Rules = append(f.Rules, r4...)
	f.Rules = append(f.Rules, r6...)
	if !ok4 {
		f.Rules = append(f.Rules, enforce.Rule{Action: enforce.Permit, Family: 4, Comment: "no IPv4 ACL"})
	}
	if !ok6 {
		f.Rules = append(f.Rules, enforce.Rule{Action: enforce.Permit, Family: 6, Comment: "no IPv6 ACL"})
	}
	return f
}

// aclRules returns the rules of a bound ACL and whether it filters at all.
func aclRules(cfg *Config, d dialect, v6 bool, name string) ([]enforce.Rule, bool) {
	if name == "" {
		return nil, false
	}
	acl := cfg.acls[aclKey(v6, name)]
	if acl == nil {
		return nil, false
	}
	if acl.ruleCount() == 0 && d.name() == PlatformIOSXE {
		// An IOS ACL with no entries filters nothing.
		return nil, false
	}
	fam := 4
	if v6 {
		fam = 6
	}
	var out []enforce.Rule
	for _, e := range acl.Entries {
		if e.Rule == nil {
			continue
		}
		out = append(out, translate(cfg, d, fam, fmt.Sprintf("%s seq %d", name, e.Seq), e.Rule)...)
	}
	return out, true
}

func translate(cfg *Config, d dialect, fam int, comment string, r *Rule) []enforce.Rule {
	act := enforce.Permit
	if r.Action == "deny" {
		act = enforce.Deny
	}
	src, okS := addrPrefixes(cfg, d, fam == 6, r.Src)
	dst, okD := addrPrefixes(cfg, d, fam == 6, r.Dst)
	if !okS || !okD {
		return nil // an empty object-group matches nothing
	}
	base := enforce.Rule{
		Action: act, Family: fam, Src: src, Dst: dst,
		Established: r.Est, Log: r.Log != "", Comment: comment,
	}
	if r.SvcGroup != "" {
		var out []enforce.Rule
		for _, svc := range serviceMembers(cfg, r.SvcGroup, 0) {
			x := base
			x.Proto = svc.proto
			x.DstPorts = svc.ports
			x.ICMPTypes = svc.icmp
			out = append(out, x)
		}
		return out
	}
	if r.ProtoNum > 0 {
		base.Proto = uint8(r.ProtoNum)
	}
	base.SrcPorts = portRanges(cfg, r.SrcPort)
	base.DstPorts = portRanges(cfg, r.DstPort)
	if r.ICMPType >= 0 {
		base.ICMPTypes = []uint8{uint8(r.ICMPType)}
	}
	return []enforce.Rule{base}
}

// addrPrefixes resolves an ACL address; ok is false for a set that matches
// nothing. A nil slice with ok means "any".
func addrPrefixes(cfg *Config, d dialect, v6 bool, a Addr) ([]netip.Prefix, bool) {
	switch a.Kind {
	case AddrAny:
		return nil, true
	case AddrHost:
		return []netip.Prefix{netip.PrefixFrom(a.IP, a.IP.BitLen())}, true
	case AddrPrefix:
		return []netip.Prefix{netip.PrefixFrom(a.IP, a.Bits).Masked()}, true
	case AddrWild:
		return wildPrefixes(a.IP, a.Wild), true
	case AddrGroup:
		kind := "network"
		if d.name() == PlatformNXOS {
			kind = "ip address"
			if v6 {
				kind = "ipv6 address"
			}
		}
		var b netipx.IPSetBuilder
		any := false
		groupAddrs(cfg, kind, a.Group, &b, &any, 0)
		if any {
			return nil, true
		}
		set, _ := b.IPSet()
		p := set.Prefixes()
		return p, len(p) > 0
	}
	return nil, true
}

func groupAddrs(cfg *Config, kind, name string, b *netipx.IPSetBuilder, any *bool, depth int) {
	g := cfg.groups[groupKey(kind, name)]
	if g == nil || depth > 8 {
		return
	}
	for _, e := range g.Entries {
		switch {
		case e.Any:
			*any = true
		case e.Group != "":
			groupAddrs(cfg, kind, e.Group, b, any, depth+1)
		case e.Wild != nil:
			for _, p := range wildPrefixes(e.Wild.IP, e.Wild.Wild) {
				b.AddPrefix(p)
			}
		case e.Range[0].IsValid():
			b.AddRange(netipx.IPRangeFrom(e.Range[0], e.Range[1]))
		default:
			for _, p := range e.Pfx {
				b.AddPrefix(p)
			}
		}
	}
}

// wildPrefixes turns an address and wildcard mask into prefixes: one for
// a contiguous wildcard, an enumeration (bounded) for a discontiguous one.
func wildPrefixes(ip, wild netip.Addr) []netip.Prefix {
	a, w := ip.As4(), wild.As4()
	av := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	wv := uint32(w[0])<<24 | uint32(w[1])<<16 | uint32(w[2])<<8 | uint32(w[3])
	av &^= wv
	trail := 0
	for trail < 32 && wv&(1<<trail) != 0 {
		trail++
	}
	var free []int
	for i := trail; i < 32; i++ {
		if wv&(1<<i) != 0 {
			free = append(free, i)
		}
	}
	if len(free) > 10 {
		free = free[:10] // bounded: a wider discontiguous mask is narrowed
	}
	var out []netip.Prefix
	for m := 0; m < 1<<len(free); m++ {
		v := av
		for j, bit := range free {
			if m&(1<<j) != 0 {
				v |= 1 << bit
			}
		}
		addr := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		out = append(out, netip.PrefixFrom(addr, 32-trail))
	}
	return out
}

func portRanges(cfg *Config, p *PortMatch) []enforce.PortRange {
	if p == nil {
		return nil
	}
	if p.Op == "portgroup" {
		var out []enforce.PortRange
		if g := cfg.groups[groupKey("ip port", p.Group)]; g != nil {
			for _, e := range g.Entries {
				out = append(out, portRanges(cfg, e.Port)...)
			}
		}
		return out
	}
	var out []enforce.PortRange
	switch p.Op {
	case "eq":
		for _, v := range p.Ports {
			out = append(out, enforce.PortRange{Lo: uint16(v), Hi: uint16(v)})
		}
	case "neq":
		// neq A B: every port but those listed.
		ex := append([]int(nil), p.Ports...)
		sort.Ints(ex)
		lo := 0
		for _, v := range ex {
			if v > lo {
				out = append(out, enforce.PortRange{Lo: uint16(lo), Hi: uint16(v - 1)})
			}
			lo = v + 1
		}
		if lo <= 65535 {
			out = append(out, enforce.PortRange{Lo: uint16(lo), Hi: 65535})
		}
	case "lt":
		if p.Ports[0] > 0 {
			out = append(out, enforce.PortRange{Lo: 0, Hi: uint16(p.Ports[0] - 1)})
		}
	case "gt":
		if p.Ports[0] < 65535 {
			out = append(out, enforce.PortRange{Lo: uint16(p.Ports[0] + 1), Hi: 65535})
		}
	case "range":
		out = append(out, enforce.PortRange{Lo: uint16(p.Ports[0]), Hi: uint16(p.Ports[1])})
	}
	return out
}

type svcMember struct {
	proto uint8
	ports []enforce.PortRange
	icmp  []uint8
}

func serviceMembers(cfg *Config, name string, depth int) []svcMember {
	g := cfg.groups[groupKey("service", name)]
	if g == nil || depth > 8 {
		return nil
	}
	var out []svcMember
	for _, e := range g.Entries {
		if e.Group != "" {
			out = append(out, serviceMembers(cfg, e.Group, depth+1)...)
			continue
		}
		m := svcMember{ports: portRanges(cfg, e.Port)}
		if e.ICMPType >= 0 {
			m.icmp = []uint8{uint8(e.ICMPType)}
		}
		switch {
		case e.Proto == "tcp-udp":
			t, u := m, m
			t.proto, u.proto = 6, 17
			out = append(out, t, u)
			continue
		case e.ProtoNum > 0:
			m.proto = uint8(e.ProtoNum)
		}
		out = append(out, m)
	}
	return out
}
