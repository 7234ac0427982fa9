package compile

import (
	"fmt"
	"net/netip"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// A host firewall and the network ACLs on the way to it may enforce the
// same flow (defence in depth). checkPaths proves they agree: every
// packet of a flow that a destination host admits must also pass every
// ACL on its way, and so must its reply on the way back. A router that
// drops what a host permits is a validation error, not a surprise in
// production.

// world stands for `any` in path checks: documentation ranges.
var world = []netip.Addr{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("3fff::10")}

// ephemeral is the client port a reply is sent to.
const ephemeral = 49152

// sample bounds the proof's work per flow: up to this many source
// addresses and destination hosts, in name and address order. A flow of
// thousands of hosts on each side would otherwise cost millions of
// evaluations. Rules are built per set, so a disagreement usually shows
// on every host of a set; one that concerns only hosts beyond the sample
// is not proven.
const sample = 16

func (c *compiler) checkPaths() []error {
	if len(c.acls) == 0 {
		return nil
	}
	var errs []error
	for _, f := range c.pb.Flows {
		if !c.pb.Enabled(f) || f.Deny {
			continue
		}
		if err := c.checkFlow(f); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// checkFlow checks one flow from each of its source addresses to each
// managed destination host filtering its own input; it reports the first
// disagreement.
func (c *compiler) checkFlow(f *policy.Flow) error {
	srcs := c.addrs(f.From)
	if len(srcs) > sample {
		srcs = srcs[:sample]
	}
	dsts := c.r.managed(f.To)
	if len(dsts) > sample {
		dsts = dsts[:sample]
	}
	for _, h := range dsts {
		dst := c.out[h.Name]
		if dst == nil || dst.Filter("input") == nil {
			continue
		}
		for _, d := range h.Addresses {
			for _, s := range srcs {
				if s.Is4() != d.Is4() || dst.Owns(s) {
					continue
				}
				for _, m := range f.Matches {
					pkt, ok := probe(m, s, d)
					if !ok || !dst.Eval(dst.Filter("input"), pkt).Permit {
						continue
					}
					if err := c.crossing(f, h.Name, pkt); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// onPath is intent.Intent.OnPath for a compiled ACL, on its IP set:
// the proof asks it for every address pair of every flow.
func (c *compiler) onPath(a *acl, src, dst netip.Addr) bool {
	if a.in.Owns(src) {
		return false
	}
	p := c.ipset(a.prot)
	if a.out {
		return !a.in.Owns(dst) && p.Contains(dst) && !p.Contains(src)
	}
	return p.Contains(src) && (a.in.Owns(dst) || !p.Contains(dst))
}

// crossing checks pkt and its reply against every ACL on their way.
func (c *compiler) crossing(f *policy.Flow, host string, pkt intent.Packet) error {
	reply, hasReply := replyOf(pkt)
	for _, a := range c.acls {
		if c.onPath(a, pkt.Src, pkt.Dst) {
			if v := a.in.Eval(a.f, pkt); !v.Permit {
				return c.pb.Doc.Errorf(f.Path(),
					"%s %s → %s: host %s permits it, but %s's ACL %s drops it on the way (%s)%s",
					describePacket(pkt), pkt.Src, pkt.Dst, host, a.in.Host, a.f.Name, ruleName(v), protectsHint(a))
			}
		}
		if hasReply && c.onPath(a, reply.Src, reply.Dst) {
			if v := a.in.Eval(a.f, reply); !v.Permit {
				return c.pb.Doc.Errorf(f.Path(),
					"%s %s → %s: host %s permits it, but %s's ACL %s drops its replies (%s)",
					describePacket(pkt), pkt.Src, pkt.Dst, host, a.in.Host, a.f.Name, ruleName(v))
			}
		}
	}
	return nil
}

func protectsHint(a *acl) string {
	return fmt.Sprintf("; the ACL protects %v", a.f.Binding.Protects)
}

func ruleName(v intent.Verdict) string {
	if v.Rule == nil {
		return "the default deny"
	}
	return "rule " + v.Rule.ID
}

func describePacket(p intent.Packet) string {
	switch {
	case p.Proto.HasPorts():
		return fmt.Sprintf("%s/%d", p.Proto, p.Port)
	case p.Proto.IsICMP():
		return fmt.Sprintf("%s/%s", p.Proto, policy.ICMPTypeName(p.Proto, p.ICMPType))
	}
	return p.Proto.String()
}

// probe is the first packet of match m from s to d: its lowest port, its
// first ICMP type (echo-request when it names none).
func probe(m policy.Match, s, d netip.Addr) (intent.Packet, bool) {
	p := intent.Packet{Src: s, Dst: d, Proto: m.Proto, SrcPort: ephemeral}
	switch {
	case m.Proto == policy.ICMP && !d.Is4(), m.Proto == policy.ICMPv6 && d.Is4():
		return p, false
	case m.Proto.HasPorts():
		p.Port = 22222
		if len(m.Ports) > 0 {
			p.Port = m.Ports[0].Lo
		}
	case m.Proto == policy.ICMP:
		p.ICMPType = 8
		if len(m.ICMP) > 0 {
			p.ICMPType = m.ICMP[0]
		}
	case m.Proto == policy.ICMPv6:
		p.ICMPType = 128
		if len(m.ICMP) > 0 {
			p.ICMPType = m.ICMP[0]
		}
	}
	return p, true
}

// replyOf is the first reply to pkt, if its protocol has one.
func replyOf(pkt intent.Packet) (intent.Packet, bool) {
	r := intent.Packet{Src: pkt.Dst, Dst: pkt.Src, Proto: pkt.Proto, Reply: true}
	switch {
	case pkt.Proto.HasPorts():
		r.SrcPort, r.Port = pkt.Port, pkt.SrcPort
	case pkt.Proto.IsICMP():
		t, ok := icmpReply(pkt.Proto, pkt.ICMPType)
		if !ok {
			return r, false
		}
		r.ICMPType = t
	}
	return r, true
}

// addrs are the addresses an endpoint list stands for: its hosts', each
// network's first usable address, and the world's for any.
func (c *compiler) addrs(names []string) []netip.Addr {
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	add := func(a netip.Addr) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	netAddr := func(p netip.Prefix) {
		a := p.Addr()
		if p.Bits() < a.BitLen() {
			a = a.Next()
		}
		add(a)
	}
	for _, n := range names {
		switch c.r.kind(n) {
		case "any":
			for _, a := range world {
				add(a)
			}
		case "network":
			for _, p := range c.inv.Networks[n].Prefixes {
				netAddr(p)
			}
		case "role":
			for _, h := range c.inv.HostsWithRole(n) {
				for _, a := range h.Addresses {
					add(a)
				}
			}
			for _, nw := range c.inv.NetworksWithRole(n) {
				for _, p := range nw.Prefixes {
					netAddr(p)
				}
			}
		}
	}
	return out
}
