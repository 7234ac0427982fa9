package openconfig

import (
	"encoding/xml"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/netconfdev"
)

// Namespaces of the modules fwpush writes (openconfig/public v5.9.0).
const (
	nsACL      = "http://openconfig.net/yang/acl"
	nsSets     = "http://openconfig.net/yang/defined-sets"
	nsICMPv4   = "http://openconfig.net/yang/openconfig-icmpv4-types"
	nsICMPv6   = "http://openconfig.net/yang/openconfig-icmpv6-types"
	nsNetconf  = "urn:ietf:params:xml:ns:netconf:base:1.0"
	markerName = Prefix + "TRIAL"
)

// The canonical text is the owned objects in openconfig's own terms, one
// element each, without the namespaces and the config/state containers
// of the wire format: compact enough to read in a diff, and the same
// however the device ordered or prefixed what it sent.

type canonical struct {
	XMLName xml.Name `xml:"openconfig"`
	Config
}

func (c Config) text() string {
	b, err := xml.MarshalIndent(canonical{Config: c}, "", "  ")
	if err != nil {
		panic(err) // the model marshals by construction
	}
	return string(b) + "\n"
}

func parseText(s string) (Config, error) {
	if strings.TrimSpace(s) == "" {
		return Config{}, nil
	}
	var c canonical
	if err := xml.Unmarshal([]byte(s), &c); err != nil {
		return Config{}, err
	}
	c.normalize()
	return c.Config, nil
}

func (c Config) config() drivers.Config {
	return drivers.Config{Platform: ID, Parts: []drivers.Part{{Name: PartName, Text: c.text()}}}
}

// fetchFilter reads the ACLs, their bindings and the defined sets.
const fetchFilter = `<acl xmlns="` + nsACL + `"/><defined-sets xmlns="` + nsSets + `"/>`

// The wire format, as get-config returns it (local names: netconfd and
// devices differ in prefixes).
type wConfig struct {
	ACLSets []struct {
		Name    string `xml:"name"`
		Type    string `xml:"type"`
		Desc    string `xml:"config>description"`
		Entries []struct {
			Seq    string `xml:"sequence-id"`
			Desc   string `xml:"config>description"`
			IPv4   *wIP   `xml:"ipv4"`
			IPv6   *wIP   `xml:"ipv6"`
			Trans  *wTr   `xml:"transport>config"`
			Action string `xml:"actions>config>forwarding-action"`
			Log    string `xml:"actions>config>log-action"`
			Other  []xAny `xml:",any"`
		} `xml:"acl-entries>acl-entry"`
	} `xml:"acl>acl-sets>acl-set"`
	Interfaces []struct {
		ID      string   `xml:"id"`
		Ingress []wBound `xml:"ingress-acl-sets>ingress-acl-set"`
		Egress  []wBound `xml:"egress-acl-sets>egress-acl-set"`
	} `xml:"acl>interfaces>interface"`
	V4Sets []wPrefixSet `xml:"defined-sets>ipv4-prefix-sets>ipv4-prefix-set"`
	V6Sets []wPrefixSet `xml:"defined-sets>ipv6-prefix-sets>ipv6-prefix-set"`
	Ports  []struct {
		Name  string   `xml:"name"`
		Ports []string `xml:"config>port"`
	} `xml:"defined-sets>port-sets>port-set"`
}

type wIP struct {
	Src      string `xml:"config>source-address"`
	SrcSet   string `xml:"config>source-address-prefix-set"`
	Dst      string `xml:"config>destination-address"`
	DstSet   string `xml:"config>destination-address-prefix-set"`
	Protocol string `xml:"config>protocol"`
	ICMP4    string `xml:"icmpv4>config>type"`
	ICMP6    string `xml:"icmpv6>config>type"`
}

type wTr struct {
	SrcPort    string `xml:"source-port"`
	SrcPortSet string `xml:"source-port-set"`
	DstPort    string `xml:"destination-port"`
	DstPortSet string `xml:"destination-port-set"`
	Mode       string `xml:"detail-mode"`
	Builtin    string `xml:"builtin-detail"`
	Other      []xAny `xml:",any"`
}

type wBound struct {
	Set  string `xml:"set-name"`
	Type string `xml:"type"`
}

type wPrefixSet struct {
	Name     string   `xml:"name"`
	Prefixes []string `xml:"config>prefix"`
}

type xAny struct {
	XMLName xml.Name
	Inner   string `xml:",innerxml"`
}

// local drops an identity's prefix: devices write oc-acl:ACCEPT or ACCEPT.
func local(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// deviceState is what read keeps for edit.
type deviceState struct {
	cfg    Config
	marker bool
}

// read parses get-config's <data> content into the owned part; sets says
// the device holds defined-sets references, else its entries are
// expanded (see expand).
func read(data string, sets bool) (netconfdev.State, error) {
	st := &deviceState{}
	out := netconfdev.State{Private: st}
	var w wConfig
	if strings.TrimSpace(data) != "" {
		if err := xml.Unmarshal([]byte("<data>"+data+"</data>"), &w); err != nil {
			return netconfdev.State{}, fmt.Errorf("openconfig config: %w", err)
		}
	}
	for _, s := range w.ACLSets {
		name, typ := strings.TrimSpace(s.Name), local(s.Type)
		if name == markerName {
			out.Marker, st.marker = parseMarker(s.Desc), true
			continue
		}
		if !strings.HasPrefix(name, Prefix) {
			continue
		}
		set := ACLSet{Name: name, Type: typ, Description: strings.TrimSpace(s.Desc)}
		for _, we := range s.Entries {
			seq, _ := strconv.Atoi(strings.TrimSpace(we.Seq))
			e := Entry{Seq: seq, Description: strings.TrimSpace(we.Desc), Action: local(we.Action), Log: local(we.Log) == "LOG_SYSLOG"}
			ip := we.IPv4
			if ip == nil {
				ip = we.IPv6
			}
			if ip != nil {
				e.SrcAddr, e.SrcSet = strings.TrimSpace(ip.Src), strings.TrimSpace(ip.SrcSet)
				e.DstAddr, e.DstSet = strings.TrimSpace(ip.Dst), strings.TrimSpace(ip.DstSet)
				e.Protocol = local(ip.Protocol)
				e.ICMPType = local(ip.ICMP4 + ip.ICMP6)
			}
			if t := we.Trans; t != nil {
				e.SrcPort, e.SrcPortSet = strings.TrimSpace(t.SrcPort), strings.TrimSpace(t.SrcPortSet)
				e.DstPort, e.DstPortSet = strings.TrimSpace(t.DstPort), strings.TrimSpace(t.DstPortSet)
				e.TCPEstablished = local(t.Builtin) == "TCP_ESTABLISHED"
				if m := local(t.Mode); m != "" && m != "BUILTIN" {
					e.Foreign = append(e.Foreign, "detail-mode "+m)
				}
			}
			for _, o := range we.Other {
				switch o.XMLName.Local {
				case "sequence-id", "config", "ipv4", "ipv6", "transport", "actions", "state":
				default:
					e.Foreign = append(e.Foreign, o.XMLName.Local)
				}
			}
			set.Entries = append(set.Entries, e)
		}
		st.cfg.ACLSets = append(st.cfg.ACLSets, set)
	}
	foreign := map[string][]string{}
	for _, in := range w.Interfaces {
		id := strings.TrimSpace(in.ID)
		for _, d := range []struct {
			dir string
			bs  []wBound
		}{{"ingress", in.Ingress}, {"egress", in.Egress}} {
			for _, b := range d.bs {
				bd := Binding{Interface: id, Direction: d.dir, Set: strings.TrimSpace(b.Set), Type: local(b.Type)}
				if strings.HasPrefix(bd.Set, Prefix) {
					st.cfg.Bindings = append(st.cfg.Bindings, bd)
				} else {
					foreign[id] = append(foreign[id], fmt.Sprintf("%s ACL set %s (%s)", d.dir, bd.Set, bd.Type))
				}
			}
		}
	}
	for fam, sets := range map[int][]wPrefixSet{4: w.V4Sets, 6: w.V6Sets} {
		for _, s := range sets {
			name := strings.TrimSpace(s.Name)
			if !strings.HasPrefix(name, Prefix) {
				continue
			}
			ps := PrefixSet{Name: name, Family: fam}
			for _, p := range s.Prefixes {
				pp, err := netip.ParsePrefix(strings.TrimSpace(p))
				if err != nil {
					return netconfdev.State{}, fmt.Errorf("prefix set %s: %w", name, err)
				}
				ps.Prefixes = append(ps.Prefixes, pp)
			}
			st.cfg.PrefixSets = append(st.cfg.PrefixSets, ps)
		}
	}
	for _, p := range w.Ports {
		name := strings.TrimSpace(p.Name)
		if strings.HasPrefix(name, Prefix) {
			ports := make([]string, 0, len(p.Ports))
			for _, x := range p.Ports {
				ports = append(ports, strings.TrimSpace(x))
			}
			st.cfg.PortSets = append(st.cfg.PortSets, PortSet{Name: name, Ports: ports})
		}
	}
	st.cfg.normalize()
	if sets {
		out.Config = st.cfg.config()
	} else {
		out.Config = collapse(st.cfg).config()
	}
	bound := map[string]bool{}
	for _, b := range st.cfg.Bindings {
		bound[b.Interface] = true
	}
	ids := make([]string, 0, len(foreign))
	for id := range foreign {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if bound[id] {
			for _, f := range foreign[id] {
				out.Foreign = append(out.Foreign, fmt.Sprintf("interface %s: %s is not fwpush's; it filters this interface too", id, f))
			}
		}
	}
	return out, nil
}

// The marker lives in the description of an ACL set of its own, bound
// nowhere and without entries: "fwpush trial run=…; controller=…; …".
const markerLead = "fwpush trial "

func markerText(m *netconfdev.Marker) string {
	var parts []string
	for _, f := range m.Fields() {
		parts = append(parts, f[0]+"="+strings.ReplaceAll(f[1], ";", ","))
	}
	return markerLead + strings.Join(parts, "; ")
}

func parseMarker(desc string) *netconfdev.Marker {
	fields := map[string]string{}
	for _, p := range strings.Split(strings.TrimPrefix(strings.TrimSpace(desc), markerLead), ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		fields[k] = v
	}
	return netconfdev.ParseMarker(fields)
}

// schema is the OpenConfig owned part for netconfdev; sets says the
// device takes openconfig-defined-sets references.
type schema struct{ sets bool }

func (s schema) Read(data string) (netconfdev.State, error) { return read(data, s.sets) }

// Edit writes the changes from st to desired: owned objects no longer
// wanted deleted, changed ones replaced whole, equal ones left alone; the
// marker set replaced, or deleted when m is nil.
func (sc schema) Edit(st netconfdev.State, desired drivers.Config, m *netconfdev.Marker) (string, error) {
	cur, _ := st.Private.(*deviceState)
	if cur == nil {
		cur = &deviceState{}
	}
	want, err := parseText(desired.Part(PartName))
	if err != nil {
		return "", fmt.Errorf("desired config: %w", err)
	}
	if !sc.sets {
		if want, err = expand(want); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	sets := definedSets(cur.cfg, want)
	if sets != "" {
		b.WriteString(`<defined-sets xmlns="` + nsSets + `" xmlns:nc="` + nsNetconf + `">` + sets + `</defined-sets>`)
	}
	acl := aclSets(cur, want, m) + interfaces(cur.cfg, want)
	if acl != "" {
		b.WriteString(`<acl xmlns="` + nsACL + `" xmlns:oc-acl="` + nsACL + `" xmlns:nc="` + nsNetconf + `">` + acl + `</acl>`)
	}
	if b.Len() == 0 {
		// Nothing changes; edit-config needs content all the same.
		b.WriteString(`<acl xmlns="` + nsACL + `"/>`)
	}
	return b.String(), nil
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// op is an element's edit operation. Deletions use remove, not delete:
// the same edit may be sent again as a test-only check, when the element
// is already gone.
func op(o string) string {
	switch o {
	case "":
		return ""
	case "delete":
		o = "remove"
	}
	return ` nc:operation="` + o + `"`
}

func definedSets(cur, want Config) string {
	var v4, v6, ports strings.Builder
	have := map[string]string{}
	for _, s := range cur.PrefixSets {
		have[fmt.Sprint(s.Family, s.Name)] = fmt.Sprint(s.Prefixes)
	}
	keep := map[string]bool{}
	for _, s := range want.PrefixSets {
		k := fmt.Sprint(s.Family, s.Name)
		keep[k] = true
		if old, ok := have[k]; ok && old == fmt.Sprint(s.Prefixes) {
			continue
		}
		into, elem := &v4, "ipv4-prefix-set"
		if s.Family == 6 {
			into, elem = &v6, "ipv6-prefix-set"
		}
		into.WriteString("<" + elem + op("replace") + "><name>" + esc(s.Name) + "</name><config><name>" + esc(s.Name) + "</name>")
		for _, p := range s.Prefixes {
			into.WriteString("<prefix>" + p.String() + "</prefix>")
		}
		into.WriteString("</config></" + elem + ">")
	}
	for _, s := range cur.PrefixSets {
		if !keep[fmt.Sprint(s.Family, s.Name)] {
			into, elem := &v4, "ipv4-prefix-set"
			if s.Family == 6 {
				into, elem = &v6, "ipv6-prefix-set"
			}
			into.WriteString("<" + elem + op("delete") + "><name>" + esc(s.Name) + "</name></" + elem + ">")
		}
	}
	havePorts := map[string]string{}
	for _, s := range cur.PortSets {
		havePorts[s.Name] = fmt.Sprint(s.Ports)
	}
	keepPorts := map[string]bool{}
	for _, s := range want.PortSets {
		keepPorts[s.Name] = true
		if old, ok := havePorts[s.Name]; ok && old == fmt.Sprint(s.Ports) {
			continue
		}
		ports.WriteString("<port-set" + op("replace") + "><name>" + esc(s.Name) + "</name><config><name>" + esc(s.Name) + "</name>")
		for _, p := range s.Ports {
			ports.WriteString("<port>" + esc(p) + "</port>")
		}
		ports.WriteString("</config></port-set>")
	}
	for _, s := range cur.PortSets {
		if !keepPorts[s.Name] {
			ports.WriteString("<port-set" + op("delete") + "><name>" + esc(s.Name) + "</name></port-set>")
		}
	}
	var out strings.Builder
	for _, part := range []struct {
		elem string
		b    *strings.Builder
	}{{"ipv4-prefix-sets", &v4}, {"ipv6-prefix-sets", &v6}, {"port-sets", &ports}} {
		if part.b.Len() > 0 {
			out.WriteString("<" + part.elem + ">" + part.b.String() + "</" + part.elem + ">")
		}
	}
	return out.String()
}

func aclSets(cur *deviceState, want Config, m *netconfdev.Marker) string {
	var b strings.Builder
	switch {
	case m != nil:
		b.WriteString(`<acl-set` + op("replace") + `><name>` + markerName + `</name><type>oc-acl:` + IPv4 + `</type><config><name>` + markerName +
			`</name><type>oc-acl:` + IPv4 + `</type><description>` + esc(markerText(m)) + `</description></config></acl-set>`)
	case cur.marker:
		b.WriteString(`<acl-set` + op("delete") + `><name>` + markerName + `</name><type>oc-acl:` + IPv4 + `</type></acl-set>`)
	}
	keep := map[string]bool{}
	for _, s := range want.ACLSets {
		keep[s.Name+"/"+s.Type] = true
		if old := cur.cfg.aclSet(s.Name, s.Type); old != nil && setText(*old) == setText(s) {
			continue
		}
		b.WriteString(`<acl-set` + op("replace") + `><name>` + esc(s.Name) + `</name><type>oc-acl:` + s.Type + `</type><config><name>` + esc(s.Name) +
			`</name><type>oc-acl:` + s.Type + `</type>`)
		if s.Description != "" {
			b.WriteString(`<description>` + esc(s.Description) + `</description>`)
		}
		b.WriteString(`</config><acl-entries>`)
		for _, e := range s.Entries {
			writeEntry(&b, e, s.Type)
		}
		b.WriteString(`</acl-entries></acl-set>`)
	}
	for _, s := range cur.cfg.ACLSets {
		if !keep[s.Name+"/"+s.Type] {
			b.WriteString(`<acl-set` + op("delete") + `><name>` + esc(s.Name) + `</name><type>oc-acl:` + s.Type + `</type></acl-set>`)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "<acl-sets>" + b.String() + "</acl-sets>"
}

func setText(s ACLSet) string {
	b, _ := xml.Marshal(s)
	return string(b)
}

func writeEntry(b *strings.Builder, e Entry, typ string) {
	seq := strconv.Itoa(e.Seq)
	b.WriteString(`<acl-entry><sequence-id>` + seq + `</sequence-id><config><sequence-id>` + seq + `</sequence-id>`)
	if e.Description != "" {
		b.WriteString(`<description>` + esc(e.Description) + `</description>`)
	}
	b.WriteString(`</config>`)
	ipElem, icmpElem, icmpNS := "ipv4", "icmpv4", nsICMPv4
	if typ == IPv6 {
		ipElem, icmpElem, icmpNS = "ipv6", "icmpv6", nsICMPv6
	}
	var ip strings.Builder
	for _, f := range [][2]string{{"source-address", e.SrcAddr}, {"source-address-prefix-set", e.SrcSet},
		{"destination-address", e.DstAddr}, {"destination-address-prefix-set", e.DstSet}, {"protocol", e.Protocol}} {
		if f[1] != "" {
			ip.WriteString("<" + f[0] + ">" + esc(f[1]) + "</" + f[0] + ">")
		}
	}
	if ip.Len() > 0 || e.ICMPType != "" {
		b.WriteString("<" + ipElem + "><config>" + ip.String() + "</config>")
		if e.ICMPType != "" {
			b.WriteString("<" + icmpElem + `><config><type xmlns:t="` + icmpNS + `">t:` + e.ICMPType + "</type></config></" + icmpElem + ">")
		}
		b.WriteString("</" + ipElem + ">")
	}
	var tr strings.Builder
	for _, f := range [][2]string{{"source-port", e.SrcPort}, {"source-port-set", e.SrcPortSet},
		{"destination-port", e.DstPort}, {"destination-port-set", e.DstPortSet}} {
		if f[1] != "" {
			tr.WriteString("<" + f[0] + ">" + esc(f[1]) + "</" + f[0] + ">")
		}
	}
	if e.TCPEstablished {
		tr.WriteString("<detail-mode>BUILTIN</detail-mode><builtin-detail>TCP_ESTABLISHED</builtin-detail>")
	}
	if tr.Len() > 0 {
		b.WriteString("<transport><config>" + tr.String() + "</config></transport>")
	}
	b.WriteString("<actions><config><forwarding-action>oc-acl:" + e.Action + "</forwarding-action>")
	if e.Log {
		b.WriteString("<log-action>oc-acl:LOG_SYSLOG</log-action>")
	}
	b.WriteString("</config></actions></acl-entry>")
}

func interfaces(cur, want Config) string {
	type slot struct {
		b  Binding
		op string
	}
	have := map[string]bool{}
	for _, b := range cur.Bindings {
		have[b.key()] = true
	}
	keep := map[string]bool{}
	var slots []slot
	for _, b := range want.Bindings {
		keep[b.key()] = true
		if !have[b.key()] {
			slots = append(slots, slot{b, "replace"})
		}
	}
	for _, b := range cur.Bindings {
		if !keep[b.key()] {
			slots = append(slots, slot{b, "delete"})
		}
	}
	if len(slots) == 0 {
		return ""
	}
	sort.SliceStable(slots, func(i, j int) bool { return slots[i].b.key() < slots[j].b.key() })
	var b strings.Builder
	b.WriteString("<interfaces>")
	for len(slots) > 0 {
		id := slots[0].b.Interface
		b.WriteString("<interface><id>" + esc(id) + "</id><config><id>" + esc(id) + "</id></config>")
		for _, dir := range []string{"egress", "ingress"} {
			var sets strings.Builder
			for _, s := range slots {
				if s.b.Interface != id || s.b.Direction != dir {
					continue
				}
				name, typ := esc(s.b.Set), "oc-acl:"+s.b.Type
				sets.WriteString("<" + dir + "-acl-set" + op(s.op) + "><set-name>" + name + "</set-name><type>" + typ + "</type>")
				if s.op != "delete" {
					sets.WriteString("<config><set-name>" + name + "</set-name><type>" + typ + "</type></config>")
				}
				sets.WriteString("</" + dir + "-acl-set>")
			}
			if sets.Len() > 0 {
				b.WriteString("<" + dir + "-acl-sets>" + sets.String() + "</" + dir + "-acl-sets>")
			}
		}
		b.WriteString("</interface>")
		for len(slots) > 0 && slots[0].b.Interface == id {
			slots = slots[1:]
		}
	}
	b.WriteString("</interfaces>")
	return b.String()
}
