package netsim

import (
	"net/netip"
	"sort"
	"strings"
)

// Config is one simulated configuration (running, startup, an archive
// file, a checkpoint or a session's private copy). Its objects that fwpush
// deals with — ACLs, object-groups, interface bindings, the IOS archive,
// NX-OS EEM applets — are modelled; every other top-level block is kept as
// opaque text and printed back unchanged, in its place.
type Config struct {
	Hostname string
	sections []section
	acls     map[string]*ACL
	groups   map[string]*ObjectGroup
	ifaces   map[string]*Interface
	archive  *Archive
	applets  map[string]*Applet
}

type sectionKind int

const (
	secOpaque sectionKind = iota
	secHostname
	secGroup
	secACL
	secIface
	secArchive
	secApplet
)

// section places one top-level object in the configuration's order.
type section struct {
	kind  sectionKind
	key   string
	lines []string // secOpaque only: the block as it was given
}

func newConfig() *Config {
	return &Config{
		acls:    map[string]*ACL{},
		groups:  map[string]*ObjectGroup{},
		ifaces:  map[string]*Interface{},
		applets: map[string]*Applet{},
	}
}

// ACL is an extended IPv4 or an IPv6 access list.
type ACL struct {
	Name    string
	V6      bool
	Entries []*Entry
	// Trailing holds IOS remarks typed after the last entry: IOS-XE keeps
	// them unnumbered until an entry follows them.
	Trailing []string
	// Options holds list-wide lines (NX-OS/EOS "statistics per-entry").
	Options []string
}

// Entry is one numbered line of an ACL: a rule or a remark. On IOS-XE a
// remark shares the sequence number of the rule it precedes.
type Entry struct {
	Seq    int
	Remark string
	Rule   *Rule
}

// AddrKind tells how an ACL address was written.
type AddrKind int

// Address forms.
const (
	AddrAny AddrKind = iota
	AddrHost
	AddrWild   // IOS/NX-OS "A WILDCARD"
	AddrPrefix // NX-OS/EOS/IPv6 "A/N"
	AddrGroup  // object-group / addrgroup reference
)

// Addr is a source or destination of a rule.
type Addr struct {
	Kind  AddrKind
	IP    netip.Addr
	Wild  netip.Addr
	Bits  int
	Group string
}

// PortMatch is a port operator with its operands.
type PortMatch struct {
	Op    string // eq neq lt gt range portgroup
	Ports []int
	Group string
	// Typed keeps the operands as typed: NX-OS prints them so.
	Typed []string
}

// Rule is the body of an ACL entry.
type Rule struct {
	Action   string // permit deny
	Proto    string // as printed: ip, ipv6, tcp, udp, icmp, or a number
	ProtoNum int    // -1: any IP protocol
	SvcGroup string // IOS "permit object-group SVC src dst"
	Src, Dst Addr
	SrcPort  *PortMatch
	DstPort  *PortMatch
	ICMPType int // -1: none
	ICMPCode int // -1: none
	ICMPName string
	Est      bool
	Log      string // "", log, log-input
}

// ObjectGroup is a named address or service set.
type ObjectGroup struct {
	Kind        string // IOS: network, service; NX-OS: ip address, ip port, ipv6 address
	Name        string
	Description string
	Entries     []*GroupEntry
}

func groupKey(kind, name string) string { return kind + "|" + name }

// GroupEntry is one member of an object-group.
type GroupEntry struct {
	Seq   int    // NX-OS only
	Text  string // as printed in the running configuration
	Any   bool
	Pfx   []netip.Prefix
	Wild  *Addr
	Range [2]netip.Addr
	Group string // IOS group-object
	// service members
	Proto    string
	ProtoNum int
	Port     *PortMatch
	ICMPType int
}

// Interface is a configured interface: its bindings are modelled, its other
// lines kept in order.
type Interface struct {
	Name  string
	Lines []string
	In4   string
	Out4  string
	In6   string
	Out6  string
}

// Archive is the IOS `archive` block.
type Archive struct {
	Path        string
	Maximum     int
	WriteMemory bool
	TimePeriod  int
	Other       []string
}

// Applet is an NX-OS EEM applet.
type Applet struct {
	Name      string
	Lines     []string
	Countdown int // seconds; 0: no timer event
	Actions   []appletAction
}

type appletAction struct {
	Label   string
	Command string
}

func aclKey(v6 bool, name string) string {
	if v6 {
		return "6|" + name
	}
	return "4|" + name
}

// clone is a deep copy.
func (c *Config) clone() *Config {
	n := newConfig()
	n.Hostname = c.Hostname
	for _, s := range c.sections {
		n.sections = append(n.sections, section{kind: s.kind, key: s.key, lines: append([]string(nil), s.lines...)})
	}
	for k, a := range c.acls {
		na := &ACL{Name: a.Name, V6: a.V6, Trailing: append([]string(nil), a.Trailing...), Options: append([]string(nil), a.Options...)}
		for _, e := range a.Entries {
			ne := &Entry{Seq: e.Seq, Remark: e.Remark}
			if e.Rule != nil {
				r := *e.Rule
				r.SrcPort = clonePort(e.Rule.SrcPort)
				r.DstPort = clonePort(e.Rule.DstPort)
				ne.Rule = &r
			}
			na.Entries = append(na.Entries, ne)
		}
		n.acls[k] = na
	}
	for k, g := range c.groups {
		ng := &ObjectGroup{Kind: g.Kind, Name: g.Name, Description: g.Description}
		for _, e := range g.Entries {
			ce := *e
			ce.Pfx = append([]netip.Prefix(nil), e.Pfx...)
			ce.Port = clonePort(e.Port)
			if e.Wild != nil {
				w := *e.Wild
				ce.Wild = &w
			}
			ng.Entries = append(ng.Entries, &ce)
		}
		n.groups[k] = ng
	}
	for k, i := range c.ifaces {
		ni := *i
		ni.Lines = append([]string(nil), i.Lines...)
		n.ifaces[k] = &ni
	}
	if c.archive != nil {
		a := *c.archive
		a.Other = append([]string(nil), c.archive.Other...)
		n.archive = &a
	}
	for k, a := range c.applets {
		na := *a
		na.Lines = append([]string(nil), a.Lines...)
		na.Actions = append([]appletAction(nil), a.Actions...)
		n.applets[k] = &na
	}
	return n
}

func clonePort(p *PortMatch) *PortMatch {
	if p == nil {
		return nil
	}
	c := *p
	c.Ports = append([]int(nil), p.Ports...)
	c.Typed = append([]string(nil), p.Typed...)
	return &c
}

// place inserts a section for a new object after the last section of the
// same kind, or before the first section of a kind that the dialect prints
// later, so new objects land where the device would print them.
func (c *Config) place(kind sectionKind, key string, order []sectionKind) {
	for _, s := range c.sections {
		if s.kind == kind && s.key == key {
			return
		}
	}
	rank := func(k sectionKind) int {
		for i, o := range order {
			if o == k {
				return i
			}
		}
		return -1
	}
	at := -1
	for i, s := range c.sections {
		if s.kind == kind {
			at = i + 1
		}
	}
	if at < 0 {
		r := rank(kind)
		at = len(c.sections)
		for i, s := range c.sections {
			if rs := rank(s.kind); rs > r && r >= 0 {
				at = i
				break
			}
		}
	}
	s := section{kind: kind, key: key}
	c.sections = append(c.sections, section{})
	copy(c.sections[at+1:], c.sections[at:])
	c.sections[at] = s
}

func (c *Config) unplace(kind sectionKind, key string) {
	out := c.sections[:0]
	for _, s := range c.sections {
		if s.kind == kind && s.key == key {
			continue
		}
		out = append(out, s)
	}
	c.sections = out
}

// sortEntries orders an ACL by sequence number; on IOS-XE a remark sorts
// before the rule that shares its number.
func (a *ACL) sortEntries() {
	sort.SliceStable(a.Entries, func(i, j int) bool {
		if a.Entries[i].Seq != a.Entries[j].Seq {
			return a.Entries[i].Seq < a.Entries[j].Seq
		}
		return a.Entries[i].Rule == nil && a.Entries[j].Rule != nil
	})
}

func (a *ACL) maxSeq() int {
	m := 0
	for _, e := range a.Entries {
		if e.Seq > m {
			m = e.Seq
		}
	}
	return m
}

func (a *ACL) ruleAt(seq int) *Entry {
	for _, e := range a.Entries {
		if e.Seq == seq && e.Rule != nil {
			return e
		}
	}
	return nil
}

func (a *ACL) hasSeq(seq int) bool {
	for _, e := range a.Entries {
		if e.Seq == seq {
			return true
		}
	}
	return false
}

func (a *ACL) removeSeq(seq int) bool {
	out := a.Entries[:0]
	found := false
	for _, e := range a.Entries {
		if e.Seq == seq {
			found = true
			continue
		}
		out = append(out, e)
	}
	a.Entries = out
	return found
}

// ruleCount is the number of rules (remarks excluded).
func (a *ACL) ruleCount() int {
	n := 0
	for _, e := range a.Entries {
		if e.Rule != nil {
			n++
		}
	}
	return n
}

func (g *ObjectGroup) maxSeq() int {
	m := 0
	for _, e := range g.Entries {
		if e.Seq > m {
			m = e.Seq
		}
	}
	return m
}

// iface finds an interface by its full name, case-insensitively.
func (c *Config) iface(name string) *Interface {
	for k, i := range c.ifaces {
		if strings.EqualFold(k, name) {
			return i
		}
	}
	return nil
}
