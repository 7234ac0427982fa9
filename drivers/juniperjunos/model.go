package juniperjunos

import (
	"net/netip"
	"sort"
	"strings"
)

// Prefix starts the name of everything fwpush owns on a Junos device:
// prefix lists, filters, and the trial marker. Interface bindings are
// owned when they name an owned filter.
const Prefix = "FWPUSH-"

// Config is the part of a Junos configuration fwpush owns, in a form both
// dialects' XML and the canonical text map to one to one.
type Config struct {
	PrefixLists []PrefixList
	Filters     []Filter
	Bindings    []Binding
}

// PrefixList is `policy-options prefix-list NAME`.
type PrefixList struct {
	Name     string
	Prefixes []netip.Prefix
}

// Filter is `firewall family FAMILY filter NAME`; Family is inet or inet6.
type Filter struct {
	Family string
	Name   string
	Terms  []Term
}

// Term is one term of a filter: its from conditions and its then actions.
type Term struct {
	Name string
	// SrcLists and DstLists are source-prefix-list and
	// destination-prefix-list names.
	SrcLists, DstLists []string
	// Protocol is `protocol` (inet) or `next-header` (inet6); "" any.
	Protocol string
	// SrcPorts and DstPorts are "80" or "8000-8080".
	SrcPorts, DstPorts []string
	ICMPTypes          []string
	TCPEstablished     bool
	// Action is accept, discard or reject.
	Action string
	Count  string
	Syslog bool
	// Foreign holds what a device's copy of the term has beyond what
	// fwpush writes, as the device sent it: shown so a diff reveals it,
	// never written back.
	Foreign []string
}

// Binding is `interfaces NAME unit UNIT family FAMILY filter
// input|output FILTER`.
type Binding struct {
	Interface, Unit, Family string
	// Direction is input or output.
	Direction string
	Filter    string
}

func (b Binding) key() string {
	return b.Interface + "\x00" + b.Unit + "\x00" + b.Family + "\x00" + b.Direction
}

// normalize sorts what has no order on the device, so two equal configs
// compare equal however they were read: prefix lists and their prefixes,
// filters by family then name, bindings. Terms keep their order: it is
// the filter's logic.
func (c *Config) normalize() {
	for i := range c.PrefixLists {
		ps := c.PrefixLists[i].Prefixes
		sort.Slice(ps, func(a, b int) bool { return lessPrefix(ps[a], ps[b]) })
	}
	sort.Slice(c.PrefixLists, func(a, b int) bool { return c.PrefixLists[a].Name < c.PrefixLists[b].Name })
	sort.Slice(c.Filters, func(a, b int) bool {
		if c.Filters[a].Family != c.Filters[b].Family {
			return c.Filters[a].Family < c.Filters[b].Family
		}
		return c.Filters[a].Name < c.Filters[b].Name
	})
	sort.Slice(c.Bindings, func(a, b int) bool {
		x, y := c.Bindings[a], c.Bindings[b]
		if x.Interface != y.Interface {
			return lessIface(x.Interface, y.Interface)
		}
		return x.key() < y.key()
	})
}

func lessPrefix(a, b netip.Prefix) bool {
	if a.Addr().Is4() != b.Addr().Is4() {
		return a.Addr().Is4()
	}
	if a.Addr() != b.Addr() {
		return a.Addr().Less(b.Addr())
	}
	return a.Bits() < b.Bits()
}

// lessIface orders interface names as a person would: ge-0/0/2 before
// ge-0/0/10.
func lessIface(a, b string) bool {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '-' || r == '.' || r == ':' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] == pb[i] {
			continue
		}
		na, ea := atoi(pa[i])
		nb, eb := atoi(pb[i])
		if ea && eb {
			return na < nb
		}
		return pa[i] < pb[i]
	}
	if len(pa) != len(pb) {
		return len(pa) < len(pb)
	}
	return a < b
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

// filter returns the filter of a family by name, or nil.
func (c *Config) filter(family, name string) *Filter {
	for i := range c.Filters {
		if c.Filters[i].Family == family && c.Filters[i].Name == name {
			return &c.Filters[i]
		}
	}
	return nil
}
