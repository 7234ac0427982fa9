package juniperjunos

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/netconfdev"
)

// XML namespaces of the YANG-compliant dialect (Junos' YANG modules, as
// published for release 24.4R1). The native dialect uses none.
const (
	nsRoot          = "http://yang.juniper.net/junos/conf/root"
	nsFirewall      = "http://yang.juniper.net/junos/conf/firewall"
	nsInterfaces    = "http://yang.juniper.net/junos/conf/interfaces"
	nsPolicyOptions = "http://yang.juniper.net/junos/conf/policy-options"
	nsNetconf       = "urn:ietf:params:xml:ns:netconf:base:1.0"
)

// Dialect names, as the inventory's netconf_dialect data key takes them.
const (
	Native = "native" // the Junos XML API: load-configuration, commit-configuration
	YANG   = "yang"   // RFC 6241 with Junos' YANG namespaces
)

// xw writes one dialect's XML: namespaces and edit operations differ,
// element names do not.
type xw struct {
	b       strings.Builder
	dialect string
}

func (w *xw) open(elem, ns string, op string) {
	w.b.WriteString("<" + elem)
	if w.dialect == YANG && ns != "" {
		w.b.WriteString(` xmlns="` + ns + `"`)
	}
	switch {
	case op == "":
	case w.dialect == YANG && op == "delete":
		// remove, not delete: the same edit may be sent again as a
		// test-only check, when the element is already gone.
		w.b.WriteString(` nc:operation="remove"`)
	case w.dialect == YANG:
		w.b.WriteString(` nc:operation="` + op + `"`)
	case op == "replace":
		w.b.WriteString(` replace="replace"`)
	case op == "delete":
		w.b.WriteString(` delete="delete"`)
	}
	w.b.WriteString(">")
}

func (w *xw) close(elem string) { w.b.WriteString("</" + elem + ">") }

func (w *xw) leaf(elem, value string) {
	w.b.WriteString("<" + elem + ">")
	_ = xml.EscapeText(&w.b, []byte(value))
	w.b.WriteString("</" + elem + ">")
}

func (w *xw) empty(elem string) { w.b.WriteString("<" + elem + "/>") }

// named writes a list entry identified by its name, with op, and body
// inside.
func (w *xw) named(elem, name, op string, body func()) {
	w.open(elem, "", op)
	w.leaf("name", name)
	if body != nil {
		body()
	}
	w.close(elem)
}

// fetchFilter is the subtree filter (YANG dialect) of what Read needs.
const fetchFilter = `<configuration xmlns="` + nsRoot + `">` +
	`<firewall xmlns="` + nsFirewall + `"/>` +
	`<policy-options xmlns="` + nsPolicyOptions + `"><prefix-list/></policy-options>` +
	`<interfaces xmlns="` + nsInterfaces + `"><interface><name/><unit><name/><family><inet><filter/></inet><inet6><filter/></inet6></family></unit></interface></interfaces>` +
	`</configuration>`

// schema is the Junos owned part for netconfdev, in one dialect.
type schema struct{ dialect string }

func (schema) Read(data string) (netconfdev.State, error) { return read(data) }

// Edit writes the changes from st to desired: owned objects that are no
// longer wanted are deleted, changed ones replaced whole, equal ones left
// alone; the marker is replaced, or deleted when m is nil.
func (s schema) Edit(st netconfdev.State, desired drivers.Config, m *netconfdev.Marker) (string, error) {
	cur, _ := st.Private.(*deviceState)
	if cur == nil {
		cur = &deviceState{foreign: map[string]string{}}
	}
	want, err := parseText(desired.Part(PartName))
	if err != nil {
		return "", fmt.Errorf("desired config: %w", err)
	}
	for _, b := range want.Bindings {
		if f, ok := cur.foreign[b.key()]; ok {
			return "", fmt.Errorf("interfaces %s unit %s family %s already has %s, which fwpush does not own: it will not replace it (remove it, or bind the ACL elsewhere)",
				b.Interface, b.Unit, b.Family, f)
		}
	}
	w := &xw{dialect: s.dialect}
	w.b.WriteString("<configuration")
	if s.dialect == YANG {
		w.b.WriteString(` xmlns="` + nsRoot + `" xmlns:nc="` + nsNetconf + `"`)
	}
	w.b.WriteString(">")
	s.prefixLists(w, cur.cfg, want)
	s.firewall(w, cur, want, m)
	s.interfaces(w, cur.cfg, want)
	w.b.WriteString("</configuration>")
	return w.b.String(), nil
}

func (s schema) prefixLists(w *xw, cur, want Config) {
	var body xw
	body.dialect = w.dialect
	have := map[string]PrefixList{}
	for _, pl := range cur.PrefixLists {
		have[pl.Name] = pl
	}
	keep := map[string]bool{}
	for _, pl := range want.PrefixLists {
		keep[pl.Name] = true
		if old, ok := have[pl.Name]; ok && fmt.Sprint(old.Prefixes) == fmt.Sprint(pl.Prefixes) {
			continue
		}
		body.named("prefix-list", pl.Name, "replace", func() {
			for _, p := range pl.Prefixes {
				body.named("prefix-list-item", p.String(), "", nil)
			}
		})
	}
	for _, pl := range cur.PrefixLists {
		if !keep[pl.Name] {
			body.named("prefix-list", pl.Name, "delete", nil)
		}
	}
	if body.b.Len() > 0 {
		w.open("policy-options", nsPolicyOptions, "")
		w.b.WriteString(body.b.String())
		w.close("policy-options")
	}
}

func (s schema) firewall(w *xw, cur *deviceState, want Config, m *netconfdev.Marker) {
	var body xw
	body.dialect = w.dialect
	switch {
	case m != nil:
		body.named("apply-macro", markerName, "replace", func() {
			for _, f := range m.Fields() {
				body.named("data", f[0], "", func() { body.leaf("value", f[1]) })
			}
		})
	case cur.marker:
		body.named("apply-macro", markerName, "delete", nil)
	}
	var fams xw
	fams.dialect = w.dialect
	for _, fam := range families {
		var fb xw
		fb.dialect = w.dialect
		keep := map[string]bool{}
		for _, f := range want.Filters {
			if f.Family != fam.name {
				continue
			}
			keep[f.Name] = true
			if old := cur.cfg.filter(f.Family, f.Name); old != nil && filterText(*old) == filterText(f) {
				continue
			}
			fb.named("filter", f.Name, "replace", func() {
				for _, t := range f.Terms {
					fb.term(t, f.Family)
				}
			})
		}
		for _, f := range cur.cfg.Filters {
			if f.Family == fam.name && !keep[f.Name] {
				fb.named("filter", f.Name, "delete", nil)
			}
		}
		if fb.b.Len() > 0 {
			fams.open(fam.name, "", "")
			fams.b.WriteString(fb.b.String())
			fams.close(fam.name)
		}
	}
	if fams.b.Len() > 0 {
		body.open("family", "", "")
		body.b.WriteString(fams.b.String())
		body.close("family")
	}
	if body.b.Len() > 0 {
		w.open("firewall", nsFirewall, "")
		w.b.WriteString(body.b.String())
		w.close("firewall")
	}
}

func filterText(f Filter) string {
	var b strings.Builder
	for _, t := range f.Terms {
		b.WriteString(t.oneLine(f.Family) + "\n")
	}
	return b.String()
}

func (w *xw) term(t Term, family string) {
	w.named("term", t.Name, "", func() {
		if t.hasFrom() {
			w.open("from", "", "")
			for _, l := range t.SrcLists {
				w.named("source-prefix-list", l, "", nil)
			}
			for _, l := range t.DstLists {
				w.named("destination-prefix-list", l, "", nil)
			}
			if t.Protocol != "" {
				w.leaf(protocolKeyword(family), t.Protocol)
			}
			for _, p := range t.SrcPorts {
				w.leaf("source-port", p)
			}
			for _, p := range t.DstPorts {
				w.leaf("destination-port", p)
			}
			for _, ty := range t.ICMPTypes {
				w.leaf("icmp-type", ty)
			}
			if t.TCPEstablished {
				w.empty("tcp-established")
			}
			w.close("from")
		}
		w.open("then", "", "")
		if t.Count != "" {
			w.leaf("count", t.Count)
		}
		if t.Syslog {
			w.empty("syslog")
		}
		w.empty(t.Action)
		w.close("then")
	})
}

func (s schema) interfaces(w *xw, cur, want Config) {
	type slot struct {
		b  Binding
		op string
	}
	have := map[string]Binding{}
	for _, b := range cur.Bindings {
		have[b.key()] = b
	}
	var slots []slot
	keep := map[string]bool{}
	for _, b := range want.Bindings {
		keep[b.key()] = true
		if old, ok := have[b.key()]; ok && old.Filter == b.Filter {
			continue
		}
		slots = append(slots, slot{b, "replace"})
	}
	for _, b := range cur.Bindings {
		if !keep[b.key()] {
			slots = append(slots, slot{b, "delete"})
		}
	}
	if len(slots) == 0 {
		return
	}
	// One entry per interface and unit: an edit naming a list entry twice
	// is not one a device must take (netconfd stores both copies, and a
	// later commit drops one).
	sort.SliceStable(slots, func(a, b int) bool {
		x, y := slots[a].b, slots[b].b
		if x.Interface != y.Interface {
			return lessIface(x.Interface, y.Interface)
		}
		return x.key() < y.key()
	})
	w.open("interfaces", nsInterfaces, "")
	for len(slots) > 0 {
		iface := slots[0].b.Interface
		w.named("interface", iface, "", func() {
			for len(slots) > 0 && slots[0].b.Interface == iface {
				unit := slots[0].b.Unit
				w.named("unit", unit, "", func() {
					w.open("family", "", "")
					for len(slots) > 0 && slots[0].b.Interface == iface && slots[0].b.Unit == unit {
						fam := slots[0].b.Family
						w.open(fam, "", "")
						w.open("filter", "", "")
						for len(slots) > 0 && slots[0].b.Interface == iface && slots[0].b.Unit == unit && slots[0].b.Family == fam {
							sl := slots[0]
							if sl.op == "delete" {
								w.b.WriteString(strings.TrimSuffix(openTag(w.dialect, sl.b.Direction, "delete"), ">") + "/>")
							} else {
								w.open(sl.b.Direction, "", "replace")
								w.leaf("filter-name", sl.b.Filter)
								w.close(sl.b.Direction)
							}
							slots = slots[1:]
						}
						w.close("filter")
						w.close(fam)
					}
					w.close("family")
				})
			}
		})
	}
	w.close("interfaces")
}

func openTag(dialect, elem, op string) string {
	w := &xw{dialect: dialect}
	w.open(elem, "", op)
	return w.b.String()
}
