package netsim

import (
	"net/netip"
	"strconv"
	"strings"
)

// ruleParser reads the body of an ACL entry — `permit tcp host A any eq
// www established log` — in one dialect's syntax, reporting the first
// token it cannot accept, as the device's caret does.
type ruleParser struct {
	d    dialect
	cfg  *Config
	v6   bool
	toks []token
	i    int
	end  int
}

func (p *ruleParser) peek() (token, bool) {
	if p.i >= len(p.toks) {
		return token{}, false
	}
	return p.toks[p.i], true
}

func (p *ruleParser) next() (token, error) {
	t, ok := p.peek()
	if !ok {
		return token{}, &cliError{kind: errIncomplete, col: p.end}
	}
	p.i++
	return t, nil
}

func (p *ruleParser) plat() Platform { return p.d.name() }

// parseRule parses toks, the first being permit or deny (already matched).
func parseRule(d dialect, cfg *Config, v6 bool, action string, toks []token, end int) (*Rule, error) {
	p := &ruleParser{d: d, cfg: cfg, v6: v6, toks: toks, end: end}
	r := &Rule{Action: action, ICMPType: -1, ICMPCode: -1}
	if err := p.proto(r); err != nil {
		return nil, err
	}
	var err error
	if r.Src, err = p.addr(); err != nil {
		return nil, err
	}
	if r.SrcPort, err = p.ports(r.Proto); err != nil {
		return nil, err
	}
	if r.Dst, err = p.addr(); err != nil {
		return nil, err
	}
	if r.DstPort, err = p.ports(r.Proto); err != nil {
		return nil, err
	}
	if err := p.options(r); err != nil {
		return nil, err
	}
	return r, nil
}

func (p *ruleParser) proto(r *Rule) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(t.text); err == nil {
		if n < 0 || n > 255 {
			return invalidDetail(t, "Invalid number, range is (0:255)")
		}
		r.ProtoNum = n
		r.Proto = protoName(n)
		if p.v6 && n == 1 {
			r.Proto = "1"
		}
		return nil
	}
	words := []string{"icmp", "tcp", "udp", "esp", "ahp", "pim", "sctp", "gre"}
	if p.v6 {
		words = append(words, "ipv6")
		if p.plat() == PlatformEOS {
			// EOS names ICMPv6 icmpv6 in IPv6 lists.
			words = append(words, "icmpv6")
		}
	} else {
		words = append(words, "ip", "igmp", "eigrp", "ospf", "nos", "pcp")
		if p.plat() == PlatformEOS {
			words = append(words, "vrrp")
		}
		if p.plat() == PlatformIOSXE {
			words = append(words, "object-group")
		}
	}
	w, err := matchKeyword(t, words...)
	if err != nil {
		return err
	}
	if w == "object-group" {
		gt, err := p.next()
		if err != nil {
			return err
		}
		if p.cfg.groups[groupKey("service", gt.text)] == nil {
			return refuse("%% Object-group %s does not exist", gt.text)
		}
		r.SvcGroup = gt.text
		r.Proto = "object-group"
		r.ProtoNum = -1
		return nil
	}
	r.Proto = w
	switch w {
	case "ipv6":
		r.ProtoNum = -1
	case "icmp":
		r.ProtoNum = 1
		if p.v6 {
			r.ProtoNum = 58
		}
	case "icmpv6":
		r.ProtoNum = 58
	default:
		r.ProtoNum = protoNames[w]
	}
	return nil
}

func (p *ruleParser) addr() (Addr, error) {
	t, err := p.next()
	if err != nil {
		return Addr{}, err
	}
	if a, err := netip.ParsePrefix(t.text); err == nil && strings.Contains(t.text, "/") {
		if p.plat() == PlatformIOSXE && !p.v6 {
			return Addr{}, invalidAt(t)
		}
		if a.Addr().Is4() == p.v6 {
			return Addr{}, invalidDetail(t, "Invalid ip address")
		}
		ip := a.Addr()
		if p.plat() != PlatformNXOS {
			ip = a.Masked().Addr()
		}
		return Addr{Kind: AddrPrefix, IP: ip, Bits: a.Bits()}, nil
	}
	if a, err := netip.ParseAddr(t.text); err == nil {
		if p.v6 || !a.Is4() {
			return Addr{}, invalidDetail(t, "Invalid ip address")
		}
		if p.plat() == PlatformEOS {
			return Addr{}, invalidAt(t)
		}
		wt, err := p.next()
		if err != nil {
			return Addr{}, err
		}
		w, err := netip.ParseAddr(wt.text)
		if err != nil || !w.Is4() {
			return Addr{}, invalidDetail(wt, "Invalid ip address")
		}
		ip := a
		if p.plat() == PlatformIOSXE {
			// IOS stores "A 0.0.0.0" as host A and "A 255.255.255.255" as
			// any; it keeps A as typed (fixture ansible_ios_acls__parsed.cfg:
			// "10.57.66.243 0.0.0.7").
			switch w {
			case netip.IPv4Unspecified():
				return Addr{Kind: AddrHost, IP: a}, nil
			case netip.AddrFrom4([4]byte{255, 255, 255, 255}):
				return Addr{Kind: AddrAny}, nil
			}
		}
		return Addr{Kind: AddrWild, IP: ip, Wild: w}, nil
	}
	if looksLikeAddr(t.text) {
		return Addr{}, invalidDetail(t, "Invalid ip address")
	}
	words := []string{"any", "host"}
	switch {
	case p.plat() == PlatformIOSXE && !p.v6:
		words = append(words, "object-group")
	case p.plat() == PlatformNXOS:
		words = append(words, "addrgroup")
	}
	w, err := matchKeyword(t, words...)
	if err != nil {
		return Addr{}, err
	}
	switch w {
	case "any":
		return Addr{Kind: AddrAny}, nil
	case "host":
		ht, err := p.next()
		if err != nil {
			return Addr{}, err
		}
		a, err := netip.ParseAddr(ht.text)
		if err != nil || a.Is4() == p.v6 {
			return Addr{}, invalidDetail(ht, "Invalid ip address")
		}
		return Addr{Kind: AddrHost, IP: a}, nil
	default:
		gt, err := p.next()
		if err != nil {
			return Addr{}, err
		}
		kind := "network"
		if p.plat() == PlatformNXOS {
			kind = "ip address"
			if p.v6 {
				kind = "ipv6 address"
			}
		}
		if p.cfg.groups[groupKey(kind, gt.text)] == nil {
			return Addr{}, p.d.noGroup(gt.text)
		}
		return Addr{Kind: AddrGroup, Group: gt.text}, nil
	}
}

func (p *ruleParser) ports(proto string) (*PortMatch, error) {
	if proto != "tcp" && proto != "udp" && proto != "sctp" && proto != "tcp-udp" {
		return nil, nil
	}
	t, ok := p.peek()
	if !ok {
		return nil, nil
	}
	ops := []string{"eq", "neq", "lt", "gt", "range"}
	if p.plat() == PlatformNXOS {
		ops = append(ops, "portgroup")
	}
	op, err := matchKeyword(t, ops...)
	if err != nil {
		// Not an operator: the next field (an address or an option).
		return nil, nil
	}
	p.i++
	pm := &PortMatch{Op: op}
	if op == "portgroup" {
		gt, err := p.next()
		if err != nil {
			return nil, err
		}
		if p.cfg.groups[groupKey("ip port", gt.text)] == nil {
			return nil, p.d.noGroup(gt.text)
		}
		pm.Group = gt.text
		return pm, nil
	}
	want := 1
	if op == "range" {
		want = 2
	}
	for n := 0; ; n++ {
		t, ok := p.peek()
		if !ok {
			if n < want {
				return nil, &cliError{kind: errIncomplete, col: p.end}
			}
			break
		}
		v, ok := parsePort(p.d, proto, t.text)
		if !ok {
			if n < want {
				if _, err := strconv.Atoi(t.text); err == nil {
					return nil, invalidDetail(t, "Invalid number, range is (0:65535)")
				}
				return nil, invalidAt(t)
			}
			break
		}
		p.i++
		pm.Ports = append(pm.Ports, v)
		pm.Typed = append(pm.Typed, t.text)
		// eq and neq take a list on IOS-XE and EOS (up to 10 ports), one
		// port on NX-OS; lt, gt take one, range two.
		multi := (op == "eq" || op == "neq") && p.plat() != PlatformNXOS && len(pm.Ports) < 10
		if n+1 >= want && !multi {
			break
		}
	}
	if op == "range" && pm.Ports[0] > pm.Ports[1] {
		if p.plat() == PlatformNXOS {
			// NX-OS swaps a reversed range for you.
			pm.Ports[0], pm.Ports[1] = pm.Ports[1], pm.Ports[0]
			pm.Typed[0], pm.Typed[1] = pm.Typed[1], pm.Typed[0]
		} else {
			return nil, invalidAt(p.toks[p.i-1])
		}
	}
	return pm, nil
}

func (p *ruleParser) options(r *Rule) error {
	first := true
	for {
		t, ok := p.peek()
		if !ok {
			return nil
		}
		if first && (r.ProtoNum == 1 || r.ProtoNum == 58) {
			first = false
			if n, err := strconv.Atoi(t.text); err == nil {
				if n < 0 || n > 255 {
					return invalidDetail(t, "Invalid number, range is (0:255)")
				}
				p.i++
				r.ICMPType = n
				if ct, ok := p.peek(); ok {
					if c, err := strconv.Atoi(ct.text); err == nil && c >= 0 && c <= 255 {
						p.i++
						r.ICMPCode = c
					}
				}
				r.ICMPName = icmpText(p.d, p.v6, r.ICMPType, r.ICMPCode)
				continue
			}
			if typ, code, name, ok := icmpByName(p.v6, strings.ToLower(t.text)); ok {
				p.i++
				r.ICMPType, r.ICMPCode = typ, code
				r.ICMPName = name
				continue
			}
		}
		first = false
		words := []string{"log"}
		if r.Proto == "tcp" {
			words = append(words, "established")
		}
		if p.plat() == PlatformIOSXE {
			words = append(words, "log-input")
		}
		w, err := matchKeyword(t, words...)
		if err != nil {
			return err
		}
		p.i++
		switch w {
		case "established":
			if r.Est {
				return invalidAt(t)
			}
			r.Est = true
		default:
			if r.Log != "" {
				return invalidAt(t)
			}
			r.Log = w
		}
	}
}

func icmpByName(v6 bool, s string) (typ, code int, name string, ok bool) {
	if v6 {
		if t, ok := icmp6Types[s]; ok {
			return t, -1, s, true
		}
		return 0, 0, "", false
	}
	if t, ok := icmp4Types[s]; ok {
		return t, -1, s, true
	}
	if tc, ok := icmp4Codes[s]; ok {
		return tc[0], tc[1], s, true
	}
	return 0, 0, "", false
}

// icmpText prints numeric ICMP type/code as the dialect does: IOS-XE and
// EOS print the name when there is one; NX-OS keeps what was typed.
func icmpText(d dialect, v6 bool, typ, code int) string {
	if d.name() != PlatformNXOS {
		if code < 0 {
			if n := icmpTypeName(v6, typ); n != "" {
				return n
			}
		} else if !v6 {
			for n, tc := range icmp4Codes {
				if tc[0] == typ && tc[1] == code {
					return n
				}
			}
		}
	}
	if code < 0 {
		return strconv.Itoa(typ)
	}
	return strconv.Itoa(typ) + " " + strconv.Itoa(code)
}

// renderRule prints a rule body as the dialect prints it.
func renderRule(d dialect, v6 bool, r *Rule) string {
	var b []string
	b = append(b, r.Action)
	if r.SvcGroup != "" {
		b = append(b, "object-group", r.SvcGroup)
	} else {
		b = append(b, r.Proto)
	}
	b = append(b, renderAddr(d, v6, r.Src))
	b = append(b, renderPorts(d, r.Proto, r.SrcPort)...)
	b = append(b, renderAddr(d, v6, r.Dst))
	b = append(b, renderPorts(d, r.Proto, r.DstPort)...)
	if r.ICMPName != "" {
		b = append(b, r.ICMPName)
	}
	if r.Est {
		b = append(b, "established")
	}
	if r.Log != "" {
		b = append(b, r.Log)
	}
	return strings.Join(b, " ")
}

func renderIP(d dialect, a netip.Addr) string {
	if a.Is6() && d.name() == PlatformIOSXE {
		return strings.ToUpper(a.String())
	}
	return a.String()
}

func renderAddr(d dialect, v6 bool, a Addr) string {
	switch a.Kind {
	case AddrAny:
		return "any"
	case AddrHost:
		if d.name() == PlatformNXOS {
			return a.IP.String() + "/" + strconv.Itoa(a.IP.BitLen())
		}
		return "host " + renderIP(d, a.IP)
	case AddrWild:
		return a.IP.String() + " " + a.Wild.String()
	case AddrPrefix:
		return renderIP(d, a.IP) + "/" + strconv.Itoa(a.Bits)
	case AddrGroup:
		if d.name() == PlatformNXOS {
			return "addrgroup " + a.Group
		}
		return "object-group " + a.Group
	}
	return ""
}

func renderPorts(d dialect, proto string, p *PortMatch) []string {
	if p == nil {
		return nil
	}
	if p.Op == "portgroup" {
		return []string{"portgroup", p.Group}
	}
	if d.name() == PlatformNXOS && len(p.Typed) > 0 {
		return append([]string{p.Op}, p.Typed...)
	}
	out := []string{p.Op}
	for _, v := range p.Ports {
		out = append(out, portName(d, proto, v))
	}
	return out
}

// looksLikeAddr: a token starting with a digit and holding a dot or colon
// was meant as an address (NX-OS then says "Invalid ip address").
func looksLikeAddr(s string) bool {
	return s != "" && s[0] >= '0' && s[0] <= '9' && strings.ContainsAny(s, ".:")
}
