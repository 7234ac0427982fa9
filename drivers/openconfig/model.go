package openconfig

import (
	"net/netip"
	"sort"
	"strings"
)

// Prefix starts the name of everything fwpush owns: ACL sets, prefix and
// port sets, and the trial marker. An interface binding is owned when it
// names an owned ACL set.
const Prefix = "FWPUSH-"

// Config is the owned part of the device's openconfig-acl and
// openconfig-defined-sets configuration.
type Config struct {
	PrefixSets []PrefixSet `xml:"prefix-set"`
	PortSets   []PortSet   `xml:"port-set"`
	ACLSets    []ACLSet    `xml:"acl-set"`
	Bindings   []Binding   `xml:"binding"`
}

// PrefixSet is an ipv4-prefix-set or ipv6-prefix-set (Family 4 or 6).
type PrefixSet struct {
	Name     string         `xml:"name,attr"`
	Family   int            `xml:"family,attr"`
	Prefixes []netip.Prefix `xml:"prefix"`
}

// PortSet is a port-set: ports ("80") and ranges ("8000..8080").
type PortSet struct {
	Name  string   `xml:"name,attr"`
	Ports []string `xml:"port"`
}

// ACLSet is an acl-set, keyed by name and type (ACL_IPV4 or ACL_IPV6).
type ACLSet struct {
	Name        string  `xml:"name,attr"`
	Type        string  `xml:"type,attr"`
	Description string  `xml:"description,omitempty"`
	Entries     []Entry `xml:"entry"`
}

// Entry is one acl-entry. Addresses are a prefix or a prefix set, ports a
// port, a range or a port set; Protocol is a number or an IP_PROTOCOL
// identity; ICMPType an ICMP type identity.
type Entry struct {
	Seq            int    `xml:"seq,attr"`
	Description    string `xml:"description,omitempty"`
	SrcAddr        string `xml:"source-address,omitempty"`
	SrcSet         string `xml:"source-address-prefix-set,omitempty"`
	DstAddr        string `xml:"destination-address,omitempty"`
	DstSet         string `xml:"destination-address-prefix-set,omitempty"`
	Protocol       string `xml:"protocol,omitempty"`
	ICMPType       string `xml:"icmp-type,omitempty"`
	SrcPort        string `xml:"source-port,omitempty"`
	SrcPortSet     string `xml:"source-port-set,omitempty"`
	DstPort        string `xml:"destination-port,omitempty"`
	DstPortSet     string `xml:"destination-port-set,omitempty"`
	TCPEstablished bool   `xml:"tcp-established,omitempty"`
	// Action is ACCEPT, DROP or REJECT; Log sets log-action LOG_SYSLOG.
	Action string `xml:"forwarding-action"`
	Log    bool   `xml:"log,omitempty"`
	// Foreign holds what a device's copy has beyond what fwpush writes.
	Foreign []string `xml:"not-fwpush,omitempty"`
}

// Binding attaches an ACL set to an interface: Direction is ingress or
// egress.
type Binding struct {
	Interface string `xml:"interface,attr"`
	Direction string `xml:"direction,attr"`
	Set       string `xml:"set,attr"`
	Type      string `xml:"type,attr"`
}

func (b Binding) key() string {
	return b.Interface + "\x00" + b.Direction + "\x00" + b.Set + "\x00" + b.Type
}

// normalize sorts what has no order on the device.
func (c *Config) normalize() {
	for i := range c.PrefixSets {
		ps := c.PrefixSets[i].Prefixes
		sort.Slice(ps, func(a, b int) bool {
			if ps[a].Addr() != ps[b].Addr() {
				return ps[a].Addr().Less(ps[b].Addr())
			}
			return ps[a].Bits() < ps[b].Bits()
		})
	}
	sort.Slice(c.PrefixSets, func(a, b int) bool {
		x, y := c.PrefixSets[a], c.PrefixSets[b]
		if x.Family != y.Family {
			return x.Family < y.Family
		}
		return x.Name < y.Name
	})
	for i := range c.PortSets {
		sortPorts(c.PortSets[i].Ports)
	}
	sort.Slice(c.PortSets, func(a, b int) bool { return c.PortSets[a].Name < c.PortSets[b].Name })
	sort.Slice(c.ACLSets, func(a, b int) bool {
		x, y := c.ACLSets[a], c.ACLSets[b]
		if x.Name != y.Name {
			return x.Name < y.Name
		}
		return x.Type < y.Type
	})
	for i := range c.ACLSets {
		es := c.ACLSets[i].Entries
		sort.Slice(es, func(a, b int) bool { return es[a].Seq < es[b].Seq })
	}
	sort.Slice(c.Bindings, func(a, b int) bool { return c.Bindings[a].key() < c.Bindings[b].key() })
}

// sortPorts orders ports and ranges by their first port.
func sortPorts(ps []string) {
	lo := func(s string) int {
		n, _ := atoi(strings.SplitN(s, "..", 2)[0])
		return n
	}
	sort.SliceStable(ps, func(a, b int) bool { return lo(ps[a]) < lo(ps[b]) })
}

func atoi(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' || n > 1<<20 {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, s != ""
}

func (c *Config) aclSet(name, typ string) *ACLSet {
	for i := range c.ACLSets {
		if c.ACLSets[i].Name == name && c.ACLSets[i].Type == typ {
			return &c.ACLSets[i]
		}
	}
	return nil
}
