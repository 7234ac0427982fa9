package netacl

import "net/netip"

// Config is the owned part of a device in one dialect: object-groups,
// ACLs and the interface bindings of those ACLs. Its canonical order is
// groups, then ACLs, then interfaces, each sorted by name (an IPv4 ACL
// before the IPv6 one of the same name).
type Config struct {
	Groups []*Group
	ACLs   []*ACL
	Ifaces []*Iface
}

// GroupKind is what an object-group holds.
type GroupKind string

// Object-group kinds: IOS `object-group network|service`, NX-OS
// `object-group ip address|ipv6 address|ip port`.
const (
	NetGroup  GroupKind = "network"      // IOS network (IPv4)
	SvcGroup  GroupKind = "service"      // IOS service: protocol + ports or ICMP type
	Addr4     GroupKind = "ip address"   // NX-OS
	Addr6     GroupKind = "ipv6 address" // NX-OS
	PortGroup GroupKind = "ip port"      // NX-OS
)

// Group is a named address, service or port set.
type Group struct {
	Kind        GroupKind
	Name        string
	Description string
	Members     []*Member
}

// Member is one line of an object-group. NX-OS numbers them (Seq).
type Member struct {
	Seq int
	// Address members: a prefix (a host is a full-length prefix), a
	// wildcard pair, a range, any, or a nested group.
	Prefix netip.Prefix
	Wild   *Wildcard
	Range  [2]netip.Addr
	Any    bool
	Group  string
	// Service members: a protocol with ports or an ICMP type.
	Proto    int // -1: ip (any protocol)
	Ports    Ports
	ICMPType int // -1: none
	// Raw is a line the parser does not model, kept verbatim.
	Raw string
}

// Wildcard is a Cisco address with a wildcard mask that is not a prefix.
type Wildcard struct{ IP, Mask netip.Addr }

// ACL is an IPv4 (extended) or IPv6 access list.
type ACL struct {
	Name string
	V6   bool
	// Options are list-wide lines: "statistics per-entry", "counters
	// per-entry".
	Options []string
	Entries []*Entry
}

// Entry is one line of an ACL: a rule, a remark, or a line the parser
// does not model (Raw, kept verbatim). IOS-XE numbers an IPv4 remark like
// the rule after it; a remark after the last rule has Seq 0.
type Entry struct {
	Seq    int
	Remark string
	Rule   *Rule
	Raw    string
}

// Rule is the body of an ACL entry.
type Rule struct {
	Deny bool
	// Proto is the IP protocol number, -1 for any (ip, ipv6). SvcGroup,
	// when set, is an IOS service object-group carrying the protocol.
	Proto    int
	SvcGroup string
	Src, Dst Addr
	SrcPorts Ports
	DstPorts Ports
	ICMPType int // -1: any type
	ICMPCode int // -1: any code
	// Established matches TCP segments with ACK or RST: how a stateless
	// ACL lets replies through.
	Established bool
	Log         bool
}

// Addr is a rule's source or destination.
type Addr struct {
	Any    bool
	Prefix netip.Prefix // a host is a full-length prefix
	Wild   *Wildcard
	Group  string
}

// Ports is a port match: Op is "" (any), eq, neq, lt, gt, range or
// portgroup (NX-OS, with Group).
type Ports struct {
	Op    string
	Ports []int
	Group string
}

// Iface is an interface's ACL bindings, one name per family and
// direction ("" when none).
type Iface struct {
	Name                 string
	In4, Out4, In6, Out6 string
}

// Slot is one binding place of an interface.
type Slot struct {
	V6  bool
	Dir string // in, out
}

// Slots lists the four binding places in canonical order.
var Slots = []Slot{{false, "in"}, {false, "out"}, {true, "in"}, {true, "out"}}

// Get returns the ACL bound in slot s.
func (i *Iface) Get(s Slot) string {
	switch {
	case !s.V6 && s.Dir == "in":
		return i.In4
	case !s.V6:
		return i.Out4
	case s.Dir == "in":
		return i.In6
	}
	return i.Out6
}

// Set binds name in slot s.
func (i *Iface) Set(s Slot, name string) {
	switch {
	case !s.V6 && s.Dir == "in":
		i.In4 = name
	case !s.V6:
		i.Out4 = name
	case s.Dir == "in":
		i.In6 = name
	default:
		i.Out6 = name
	}
}

// Group returns the named object-group, or nil.
func (c *Config) Group(name string) *Group {
	for _, g := range c.Groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// ACL returns the named ACL of a family, or nil.
func (c *Config) ACL(name string, v6 bool) *ACL {
	for _, a := range c.ACLs {
		if a.Name == name && a.V6 == v6 {
			return a
		}
	}
	return nil
}

// Iface returns the named interface, or nil.
func (c *Config) Iface(name string) *Iface {
	for _, i := range c.Ifaces {
		if i.Name == name {
			return i
		}
	}
	return nil
}
