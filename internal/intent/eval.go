package intent

import (
	"net/netip"

	"github.com/fwpush/fwpush/internal/policy"
)

// Packet is the first packet of a new flow, as explain and the lock-out
// guard ask about it.
type Packet struct {
	Src, Dst netip.Addr
	Proto    policy.Proto
	// Port is the destination port (TCP, UDP, SCTP); ICMPType the type for
	// ICMP. Loopback marks traffic on the loopback interface.
	Port     uint16
	ICMPType int
	Loopback bool
	// Reply marks a packet of a connection already open (a reply, or a
	// later segment): stateful rules pass it, and a TCP one carries ACK.
	// SrcPort is its source port.
	Reply   bool
	SrcPort uint16
}

// Verdict is the answer of one filter for one packet.
type Verdict struct {
	Permit bool `json:"permit"`
	// Rule is the matching rule, nil when the default deny decided.
	Rule *Rule `json:"rule,omitempty"`
}

// Eval runs the packet through the filter's rules in order; the first match
// decides, and the default is deny. Established/related rules match only
// replies (a stateless one only TCP replies, which carry ACK).
func (in *Intent) Eval(f *Filter, p Packet) Verdict {
	for _, r := range f.Rules {
		if in.matches(r, p) {
			return Verdict{Permit: !r.Deny, Rule: r}
		}
	}
	return Verdict{}
}

func (in *Intent) matches(r *Rule, p Packet) bool {
	switch r.Kind {
	case Established:
		if !p.Reply || !r.AnyProto && r.Proto != p.Proto {
			return false
		}
		return in.inSet(r.Src, p.Src) && in.inSet(r.Dst, p.Dst)
	case Loopback:
		return p.Loopback
	}
	if len(r.SrcPorts) > 0 && !portIn(r.SrcPorts, p.SrcPort) {
		return false
	}
	if r.Family == 4 && !p.Dst.Is4() || r.Family == 6 && !p.Dst.Is6() {
		return false
	}
	if !in.inSet(r.Src, p.Src) || !in.inSet(r.Dst, p.Dst) {
		return false
	}
	if r.AnyProto {
		return true
	}
	if r.Proto != p.Proto {
		return false
	}
	switch {
	case r.Proto.HasPorts() && len(r.Ports) > 0:
		return portIn(r.Ports, p.Port)
	case r.Proto.IsICMP() && len(r.ICMP) > 0:
		for _, t := range r.ICMP {
			if t == p.ICMPType {
				return true
			}
		}
		return false
	}
	return true
}

func (in *Intent) inSet(name string, a netip.Addr) bool {
	if name == "" {
		return true
	}
	s := in.Set(name)
	return s != nil && s.Contains(a)
}

func portIn(rs []policy.PortRange, port uint16) bool {
	for _, pr := range rs {
		if pr.Contains(port) {
			return true
		}
	}
	return false
}
