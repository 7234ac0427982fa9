package netacl

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// V6Suffix names a filter's IPv6 ACL: IOS-XE keeps IPv4 and IPv6 ACL
// names apart, and one spelling for all three keeps plans comparable.
const V6Suffix = "-V6"

// FromIntent renders an Intent's interface filters in the dialect: per
// filter an IPv4 and an IPv6 ACL (explicit sequence numbers, a remark
// per flow carrying its why), object-groups for address sets of two or
// more prefixes and for rules over several port ranges where the dialect
// has them, and the interface bindings. It refuses what the dialect
// cannot say (ErrUnsupported), naming the filter, the rule and its flows.
func (d *Dialect) FromIntent(in *intent.Intent) (*Config, error) {
	b := &builder{d: d, in: in, cfg: &Config{}, names: names{LockName: "lock"}, groups: map[string]*Group{}}
	for _, f := range in.Filters {
		if f.Binding.Kind != intent.Interface {
			return nil, fmt.Errorf("filter %s: a %s filter: network devices filter transit traffic with interface ACLs only: %w", f.Name, f.Binding.Kind, fault.ErrUnsupported)
		}
		if !ownedName.MatchString(f.Name) || len(f.Name)+len(V6Suffix) > maxBase {
			return nil, fmt.Errorf("filter %s: not a name fwpush writes on a device (FWPUSH-, then A-Z 0-9 -, at most %d characters)", f.Name, maxBase-len(V6Suffix))
		}
		if err := checkIface(f.Binding.Interface); err != nil {
			return nil, fmt.Errorf("filter %s: %w", f.Name, err)
		}
		if f.Binding.Direction != "in" && f.Binding.Direction != "out" {
			return nil, fmt.Errorf("filter %s: direction %q: want in or out", f.Name, f.Binding.Direction)
		}
		for _, n := range []string{f.Name, f.Name + V6Suffix} {
			if b.names.take("acl|"+n, n) != n {
				return nil, fmt.Errorf("filter %s: ACL name %s used twice", f.Name, n)
			}
		}
	}
	for _, f := range in.Filters {
		if err := b.filter(f); err != nil {
			return nil, fmt.Errorf("filter %s: %w", f.Name, err)
		}
	}
	c := b.cfg
	for _, g := range b.groups {
		c.Groups = append(c.Groups, g)
	}
	c.sort()
	return c, nil
}

type builder struct {
	d      *Dialect
	in     *intent.Intent
	cfg    *Config
	names  names
	groups map[string]*Group // by name
	// setGroup caches the group made for a set and family.
	setGroup map[string]string
}

func (b *builder) filter(f *intent.Filter) error {
	d := b.d
	acls := [2]*ACL{{Name: f.Name}, {Name: f.Name + V6Suffix, V6: true}}
	for i, v := range []int{4, 6} {
		a := acls[i]
		if o := d.aclOption(); o != "" {
			a.Options = []string{o}
		}
		for _, r := range f.Rules {
			rules, err := b.rule(r, v)
			if err != nil {
				return fmt.Errorf("rule %s%s: %w", r.ID, flowsOf(r), err)
			}
			if len(rules) == 0 {
				continue
			}
			for _, t := range remarks(r) {
				a.Entries = append(a.Entries, &Entry{Remark: t})
			}
			for _, x := range rules {
				a.Entries = append(a.Entries, &Entry{Rule: x})
			}
		}
		if f.LogDrops && !passesAll(a) || !hasRule(a) {
			// The implicit deny, written out: logged when asked (unless
			// the list ends passing everything, and nothing reaches it),
			// and always when the list would otherwise be empty, because
			// an empty IOS ACL permits everything.
			if f.LogDrops {
				a.Entries = append(a.Entries, &Entry{Remark: "default deny, logged"})
			} else {
				a.Entries = append(a.Entries, &Entry{Remark: "default deny: no rule of this family"})
			}
			a.Entries = append(a.Entries, &Entry{Rule: &Rule{Deny: true, Proto: -1, Src: Addr{Any: true}, Dst: Addr{Any: true},
				ICMPType: -1, ICMPCode: -1, Log: f.LogDrops}})
		}
		d.number(a)
		b.cfg.ACLs = append(b.cfg.ACLs, a)
	}
	ifc := b.cfg.Iface(f.Binding.Interface)
	if ifc == nil {
		ifc = &Iface{Name: f.Binding.Interface}
		b.cfg.Ifaces = append(b.cfg.Ifaces, ifc)
	}
	for i, v6 := range []bool{false, true} {
		s := Slot{V6: v6, Dir: f.Binding.Direction}
		if cur := ifc.Get(s); cur != "" {
			return fmt.Errorf("interface %s %s: %s is bound there already: one filter per interface and direction", ifc.Name, s.Dir, cur)
		}
		ifc.Set(s, acls[i].Name)
	}
	return nil
}

// flowsOf names the playbook flows a rule came from, for errors.
func flowsOf(r *intent.Rule) string {
	if len(r.Flows) == 0 {
		return ""
	}
	ns := make([]string, len(r.Flows))
	for i, f := range r.Flows {
		ns[i] = strconv.Itoa(f)
	}
	if len(ns) == 1 {
		return " (flow " + ns[0] + ")"
	}
	return " (flows " + strings.Join(ns, ", ") + ")"
}

// passesAll reports whether a list's last rule permits every packet, as
// a network ACL's final pass does.
func passesAll(a *ACL) bool {
	for i := len(a.Entries) - 1; i >= 0; i-- {
		if r := a.Entries[i].Rule; r != nil {
			return !r.Deny && r.Proto < 0 && r.SvcGroup == "" && r.Src.Any && r.Dst.Any
		}
	}
	return false
}

func hasRule(a *ACL) bool {
	for _, e := range a.Entries {
		if e.Rule != nil {
			return true
		}
	}
	return false
}

// number gives every entry its sequence number, in steps of 10; IOS-XE
// IPv4 remarks share the number of the rule after them.
func (d *Dialect) number(a *ACL) {
	seq := 0
	var pending []*Entry
	for _, e := range a.Entries {
		if d.sharedRemarkSeq(a.V6) && e.Rule == nil {
			pending = append(pending, e)
			continue
		}
		seq += 10
		for _, p := range pending {
			p.Seq = seq
		}
		pending = nil
		e.Seq = seq
	}
	for _, p := range pending {
		p.Seq = 0 // after the last rule: unnumbered, as IOS-XE keeps it
	}
}

// remarks are the lines that say why a rule is there: each merged flow's
// why (a return rule's say it passes that flow's replies), or what the
// always-on rule does.
func remarks(r *intent.Rule) []string {
	var out []string
	for i, why := range r.Why {
		t := why
		switch {
		case i < len(r.Flows) && r.Kind == intent.Return:
			t = fmt.Sprintf("replies of flow %d: %s", r.Flows[i], why)
		case i < len(r.Flows):
			t = fmt.Sprintf("flow %d: %s", r.Flows[i], why)
		}
		if t = Remark(t); t != "" {
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	switch r.Kind {
	case intent.Established:
		return []string{"always on: replies of TCP connections (established)"}
	case intent.ICMPBase:
		return []string{"always on: essential ICMP"}
	}
	return []string{Remark(r.ID)}
}

// rule renders one Intent rule in family v: nil when it matches nothing
// of that family. Every kind the compiler gives a stateless network ACL
// is said as it is: established as TCP's ACK-or-RST match between the
// rule's addresses, a return rule's source ports on the source side, the
// protect deny and the final pass as any-protocol lines. What the
// dialects cannot say is refused, never widened.
func (b *builder) rule(r *intent.Rule, v int) ([]*Rule, error) {
	if r.Family != 0 && r.Family != v {
		return nil, nil
	}
	switch r.Kind {
	case intent.Established:
		// `established` matches TCP segments with ACK or RST: the
		// replies of TCP connections. A stateful rule (any protocol's
		// replies) has no such line: other replies are the compiler's
		// return rules, never guessed here.
		if r.AnyProto || r.Proto != policy.TCP {
			return nil, fmt.Errorf("a stateful established rule (replies of every protocol): these ACLs are stateless, `established` matches TCP only: %w", fault.ErrUnsupported)
		}
	case intent.Loopback:
		return nil, fmt.Errorf("a loopback rule has no meaning on an interface ACL: %w", fault.ErrUnsupported)
	}
	if r.Reject {
		// compile makes a reject a deny on platforms that cannot answer
		// (and says so); one that still asks for an answer is not
		// silently dropped here.
		return nil, fmt.Errorf("a reject (answering the denied packet): these ACLs deny silently: %w", fault.ErrUnsupported)
	}
	proto := int(r.Proto)
	if r.AnyProto {
		proto = -1
	}
	if (len(r.Ports) > 0 || len(r.SrcPorts) > 0) && !hasPorts(proto) {
		return nil, fmt.Errorf("ports on protocol %s, which has none: %w", b.d.protoName(proto, v == 6), fault.ErrUnsupported)
	}
	if proto == int(policy.ICMP) && v == 6 || proto == int(policy.ICMPv6) && v == 4 {
		return nil, nil
	}
	src, ok, err := b.addrs(r.Src, v)
	if err != nil || !ok {
		return nil, err
	}
	dst, ok, err := b.addrs(r.Dst, v)
	if err != nil || !ok {
		return nil, err
	}
	srcPorts := []Ports{{}}
	if len(r.SrcPorts) > 0 {
		// IOS-XE service groups carry destination ports only.
		srcPorts, _ = b.ports(proto, r.SrcPorts, v == 6, false)
	}
	ports := []Ports{{}}
	svc := ""
	if len(r.Ports) > 0 {
		// A service group names the protocol in place of the rule's, so
		// it takes no source ports beside it.
		ports, svc = b.ports(proto, r.Ports, v == 6, len(r.SrcPorts) == 0)
	}
	types := []int{-1}
	if proto == 1 || proto == 58 {
		if len(r.ICMP) > 0 {
			types = r.ICMP
		}
	}
	var out []*Rule
	for _, s := range src {
		for _, sp := range srcPorts {
			for _, t := range dst {
				for _, p := range ports {
					for _, ty := range types {
						out = append(out, &Rule{Deny: r.Deny, Proto: proto, SvcGroup: svc, Src: s, Dst: t,
							SrcPorts: sp, DstPorts: p, ICMPType: ty, ICMPCode: -1, Established: r.Kind == intent.Established, Log: r.Log})
					}
				}
			}
		}
	}
	return out, nil
}

// addrs renders one side of a rule in family v: any, one prefix, an
// object-group, or (where the dialect has none) every prefix. ok is false
// when the set holds nothing of the family.
func (b *builder) addrs(set string, v int) ([]Addr, bool, error) {
	if set == "" {
		return []Addr{{Any: true}}, true, nil
	}
	s := b.in.Set(set)
	if s == nil {
		return nil, false, fmt.Errorf("address set %q is not in the Intent", set)
	}
	ps := intent.Aggregate(s.Family(v))
	switch {
	case len(ps) == 0:
		return nil, false, nil
	case len(ps) == 1 && ps[0].Bits() == 0:
		return []Addr{{Any: true}}, true, nil
	case len(ps) == 1:
		return []Addr{{Prefix: ps[0]}}, true, nil
	}
	kind := b.d.addrGroupKind(v == 6)
	if kind == "" {
		out := make([]Addr, len(ps))
		for i, p := range ps {
			out[i] = Addr{Prefix: p}
		}
		return out, true, nil
	}
	key := fmt.Sprintf("addr|%s|%d", set, v)
	if b.setGroup == nil {
		b.setGroup = map[string]string{}
	}
	if n, ok := b.setGroup[key]; ok {
		return []Addr{{Group: n}}, true, nil
	}
	// Internal sets are named _fwpush-...: the prefix says nothing twice.
	stem := strings.TrimPrefix(sanitize(set), Prefix)
	if stem == "" {
		stem = "SET"
	}
	want := fit(key, stem)
	if v == 6 {
		want = fit(key, stem, "V6")
	}
	name := b.names.take(key, want)
	g := &Group{Kind: kind, Name: name}
	if b.d.Syntax == IOS {
		g.Description = Remark("fwpush set " + set + ": " + strings.Join(s.Members, ", "))
	}
	for i, p := range ps {
		g.Members = append(g.Members, &Member{Seq: 10 * (i + 1), Prefix: p, Proto: -1, ICMPType: -1})
	}
	b.groups[name] = g
	b.setGroup[key] = name
	return []Addr{{Group: name}}, true, nil
}

// ports renders a rule's destination or source ports: one match for one
// range; a port object-group for several where the dialect has them, or
// an IOS-XE service group when svcOK (destination ports of a rule with no
// source ports); else as few matches as the dialect's `eq` lists allow.
func (b *builder) ports(proto int, rs []policy.PortRange, v6, svcOK bool) ([]Ports, string) {
	var single []int
	var matches []Ports
	for _, r := range rs {
		switch {
		case r.Lo == 0 && r.Hi == 65535:
			return []Ports{{}}, ""
		case r.Lo == r.Hi:
			single = append(single, int(r.Lo))
		default:
			matches = append(matches, Ports{Op: "range", Ports: []int{int(r.Lo), int(r.Hi)}})
		}
	}
	if len(single)+len(matches) == 1 {
		if len(single) == 1 {
			return []Ports{{Op: "eq", Ports: single}}, ""
		}
		return matches, ""
	}
	kind := b.d.portGroupKind(v6)
	if kind == SvcGroup && !svcOK {
		kind = ""
	}
	if kind == "" {
		var out []Ports
		for i := 0; i < len(single); i += b.d.maxEq() {
			out = append(out, Ports{Op: "eq", Ports: single[i:min(i+b.d.maxEq(), len(single))]})
		}
		return append(out, matches...), ""
	}
	var parts []string
	for _, r := range rs {
		if r.Lo == r.Hi {
			parts = append(parts, strconv.Itoa(int(r.Lo)))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", r.Lo, r.Hi))
		}
	}
	key := fmt.Sprintf("ports|%s|%d|%s", kind, proto, strings.Join(parts, ","))
	var want string
	if kind == SvcGroup {
		want = fit(key, append([]string{"SVC", strings.ToUpper(b.d.protoName(proto, false))}, parts...)...)
	} else {
		want = fit(key, append([]string{"PORTS"}, parts...)...)
	}
	name := b.names.take(key, want)
	if g := b.groups[name]; g != nil {
		if kind == SvcGroup {
			return []Ports{{}}, name
		}
		return []Ports{{Op: "portgroup", Group: name}}, ""
	}
	g := &Group{Kind: kind, Name: name}
	for i, r := range rs {
		m := &Member{Seq: 10 * (i + 1), Proto: proto, ICMPType: -1}
		if r.Lo == r.Hi {
			m.Ports = Ports{Op: "eq", Ports: []int{int(r.Lo)}}
		} else {
			m.Ports = Ports{Op: "range", Ports: []int{int(r.Lo), int(r.Hi)}}
		}
		g.Members = append(g.Members, m)
	}
	b.groups[name] = g
	if kind == SvcGroup {
		return []Ports{{}}, name
	}
	return []Ports{{Op: "portgroup", Group: name}}, ""
}

// sort puts a config in canonical order.
func (c *Config) sort() {
	sort.Slice(c.Groups, func(i, j int) bool { return c.Groups[i].Name < c.Groups[j].Name })
	sort.SliceStable(c.ACLs, func(i, j int) bool {
		if c.ACLs[i].Name != c.ACLs[j].Name {
			return c.ACLs[i].Name < c.ACLs[j].Name
		}
		return !c.ACLs[i].V6 && c.ACLs[j].V6
	})
	sort.Slice(c.Ifaces, func(i, j int) bool { return c.Ifaces[i].Name < c.Ifaces[j].Name })
}

// prefixFor is a host or network as a full-length prefix.
func prefixFor(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }
