package compile

import (
	"fmt"
	"sort"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// A network ACL protects the addresses of the roles and networks its
// binding names. Bound out, it filters the traffic that leaves the
// interface towards them; bound in, the traffic that arrives from them.
// It permits exactly the playbook's flows that cross it (and, when the
// platform is stateless, their replies), ends in a deny of everything
// else to (out) or from (in) the protected addresses, and passes the
// rest: traffic it does not protect is not its business.

// acl is one network ACL being compiled.
type acl struct {
	in *intent.Intent
	f  *intent.Filter
	// prot is the protected set; out says the binding's direction.
	prot *intent.AddrSet
	out  bool
	// stateless platforms get return rules for the replies they see.
	stateless bool
}

func (c *compiler) newACL(in *intent.Intent, h *inventory.Host, b inventory.ACLBinding) *acl {
	prot := c.r.set(b.Protects, nil)
	c.addSet(in, prot)
	f := &intent.Filter{Name: aclName(b), LogDrops: c.pb.Options.LogDrops,
		Binding: intent.Binding{Kind: intent.Interface, Interface: b.Interface, Direction: b.Direction,
			Protects: b.Protects, Protected: prot.Name}}
	in.Filters = append(in.Filters, f)
	a := &acl{in: in, f: f, prot: prot, out: b.Direction == "out", stateless: !c.caps[h.Platform].Stateful}
	c.baseACL(a, h)
	return a
}

// baseACL adds the always-on rules: replies, essential ICMP, and fwpush's
// own management sessions wherever the ACL is on their way.
func (c *compiler) baseACL(a *acl, h *inventory.Host) {
	in, f := a.in, a.f
	est := &intent.Rule{ID: "established", Kind: intent.Established, AnyProto: true}
	if a.stateless {
		// A stateless filter passes TCP segments with ACK or RST: the
		// replies of connections its flows opened. Other protocols'
		// replies get return rules.
		est = &intent.Rule{ID: "established", Kind: intent.Established, Proto: policy.TCP}
		if a.out {
			est.Dst = a.prot.Name
		} else {
			est.Src = a.prot.Name
		}
	}
	f.Rules = append(f.Rules, est)
	f.Rules = append(f.Rules, c.icmpRules()...)
	mg := c.r.mgmtSet()
	if a.out {
		// Management sessions to the managed hosts behind the interface.
		c.addSet(in, mg)
		byPort := map[int][]*inventory.Host{}
		for _, p := range c.inside(a.prot, h) {
			byPort[p.Port] = append(byPort[p.Port], p)
		}
		for _, port := range sortedKeys(byPort) {
			set := hostSet(protectedMgmtSet(f.Name, port), byPort[port])
			c.addSet(in, set)
			f.Rules = append(f.Rules, &intent.Rule{ID: fmt.Sprintf("management-%d", port), Kind: intent.Management,
				Src: mg.Name, Dst: set.Name, Proto: policy.TCP, Ports: []policy.PortRange{{Lo: uint16(port), Hi: uint16(port)}},
				Why: []string{"fwpush management access to protected hosts (always on)"}})
		}
		return
	}
	if !c.overlaps(mg, a.prot) {
		return // no management session comes from behind this interface
	}
	// Management sessions from behind the interface: to the device itself,
	// and to every managed host outside it.
	c.addSet(in, mg)
	self := hostSet(SelfSet, []*inventory.Host{h})
	c.addSet(in, self)
	f.Rules = append(f.Rules, &intent.Rule{ID: "management", Kind: intent.Management, Src: mg.Name, Dst: self.Name,
		Proto: policy.TCP, Ports: []policy.PortRange{{Lo: in.MgmtPort, Hi: in.MgmtPort}},
		Why: []string{"fwpush management access (always on)"}})
	var ports []policy.PortRange
	for _, o := range c.inv.Select(nil) {
		if o.Name != h.Name && !hostIn(o, a.prot) {
			ports = append(ports, policy.PortRange{Lo: uint16(o.Port), Hi: uint16(o.Port)})
		}
	}
	if len(ports) > 0 {
		f.Rules = append(f.Rules, &intent.Rule{ID: "management-out", Kind: intent.Management, Src: mg.Name,
			Proto: policy.TCP, Ports: policy.MergePorts(ports),
			Why: []string{"fwpush management access to hosts beyond the interface (always on)"}})
	}
}

// inside returns the managed hosts (other than the device) with an
// address in s.
func (c *compiler) inside(s *intent.AddrSet, self *inventory.Host) []*inventory.Host {
	var out []*inventory.Host
	for _, h := range c.inv.Select(nil) {
		if h.Name != self.Name && hostIn(h, s) {
			out = append(out, h)
		}
	}
	return out
}

func hostIn(h *inventory.Host, s *intent.AddrSet) bool {
	for _, a := range h.Addresses {
		if s.Contains(a) {
			return true
		}
	}
	return false
}

// placeFlow puts flow f (from src) on the ACL when it crosses it: an out
// ACL takes the flows towards its protected addresses, an in ACL those
// from them. On a stateless platform it also takes the replies of the
// flows crossing it the other way.
func (c *compiler) placeFlow(a *acl, f *policy.Flow, src *intent.AddrSet) {
	if c.internal(a, f) {
		return // both ends behind the interface: it never sees the flow
	}
	dst := c.r.set(f.To, nil)
	if a.out {
		if near, ok := c.within(f.To, a.prot); ok {
			c.addRules(a.in, a.f, f, src, near)
		}
	} else if near, ok := c.within(f.From, a.prot); ok {
		c.addRules(a.in, a.f, f, near, dst)
	}
	if !a.stateless || f.Deny {
		return
	}
	rs := returnRules(f)
	if len(rs) == 0 {
		return
	}
	if a.out {
		if near, ok := c.within(f.From, a.prot); ok {
			c.add(a.in, a.f, f, dst, near, rs)
		}
	} else if near, ok := c.within(f.To, a.prot); ok {
		c.add(a.in, a.f, f, near, src, rs)
	}
}

// internal reports whether every address of both ends of f is behind the
// ACL's interface, so it never sees the flow. A flow to the device itself
// is never internal to an in ACL: the ACL filters what comes from its
// protected addresses to the device wherever the device's own addresses
// are (see intent.Intent.OnPath), and they are often behind the same
// interface.
func (c *compiler) internal(a *acl, f *policy.Flow) bool {
	if hasAny(f.From) || hasAny(f.To) {
		return false
	}
	to := c.r.set(f.To, nil)
	if !a.out {
		for _, own := range a.in.Addresses {
			if to.Contains(own) {
				return false
			}
		}
	}
	return c.subset(c.r.set(f.From, nil), a.prot) && c.subset(to, a.prot)
}

// within returns the part of names' addresses inside prot, and whether
// there is any: nil (any address) when names hold any, since what is
// outside prot passes the ACL anyway; the names' own set when it lies
// inside prot; else the intersection, a set of its own.
func (c *compiler) within(names []string, prot *intent.AddrSet) (*intent.AddrSet, bool) {
	if hasAny(names) {
		return nil, true
	}
	var hit []string
	for _, n := range names {
		if c.overlaps(c.r.set([]string{n}, nil), prot) {
			hit = append(hit, n)
		}
	}
	if len(hit) == 0 {
		return nil, false
	}
	s := c.r.set(hit, nil)
	if c.subset(s, prot) {
		return s, true
	}
	// Role sets join names with '_' and never hold "__"; internal sets
	// start with '_': this name is no other set's.
	name := "_" + s.Name + "__" + prot.Name
	if cached, ok := c.r.sets[name]; ok {
		return cached, true
	}
	var b netipx.IPSetBuilder
	for _, p := range s.Prefixes {
		b.AddPrefix(p)
	}
	b.Intersect(c.ipset(prot))
	is, _ := b.IPSet()
	out := &intent.AddrSet{Name: name, Members: append(append([]string(nil), s.Members...), prot.Members...), Prefixes: is.Prefixes()}
	c.r.sets[name] = out
	return out, true
}

// returnRules are the rules that pass f's replies through a stateless
// filter, without addresses (the caller sets them, swapped).
func returnRules(f *policy.Flow) []*intent.Rule {
	var rs []*intent.Rule
	for _, m := range f.Matches {
		r := &intent.Rule{Kind: intent.Return, Proto: m.Proto, Log: f.Log}
		switch {
		case m.Proto == policy.TCP:
			continue // the established rule passes TCP replies
		case m.Proto.HasPorts():
			r.SrcPorts = m.Ports
		case m.Proto.IsICMP():
			r.Family = 4
			if m.Proto == policy.ICMPv6 {
				r.Family = 6
			}
			if len(m.ICMP) > 0 {
				for _, t := range m.ICMP {
					if reply, ok := icmpReply(m.Proto, t); ok {
						r.ICMP = append(r.ICMP, reply)
					}
				}
				if len(r.ICMP) == 0 {
					continue // no type of the flow has a reply
				}
			}
		}
		rs = append(rs, r)
	}
	return rs
}

// icmpReply is the type answering an ICMP query type.
func icmpReply(p policy.Proto, t int) (int, bool) {
	replies := map[int]int{8: 0, 13: 14, 15: 16, 17: 18}
	if p == policy.ICMPv6 {
		replies = map[int]int{128: 129}
	}
	r, ok := replies[t]
	return r, ok
}

// closeACL ends an ACL: deny what is left of the traffic it protects,
// pass the rest.
func (c *compiler) closeACL(a *acl) {
	deny := &intent.Rule{ID: "protect", Kind: intent.Protect, Deny: true, AnyProto: true, Log: a.f.LogDrops,
		Why: []string{"default deny for the protected addresses"}}
	if a.out {
		deny.Dst = a.prot.Name
	} else {
		deny.Src = a.prot.Name
	}
	a.f.Rules = append(a.f.Rules, deny, &intent.Rule{ID: "pass", Kind: intent.Pass, AnyProto: true,
		Why: []string{"not protected by this ACL"}})
}

// ipset is s as an IP set, built once per compile: placing each flow on
// each ACL asks again for the same sets.
func (c *compiler) ipset(s *intent.AddrSet) *netipx.IPSet {
	if c.ipsets == nil {
		c.ipsets = map[*intent.AddrSet]*netipx.IPSet{}
	}
	is, ok := c.ipsets[s]
	if !ok {
		is = ipset(s)
		c.ipsets[s] = is
	}
	return is
}

func ipset(s *intent.AddrSet) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, p := range s.Prefixes {
		b.AddPrefix(p)
	}
	is, _ := b.IPSet()
	return is
}

func (c *compiler) overlaps(a, b *intent.AddrSet) bool { return c.ipset(a).Overlaps(c.ipset(b)) }

// subset reports whether every address of a is in b (nil is the world).
func (c *compiler) subset(a, b *intent.AddrSet) bool {
	if b == nil {
		return true
	}
	if a == nil {
		return false
	}
	bs := c.ipset(b)
	for _, p := range a.Prefixes {
		if !bs.ContainsPrefix(p) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
