package netacl

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Device is what a parse of device output found: every ACL and
// object-group (fwpush's or not), every interface's ACL bindings, and the
// NX-OS EEM applets by name.
type Device struct {
	Config
	Applets []string
}

// Parse reads configuration text in the dialect's syntax — running-config
// output (`show running-config | section ...`) or canonical text — into
// its ACLs, object-groups and bindings. Blocks it does not model are
// skipped; a line of a modelled block it does not understand is kept
// verbatim (Raw), so a hand edit of an owned ACL shows in a diff instead
// of vanishing. It fails only on text that is not configuration at all:
// an indented line before any block.
func (d *Dialect) Parse(text string) (*Device, error) {
	dev := &Device{}
	var cur func(line string)
	for _, raw := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n") {
		line := strings.TrimRight(raw, " \t")
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			// Blank lines separate NX-OS blocks, and Capirca puts them
			// inside ACLs: only a new block ends one.
			continue
		case strings.HasPrefix(t, "!") || t == "end":
			if !strings.HasPrefix(line, " ") {
				cur = nil
			}
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			cur = d.block(dev, strings.Fields(t))
			continue
		}
		if cur == nil {
			// Lines of a block the parser skips (or of output noise).
			continue
		}
		cur(t)
	}
	return dev, nil
}

// block starts the block headed by f and returns what reads its lines
// (nil for a block the parser skips).
func (d *Dialect) block(dev *Device, f []string) func(string) {
	switch {
	case len(f) >= 3 && f[0] == "ip" && f[1] == "access-list":
		name := f[2]
		switch {
		case f[2] == "standard" || f[2] == "resequence":
			return nil
		case f[2] == "extended" && len(f) == 4:
			name = f[3]
		case len(f) != 3:
			return nil
		}
		return d.aclBlock(dev, name, false)
	case len(f) == 3 && f[0] == "ipv6" && f[1] == "access-list":
		return d.aclBlock(dev, f[2], true)
	case len(f) == 3 && f[0] == "object-group" && (f[1] == "network" || f[1] == "service"):
		return d.groupBlock(dev, GroupKind(f[1]), f[2])
	case len(f) == 4 && f[0] == "object-group" && (f[1] == "ip" || f[1] == "ipv6") && (f[2] == "address" || f[2] == "port"):
		return d.groupBlock(dev, GroupKind(f[1]+" "+f[2]), f[3])
	case len(f) >= 2 && f[0] == "interface":
		name := strings.Join(f[1:], "")
		i := dev.Iface(name)
		if i == nil {
			i = &Iface{Name: name}
			dev.Ifaces = append(dev.Ifaces, i)
		}
		return func(l string) { d.bindLine(i, strings.Fields(l)) }
	case len(f) == 4 && f[0] == "event" && f[1] == "manager" && f[2] == "applet":
		dev.Applets = append(dev.Applets, f[3])
	}
	return nil
}

func (d *Dialect) bindLine(i *Iface, f []string) {
	if len(f) != 4 || (f[3] != "in" && f[3] != "out") {
		return
	}
	switch f[0] + " " + f[1] {
	case "ip access-group":
		i.Set(Slot{false, f[3]}, f[2])
	case "ipv6 traffic-filter", "ipv6 access-group":
		i.Set(Slot{true, f[3]}, f[2])
	}
}

func (d *Dialect) aclBlock(dev *Device, name string, v6 bool) func(string) {
	a := dev.ACL(name, v6)
	if a == nil {
		a = &ACL{Name: name, V6: v6}
		dev.ACLs = append(dev.ACLs, a)
	}
	return func(l string) {
		f := strings.Fields(l)
		seq := 0
		if len(f) > 1 && f[0] == "sequence" {
			f, l = f[1:], strings.TrimSpace(strings.TrimPrefix(l, "sequence"))
		}
		if n, err := strconv.Atoi(f[0]); err == nil && len(f) > 1 {
			seq = n
			l = strings.TrimSpace(l[len(f[0]):])
			f = f[1:]
		}
		switch {
		case f[0] == "remark":
			a.Entries = append(a.Entries, &Entry{Seq: seq, Remark: strings.TrimSpace(strings.TrimPrefix(l, "remark"))})
		case f[0] == "permit" || f[0] == "deny":
			r, err := d.ParseRule(f, v6)
			if err != nil {
				a.Entries = append(a.Entries, &Entry{Seq: seq, Raw: l})
				return
			}
			a.Entries = append(a.Entries, &Entry{Seq: seq, Rule: r})
		case seq == 0 && (l == "statistics per-entry" || l == "counters per-entry"):
			a.Options = append(a.Options, l)
		default:
			a.Entries = append(a.Entries, &Entry{Seq: seq, Raw: l})
		}
	}
}

func (d *Dialect) groupBlock(dev *Device, kind GroupKind, name string) func(string) {
	g := dev.Group(name)
	if g == nil {
		g = &Group{Kind: kind, Name: name}
		dev.Groups = append(dev.Groups, g)
	}
	return func(l string) {
		f := strings.Fields(l)
		if f[0] == "description" {
			g.Description = strings.TrimSpace(strings.TrimPrefix(l, "description"))
			return
		}
		seq := 0
		if n, err := strconv.Atoi(f[0]); err == nil && len(f) > 1 && kind != SvcGroup {
			seq, f = n, f[1:]
			l = strings.TrimSpace(l[len(strconv.Itoa(n)):])
		}
		m, err := d.parseMember(kind, f)
		if err != nil {
			m = &Member{Raw: l}
		}
		m.Seq = seq
		g.Members = append(g.Members, m)
	}
}

func (d *Dialect) parseMember(kind GroupKind, f []string) (*Member, error) {
	m := &Member{Proto: -1, ICMPType: -1}
	p := &ruleParser{d: d, v6: kind == Addr6, toks: f}
	switch kind {
	case NetGroup, Addr4, Addr6:
		if f[0] == "network-object" && len(f) > 1 {
			p.i = 1
		}
		switch p.peek() {
		case "group-object":
			if len(f) != 2 {
				return nil, errBad
			}
			m.Group = f[1]
			return m, nil
		case "range":
			if len(f) != 3 {
				return nil, errBad
			}
			lo, err1 := netip.ParseAddr(f[1])
			hi, err2 := netip.ParseAddr(f[2])
			if err1 != nil || err2 != nil {
				return nil, errBad
			}
			m.Range = [2]netip.Addr{lo, hi}
			return m, nil
		}
		a, err := p.addr(kind == NetGroup)
		if err != nil || !p.done() {
			return nil, errBad
		}
		m.Any, m.Prefix, m.Wild = a.Any, a.Prefix, a.Wild
		return m, nil
	case SvcGroup:
		switch f[0] {
		case "group-object":
			if len(f) != 2 {
				return nil, errBad
			}
			m.Group = f[1]
			return m, nil
		case "tcp-udp":
			return nil, errBad // two protocols in one member: kept verbatim
		}
		proto, err := p.proto()
		if err != nil {
			return nil, err
		}
		m.Proto = proto
		if hasPorts(proto) {
			if m.Ports, err = p.ports(proto); err != nil {
				return nil, err
			}
		}
		if proto == 1 && !p.done() {
			if m.ICMPType, _, err = p.icmp(); err != nil {
				return nil, err
			}
		}
		if !p.done() {
			return nil, errBad
		}
		return m, nil
	case PortGroup:
		ports, err := p.ports(6)
		if err != nil || ports.Op == "" || !p.done() {
			return nil, errBad
		}
		m.Ports = ports
		return m, nil
	}
	return nil, errBad
}

var errBad = fmt.Errorf("not a line this parser models")

// ParseRule parses a rule body, its first field permit or deny.
func (d *Dialect) ParseRule(f []string, v6 bool) (*Rule, error) {
	p := &ruleParser{d: d, v6: v6, toks: f[1:]}
	r := &Rule{Deny: f[0] == "deny", ICMPType: -1, ICMPCode: -1}
	if p.peek() == "object-group" && d.Syntax == IOS {
		p.i++
		r.SvcGroup = p.next()
		r.Proto = -1
		if r.SvcGroup == "" {
			return nil, errBad
		}
	} else {
		var err error
		if r.Proto, err = p.proto(); err != nil {
			return nil, err
		}
	}
	var err error
	if r.Src, err = p.addr(false); err != nil {
		return nil, err
	}
	if hasPorts(r.Proto) {
		if r.SrcPorts, err = p.ports(r.Proto); err != nil {
			return nil, err
		}
	}
	if r.Dst, err = p.addr(false); err != nil {
		return nil, err
	}
	if hasPorts(r.Proto) {
		if r.DstPorts, err = p.ports(r.Proto); err != nil {
			return nil, err
		}
	}
	if (r.Proto == 1 && !v6 || r.Proto == 58 && v6) && !p.done() && !p.option() {
		if r.ICMPType, r.ICMPCode, err = p.icmp(); err != nil {
			return nil, err
		}
	}
	for !p.done() {
		switch p.next() {
		case "established":
			if r.Proto != 6 || r.Established {
				return nil, errBad
			}
			r.Established = true
		case "log":
			if r.Log {
				return nil, errBad
			}
			r.Log = true
		default:
			return nil, errBad
		}
	}
	return r, nil
}

// ruleParser walks the fields of one line.
type ruleParser struct {
	d    *Dialect
	v6   bool
	toks []string
	i    int
}

func (p *ruleParser) done() bool { return p.i >= len(p.toks) }

func (p *ruleParser) peek() string {
	if p.done() {
		return ""
	}
	return p.toks[p.i]
}

func (p *ruleParser) next() string {
	t := p.peek()
	if !p.done() {
		p.i++
	}
	return t
}

func (p *ruleParser) option() bool { return p.peek() == "established" || p.peek() == "log" }

func (p *ruleParser) proto() (int, error) {
	t := p.next()
	if n, err := strconv.Atoi(t); err == nil && n >= 0 && n <= 255 {
		return n, nil
	}
	n, ok := p.d.names.Protocols[t]
	if !ok {
		return 0, errBad
	}
	switch {
	case t == "ip" && p.v6, t == "ipv6" && !p.v6:
		return 0, errBad
	case n == 1 && p.v6:
		return 58, nil // IOS-XE and NX-OS write ICMPv6 as icmp in IPv6 lists
	}
	return n, nil
}

// addr reads an address; netmask says a second dotted quad is a netmask
// (IOS network object-groups) rather than a wildcard.
func (p *ruleParser) addr(netmask bool) (Addr, error) {
	t := p.next()
	switch t {
	case "any":
		return Addr{Any: true}, nil
	case "host":
		a, err := netip.ParseAddr(p.next())
		if err != nil || a.Is6() != p.v6 {
			return Addr{}, errBad
		}
		return Addr{Prefix: prefixFor(a)}, nil
	case "object-group", "addrgroup":
		g := p.next()
		if g == "" {
			return Addr{}, errBad
		}
		return Addr{Group: g}, nil
	}
	if strings.Contains(t, "/") {
		pf, err := netip.ParsePrefix(t)
		if err != nil || pf.Addr().Is6() != p.v6 {
			return Addr{}, errBad
		}
		return Addr{Prefix: pf}, nil
	}
	a, err := netip.ParseAddr(t)
	if err != nil || !a.Is4() || p.v6 {
		return Addr{}, errBad
	}
	w, err := netip.ParseAddr(p.next())
	if err != nil || !w.Is4() {
		return Addr{}, errBad
	}
	if netmask {
		if bits, ok := maskBits(w, false); ok {
			return Addr{Prefix: netip.PrefixFrom(a, bits)}, nil
		}
		return Addr{}, errBad
	}
	if bits, ok := maskBits(w, true); ok {
		if bits == 0 {
			return Addr{Any: true}, nil
		}
		return Addr{Prefix: netip.PrefixFrom(a, bits)}, nil
	}
	return Addr{Wild: &Wildcard{IP: a, Mask: w}}, nil
}

// maskBits reads a netmask (or, inverted, a wildcard) as a prefix length.
func maskBits(m netip.Addr, wildcard bool) (int, bool) {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if wildcard {
		v = ^v
	}
	n := 0
	for n < 32 && v&(1<<(31-n)) != 0 {
		n++
	}
	if n < 32 && v<<n != 0 {
		return 0, false
	}
	return n, true
}

// ports reads an optional port match.
func (p *ruleParser) ports(proto int) (Ports, error) {
	op := p.peek()
	want := 0
	switch op {
	case "eq", "neq":
		want = -1
	case "lt", "gt":
		want = 1
	case "range":
		want = 2
	case "portgroup":
		p.i++
		g := p.next()
		if g == "" {
			return Ports{}, errBad
		}
		return Ports{Op: op, Group: g}, nil
	default:
		return Ports{}, nil
	}
	p.i++
	pm := Ports{Op: op}
	for !p.done() && (want < 0 || len(pm.Ports) < want) {
		n, ok := p.d.port(proto, p.peek())
		if !ok {
			break
		}
		p.i++
		pm.Ports = append(pm.Ports, n)
	}
	if len(pm.Ports) == 0 || want > 0 && len(pm.Ports) != want {
		return Ports{}, errBad
	}
	return pm, nil
}

// port reads a port number or name.
func (d *Dialect) port(proto int, t string) (int, bool) {
	if n, err := strconv.Atoi(t); err == nil {
		return n, n >= 0 && n <= 65535
	}
	var n int
	var ok bool
	switch proto {
	case 6:
		n, ok = d.names.TCP[t]
	case 17:
		n, ok = d.names.UDP[t]
	default:
		if n, ok = d.names.TCP[t]; !ok {
			n, ok = d.names.UDP[t]
		}
	}
	return n, ok
}

// icmp reads an ICMP type (number or name) and an optional code.
func (p *ruleParser) icmp() (typ, code int, err error) {
	t := p.next()
	code = -1
	if n, err := strconv.Atoi(t); err == nil && n >= 0 && n <= 255 {
		if c, err := strconv.Atoi(p.peek()); err == nil && c >= 0 && c <= 255 {
			p.i++
			code = c
		}
		return n, code, nil
	}
	if p.v6 {
		if n, ok := p.d.names.ICMPv6[t]; ok {
			return n, -1, nil
		}
		return 0, 0, errBad
	}
	if n, ok := p.d.names.ICMP[t]; ok {
		return n, -1, nil
	}
	if tc, ok := p.d.names.ICMPCodes[t]; ok {
		return tc[0], tc[1], nil
	}
	return 0, 0, errBad
}
