package intent

import (
	"net/netip"

	"github.com/fwpush/fwpush/internal/policy"
)

// Intent is everything one device must enforce.
type Intent struct {
	Host     string `json:"host"`
	Platform string `json:"platform"`
	Playbook string `json:"playbook"`
	// Addresses are the device's own addresses.
	Addresses []netip.Addr `json:"addresses"`
	// MgmtPort is the port fwpush manages the device on.
	MgmtPort uint16 `json:"mgmt_port"`
	// Sets are the named address sets the rules refer to, sorted by name.
	Sets    []*AddrSet `json:"sets"`
	Filters []*Filter  `json:"filters"`
}

// AddrSet is a named, aggregated set of prefixes (IPv4 and IPv6 mixed;
// renderers split by family when they must).
type AddrSet struct {
	Name string `json:"name"`
	// Members are the roles, networks or hosts the set was built from.
	Members  []string       `json:"members"`
	Prefixes []netip.Prefix `json:"prefixes"`
}

// Family returns the set's prefixes of one family (4 or 6).
func (s *AddrSet) Family(v int) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s.Prefixes {
		if (v == 4) == p.Addr().Is4() {
			out = append(out, p)
		}
	}
	return out
}

// Contains reports whether a is in the set.
func (s *AddrSet) Contains(a netip.Addr) bool {
	for _, p := range s.Prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// BindingKind says where a filter applies.
type BindingKind string

// Binding kinds: a host firewall's own input or output, or a network ACL on
// an interface.
const (
	Input     BindingKind = "input"
	Output    BindingKind = "output"
	Interface BindingKind = "interface"
)

// Binding places a filter on the device.
type Binding struct {
	Kind      BindingKind `json:"kind"`
	Interface string      `json:"interface,omitempty"`
	Direction string      `json:"direction,omitempty"`
	// Protects lists the roles or networks a network ACL guards.
	Protects []string `json:"protects,omitempty"`
	// Protected names the address set of everything Protects covers
	// (its hosts' addresses and its networks' prefixes). An ACL bound
	// out filters the traffic going to it, one bound in the traffic
	// coming from it; anything else crosses the interface unfiltered.
	Protected string `json:"protected,omitempty"`
}

// OnPath reports whether a network ACL is on the way of a packet from
// src to dst, for a device owning self: an out ACL sees what goes to the
// protected addresses from outside them, an in ACL what comes from them
// to outside them or to the device itself. Packets the device sends
// itself cross no ACL (routers do not filter their own output), nor do
// packets between two protected addresses (they never reach the
// interface). A filter that is no network ACL is on no router path.
func (in *Intent) OnPath(f *Filter, src, dst netip.Addr) bool {
	if f.Binding.Kind != Interface {
		return false
	}
	p := in.Set(f.Binding.Protected)
	if p == nil || in.Owns(src) {
		return false
	}
	switch f.Binding.Direction {
	case "out":
		return !in.Owns(dst) && p.Contains(dst) && !p.Contains(src)
	case "in":
		return p.Contains(src) && (in.Owns(dst) || !p.Contains(dst))
	}
	return false
}

// Owns reports whether a is one of the device's own addresses.
func (in *Intent) Owns(a netip.Addr) bool {
	for _, b := range in.Addresses {
		if a == b {
			return true
		}
	}
	return false
}

// Filter is an ordered rule list ending in default deny.
type Filter struct {
	Name     string  `json:"name"`
	Binding  Binding `json:"binding"`
	Rules    []*Rule `json:"rules"`
	LogDrops bool    `json:"log_drops,omitempty"`
}

// RuleKind separates the always-on rules from those the playbook asked for.
type RuleKind string

// Rule kinds.
const (
	Established RuleKind = "established"
	Loopback    RuleKind = "loopback"
	ICMPBase    RuleKind = "icmp"
	Management  RuleKind = "management"
	FlowRule    RuleKind = "flow"
	// Return rules let a stateless network ACL pass the replies of a flow
	// it sees the other way round: Src and Dst swapped, the flow's ports
	// as SrcPorts (UDP, SCTP), echo-reply for echo-request, the same
	// protocol for those without ports. TCP replies need none: the
	// Established rule passes segments with ACK or RST.
	Return RuleKind = "return"
	// Protect is the deny that ends a network ACL's rules for its
	// protected addresses (Dst for out, Src for in).
	Protect RuleKind = "protect"
	// Pass is a network ACL's last rule: what it does not protect is not
	// its business, and passes (AnyProto, no addresses).
	Pass RuleKind = "pass"
	// Essential rules let a host that filters its output reach what it
	// cannot work without and the playbook declares: its DNS resolvers
	// and NTP servers (options.dns, options.ntp).
	Essential RuleKind = "essential"
)

// Rule matches new traffic and permits or denies it. An empty Src or Dst
// means any address; Family restricts a rule to 4 or 6 (0 = both).
//
// On a network ACL of a stateless platform the Established rule is TCP
// only (Proto tcp, matching segments with ACK or RST: the replies of
// connections opened through the ACL), and Return rules carry the other
// protocols' replies. A renderer must express every kind it is given or
// refuse the Intent.
type Rule struct {
	ID   string   `json:"id"`
	Kind RuleKind `json:"kind"`
	Deny bool     `json:"deny,omitempty"`
	// Reject: a deny that answers (TCP reset or ICMP unreachable) rather
	// than drops; Deny is set too. Only platforms whose Capabilities say
	// Reject get one.
	Reject bool         `json:"reject,omitempty"`
	Src    string       `json:"src,omitempty"`
	Dst    string       `json:"dst,omitempty"`
	Family int          `json:"family,omitempty"`
	Proto  policy.Proto `json:"proto,omitempty"`
	// AnyProto is set for rules that match every protocol (loopback,
	// established); Proto is then unused.
	AnyProto bool               `json:"any_proto,omitempty"`
	Ports    []policy.PortRange `json:"ports,omitempty"`
	// SrcPorts match the source port (Return rules only).
	SrcPorts []policy.PortRange `json:"src_ports,omitempty"`
	ICMP     []int              `json:"icmp_types,omitempty"`
	Log      bool               `json:"log,omitempty"`
	// Flows are the numbers of the playbook flows merged into this rule
	// (from 1, as policy.Flow.ID), Why their reasons, in order.
	Flows []int    `json:"flows,omitempty"`
	Why   []string `json:"why,omitempty"`
}

// Set returns the named address set, or nil.
func (in *Intent) Set(name string) *AddrSet {
	for _, s := range in.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Filter returns the filter with the given name, or nil.
func (in *Intent) Filter(name string) *Filter {
	for _, f := range in.Filters {
		if f.Name == name {
			return f
		}
	}
	return nil
}
