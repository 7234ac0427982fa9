package winsim

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/testbed/enforce"
)

// Rule is one Windows Defender Firewall rule as the NetSecurity cmdlets
// report it: addresses in Windows' own forms (an IPv4 subnet with a dotted
// mask, a single address bare), "Any" for no restriction.
type Rule struct {
	Name, DisplayName, Group, Description string
	Direction                             string // Inbound, Outbound
	Action                                string // Allow, Block
	Enabled                               bool
	Profile                               []string
	Protocol                              string // TCP, UDP, ICMPv4, ICMPv6, Any, or a number
	LocalPort, RemotePort, IcmpType       []string
	LocalAddress, RemoteAddress           []string
}

// Profile is a firewall profile's switches.
type Profile struct {
	Name                                        string // Domain, Private, Public
	Enabled                                     bool
	DefaultInboundAction, DefaultOutboundAction string // NotConfigured, Allow, Block
}

func defaultProfiles() []Profile {
	var out []Profile
	for _, n := range []string{"Domain", "Private", "Public"} {
		out = append(out, Profile{Name: n, Enabled: true, DefaultInboundAction: "NotConfigured", DefaultOutboundAction: "NotConfigured"})
	}
	return out
}

// invented marks messages whose wording was not checked against Windows.
const invented = "fwpush lab simulator (winsim): "

// normAddress checks one address filter entry and returns it as Windows
// reports it.
func normAddress(s string) (string, error) {
	if strings.EqualFold(s, "any") {
		return "Any", nil
	}
	bad := winErr("The address is invalid. Addresses may be specified as IP addresses, ranges, or subnets. Also, the following address keywords are allowed in certain places: LocalSubnet, DNS, DHCP, WINS, DefaultGateway, Internet, Intranet, IntranetRemoteAccess, PlayToDevice. Keywords can be restricted to IPv4 or IPv6 by appending a 4 or 6.")
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(lo)
		b, err2 := netip.ParseAddr(hi)
		if err1 != nil || err2 != nil || a.Is4() != b.Is4() || b.Less(a) {
			return "", bad
		}
		return a.String() + "-" + b.String(), nil
	}
	if strings.Contains(s, "/") {
		addr, mask, _ := strings.Cut(s, "/")
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return "", bad
		}
		bits := -1
		if n, err := strconv.Atoi(mask); err == nil {
			bits = n
		} else if m, err := netip.ParseAddr(mask); err == nil && m.Is4() && a.Is4() {
			bits = maskBits(m)
		}
		if bits < 0 || bits > a.BitLen() {
			return "", bad
		}
		p := netip.PrefixFrom(a, bits).Masked()
		if p.IsSingleIP() {
			return p.Addr().String(), nil
		}
		if a.Is4() {
			return p.Addr().String() + "/" + dottedMask(bits), nil
		}
		return p.String(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		if isKeyword(s) {
			return "", winErr(invented+"the address keyword %s is not modelled", s)
		}
		return "", bad
	}
	return a.String(), nil
}

func isKeyword(s string) bool {
	for _, k := range []string{"LocalSubnet", "DNS", "DHCP", "WINS", "DefaultGateway", "Internet", "Intranet", "IntranetRemoteAccess", "PlayToDevice"} {
		if strings.EqualFold(strings.TrimRight(s, "46"), k) {
			return true
		}
	}
	return false
}

func maskBits(m netip.Addr) int {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return -1
	}
	return n
}

func dottedMask(bits int) string {
	v := ^uint32(0) << (32 - bits)
	if bits == 0 {
		v = 0
	}
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&255, v>>8&255, v&255)
}

// prefixes turns an address filter into prefixes (nil for Any).
func prefixes(addrs []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range addrs {
		if s == "Any" {
			return nil
		}
		if lo, hi, ok := strings.Cut(s, "-"); ok {
			r := netipx.IPRangeFrom(netip.MustParseAddr(lo), netip.MustParseAddr(hi))
			out = append(out, r.Prefixes()...)
			continue
		}
		if a, mask, ok := strings.Cut(s, "/"); ok {
			addr := netip.MustParseAddr(a)
			bits, err := strconv.Atoi(mask)
			if err != nil {
				bits = maskBits(netip.MustParseAddr(mask))
			}
			out = append(out, netip.PrefixFrom(addr, bits))
			continue
		}
		a := netip.MustParseAddr(s)
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

// normPorts checks a port filter entry list: numbers, ranges.
func normPorts(ps []string) ([]string, error) {
	var out []string
	for _, p := range ps {
		if strings.EqualFold(p, "any") {
			return []string{"Any"}, nil
		}
		lo, hi, isRange := strings.Cut(p, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b > 65535 || b < a {
			return nil, winErr("The port is invalid. When Protocol is TCP or UDP, individual ports or ranges are allowed. Also, the following port keywords are allowed on LocalPort: RPC, RPCEPMap, Teredo, IPHTTPSIn, IPHTTPSOut, PlayToDiscovery.")
		}
		out = append(out, p)
	}
	return out, nil
}

func portRanges(ps []string) []enforce.PortRange {
	var out []enforce.PortRange
	for _, p := range ps {
		if p == "Any" {
			return nil
		}
		lo, hi, isRange := strings.Cut(p, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		out = append(out, enforce.PortRange{Lo: uint16(a), Hi: uint16(b)})
	}
	return out
}

// protoNumber maps a rule's protocol to an IP protocol number (0: any).
func protoNumber(p string) uint8 {
	switch strings.ToUpper(p) {
	case "TCP":
		return 6
	case "UDP":
		return 17
	case "ICMPV4":
		return 1
	case "ICMPV6":
		return 58
	case "ANY", "":
		return 0
	}
	n, _ := strconv.Atoi(p)
	return uint8(n)
}

// state is what the host enforces: Windows Firewall is stateful (replies
// pass), loopback is exempt (enforce always accepts lo), Block rules win
// over Allow rules whatever their order, and what no rule allows falls to
// the profile's default action (NotConfigured means Block inbound, Allow
// outbound). The simulated host is on one network whose profile is Domain.
func (d *Device) state() enforce.State {
	prof := d.profiles[0]
	for _, p := range d.profiles {
		if p.Name == activeProfile {
			prof = p
		}
	}
	if !prof.Enabled {
		return enforce.State{Host: &enforce.HostPolicy{}}
	}
	build := func(dir string, def enforce.Action) *enforce.Filter {
		f := &enforce.Filter{Name: "windows-" + strings.ToLower(dir), Default: def}
		f.Rules = append(f.Rules, enforce.Rule{Action: enforce.Permit, Stateful: true, Comment: "stateful"})
		for _, action := range []string{"Block", "Allow"} {
			for _, name := range d.ruleOrder() {
				r := d.rules[strings.ToLower(name)]
				if !r.Enabled || r.Direction != dir || r.Action != action || !inProfile(r.Profile) {
					continue
				}
				f.Rules = append(f.Rules, enforceRule(r, dir))
			}
		}
		return f
	}
	in := enforce.Deny
	if prof.DefaultInboundAction == "Allow" {
		in = enforce.Permit
	}
	out := enforce.Permit
	if prof.DefaultOutboundAction == "Block" {
		out = enforce.Deny
	}
	hp := &enforce.HostPolicy{Input: build("Inbound", in)}
	if o := build("Outbound", out); len(o.Rules) > 1 || out == enforce.Deny {
		hp.Output = o
	}
	return enforce.State{Host: hp}
}

const activeProfile = "Domain"

func inProfile(ps []string) bool {
	for _, p := range ps {
		if p == "Any" || p == activeProfile {
			return true
		}
	}
	return false
}

func enforceRule(r *Rule, dir string) enforce.Rule {
	e := enforce.Rule{Action: enforce.Permit, Proto: protoNumber(r.Protocol)}
	if r.Action == "Block" {
		e.Action = enforce.Deny
	}
	remote, local := prefixes(r.RemoteAddress), prefixes(r.LocalAddress)
	lports, rports := portRanges(r.LocalPort), portRanges(r.RemotePort)
	if dir == "Inbound" {
		e.Src, e.Dst, e.DstPorts, e.SrcPorts = remote, local, lports, rports
	} else {
		e.Src, e.Dst, e.SrcPorts, e.DstPorts = local, remote, lports, rports
	}
	switch e.Proto {
	case 1:
		e.Family = 4
	case 58:
		e.Family = 6
	}
	for _, t := range r.IcmpType {
		if t == "Any" {
			e.ICMPTypes = nil
			break
		}
		typ, _, _ := strings.Cut(t, ":")
		n, _ := strconv.Atoi(typ)
		e.ICMPTypes = append(e.ICMPTypes, uint8(n))
	}
	e.Comment = commentOf(r.Name)
	return e
}

// commentOf keeps what enforce accepts as a comment.
func commentOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x20 && r < 0x7f && r != '"' && r != '\\' && b.Len() < 100 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (d *Device) ruleOrder() []string {
	names := make([]string, 0, len(d.rules))
	for _, r := range d.rules {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	return names
}
