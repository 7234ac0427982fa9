// Package enforce makes a lab namespace enforce, on real packets, the
// filters a simulated device holds: a simulated router's interface ACLs, a
// Junos filter committed through netconfd, a simulated Windows host's
// firewall rules. Each simulator translates its own committed state into
// this one vendor-neutral model; the package renders it into nftables
// inside that simulator's namespace. It is lab code: fwpush itself never
// uses it.
package enforce

import "net/netip"

// Action is what a matching rule does with a packet.
type Action string

// Actions. Reject answers (TCP reset / ICMP unreachable); Deny drops
// silently.
const (
	Permit Action = "permit"
	Deny   Action = "deny"
	Reject Action = "reject"
)

// PortRange is an inclusive range of ports.
type PortRange struct{ Lo, Hi uint16 }

// Rule is one entry of a filter, matched in order; the first match
// decides. A zero field matches everything of its kind.
type Rule struct {
	Action Action
	// Family restricts the rule to IPv4 (4) or IPv6 (6); 0 means both.
	Family int
	// Proto is the IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58
	// ICMPv6, 132 SCTP); 0 means any protocol.
	Proto uint8
	// Src and Dst are the prefixes matched; empty means any address.
	Src, Dst []netip.Prefix
	// SrcPorts and DstPorts apply to TCP, UDP and SCTP; empty means any.
	SrcPorts, DstPorts []PortRange
	// ICMPTypes apply to ICMP and ICMPv6; empty means any type.
	ICMPTypes []uint8
	// Established matches TCP segments with ACK or RST set (IOS
	// `established`, Junos `tcp-established`): how stateless ACLs let
	// replies through.
	Established bool
	// Stateful matches packets of connections already seen (conntrack
	// established/related), for host firewalls that are stateful.
	Stateful bool
	Log      bool
	// Comment is carried into the nft rule for debugging (sanitized).
	Comment string
}

// Filter is an ordered rule list. Default is the verdict when no rule
// matches: Deny for an IOS/Junos ACL (implicit deny), Permit for an
// unfiltered direction.
type Filter struct {
	Name    string
	Rules   []Rule
	Default Action
}

// Direction is the side of an interface a filter sees.
type Direction string

// Directions.
const (
	In  Direction = "in"
	Out Direction = "out"
)

// Binding puts a filter on a Linux interface of the namespace in one
// direction. An inbound filter sees packets arriving on the interface,
// both forwarded and addressed to the device itself (so an ACL can cut
// the device's own management session, as on real routers); an outbound
// one sees packets leaving through it, forwarded or sent by the device.
//
// A nil Filter means the device applies no filter there: an IOS interface
// bound to an undefined ACL permits everything.
type Binding struct {
	Interface string
	Direction Direction
	Filter    *Filter
	// TransitOnly limits the filter to forwarded packets: the device's own
	// traffic (addressed to it for In, sent by it for Out) passes. IOS,
	// NX-OS and EOS never apply an outbound ACL to packets the router
	// itself originates; their simulators set it on Out bindings.
	TransitOnly bool
}

// HostPolicy is a host firewall: Input filters packets addressed to the
// host, Output packets it sends (nil: unfiltered).
type HostPolicy struct {
	Input, Output *Filter
}

// State is everything a namespace enforces at one moment. A simulator
// builds a new State from its running configuration after every change
// and hands it to an Enforcer, which replaces what the namespace had in
// one nftables transaction.
type State struct {
	Bindings []Binding
	Host     *HostPolicy
}
