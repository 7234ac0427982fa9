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
)

// Rule matches new traffic and permits or denies it. An empty Src or Dst
// means any address; Family restricts a rule to 4 or 6 (0 = both).
type Rule struct {
	ID     string       `json:"id"`
	Kind   RuleKind     `json:"kind"`
	Deny   bool         `json:"deny,omitempty"`
	Src    string       `json:"src,omitempty"`
	Dst    string       `json:"dst,omitempty"`
	Family int          `json:"family,omitempty"`
	Proto  policy.Proto `json:"proto,omitempty"`
	// AnyProto is set for rules that match every protocol (loopback,
	// established); Proto is then unused.
	AnyProto bool               `json:"any_proto,omitempty"`
	Ports    []policy.PortRange `json:"ports,omitempty"`
	ICMP     []int              `json:"icmp_types,omitempty"`
	Log      bool               `json:"log,omitempty"`
	// Flows are the playbook flow indexes merged into this rule, Why their
	// reasons, in order.
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
