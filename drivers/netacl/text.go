package netacl

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Text prints a config in canonical form: the dialect's own syntax (every
// line is one the device accepts), numbers where a device may print names
// (ports, ICMP types), one spelling per address form. A fetched config
// and a rendered one print the same when the device holds what was
// rendered.
func (d *Dialect) Text(c *Config) string {
	var b strings.Builder
	end := func() {
		if s := d.separator(); s != "" {
			b.WriteString(s + "\n")
		}
	}
	for _, g := range c.Groups {
		b.WriteString(d.groupHeader(g) + "\n")
		for _, l := range d.groupLines(g) {
			b.WriteString(d.indent() + l + "\n")
		}
		end()
	}
	for _, a := range c.ACLs {
		b.WriteString(d.aclHeader(a) + "\n")
		for _, l := range d.aclLines(a) {
			b.WriteString(d.indent() + l + "\n")
		}
		end()
	}
	for _, i := range c.Ifaces {
		b.WriteString("interface " + i.Name + "\n")
		for _, l := range d.bindLines(i) {
			b.WriteString(d.indent() + l + "\n")
		}
		end()
	}
	return b.String()
}

// groupLines are a group's lines after its header.
func (d *Dialect) groupLines(g *Group) []string {
	var out []string
	if g.Description != "" {
		out = append(out, "description "+g.Description)
	}
	for _, m := range g.Members {
		l := d.member(g, m)
		if d.Syntax == NXOS && m.Seq > 0 {
			l = strconv.Itoa(m.Seq) + " " + l
		}
		out = append(out, l)
	}
	return out
}

func (d *Dialect) member(g *Group, m *Member) string {
	switch {
	case m.Raw != "":
		return m.Raw
	case m.Group != "":
		return "group-object " + m.Group
	case m.Any:
		return "any"
	case m.Range[0].IsValid():
		return "range " + m.Range[0].String() + " " + m.Range[1].String()
	case m.Wild != nil:
		return m.Wild.IP.String() + " " + m.Wild.Mask.String()
	case m.Prefix.IsValid():
		if m.Prefix.IsSingleIP() {
			return "host " + m.Prefix.Addr().String()
		}
		if g.Kind == NetGroup {
			return m.Prefix.Addr().String() + " " + mask(m.Prefix, false)
		}
		return m.Prefix.String()
	}
	// A service or port member.
	parts := []string{}
	if g.Kind == SvcGroup {
		parts = append(parts, d.protoName(m.Proto, false))
	}
	parts = append(parts, portText(m.Ports)...)
	if m.ICMPType >= 0 {
		parts = append(parts, strconv.Itoa(m.ICMPType))
	}
	return strings.Join(parts, " ")
}

// aclLines are an ACL's lines after its header.
func (d *Dialect) aclLines(a *ACL) []string {
	out := append([]string(nil), a.Options...)
	for _, e := range a.Entries {
		var body string
		switch {
		case e.Raw != "":
			body = e.Raw
		case e.Rule == nil:
			body = "remark " + e.Remark
		default:
			body = d.RuleText(e.Rule, a.V6)
		}
		switch {
		case e.Seq == 0:
			out = append(out, body)
		case d.Syntax == IOS && a.V6:
			out = append(out, fmt.Sprintf("sequence %d %s", e.Seq, body))
		default:
			out = append(out, fmt.Sprintf("%d %s", e.Seq, body))
		}
	}
	return out
}

// RuleText prints a rule's body: action, protocol, addresses, ports,
// options.
func (d *Dialect) RuleText(r *Rule, v6 bool) string {
	parts := []string{"permit"}
	if r.Deny {
		parts[0] = "deny"
	}
	if r.SvcGroup != "" {
		parts = append(parts, "object-group", r.SvcGroup)
	} else {
		parts = append(parts, d.protoName(r.Proto, v6))
	}
	parts = append(parts, d.addrText(r.Src, v6))
	parts = append(parts, portText(r.SrcPorts)...)
	parts = append(parts, d.addrText(r.Dst, v6))
	parts = append(parts, portText(r.DstPorts)...)
	if r.ICMPType >= 0 {
		parts = append(parts, strconv.Itoa(r.ICMPType))
		if r.ICMPCode >= 0 {
			parts = append(parts, strconv.Itoa(r.ICMPCode))
		}
	}
	if r.Established {
		parts = append(parts, "established")
	}
	if r.Log {
		parts = append(parts, "log")
	}
	return strings.Join(parts, " ")
}

func (d *Dialect) addrText(a Addr, v6 bool) string {
	switch {
	case a.Any:
		return "any"
	case a.Group != "":
		if d.Syntax == NXOS {
			return "addrgroup " + a.Group
		}
		return "object-group " + a.Group
	case a.Wild != nil:
		return a.Wild.IP.String() + " " + a.Wild.Mask.String()
	case d.Syntax == NXOS:
		return a.Prefix.String()
	case a.Prefix.IsSingleIP():
		return "host " + a.Prefix.Addr().String()
	case d.Syntax == IOS && !v6:
		return a.Prefix.Addr().String() + " " + mask(a.Prefix, true)
	}
	return a.Prefix.String()
}

func portText(p Ports) []string {
	switch p.Op {
	case "":
		return nil
	case "portgroup":
		return []string{"portgroup", p.Group}
	}
	out := []string{p.Op}
	for _, n := range p.Ports {
		out = append(out, strconv.Itoa(n))
	}
	return out
}

// mask is an IPv4 prefix's netmask, or its wildcard (the netmask's
// complement) as Cisco ACLs write it.
func mask(p netip.Prefix, wildcard bool) string {
	m := uint32(0xffffffff) << (32 - p.Bits())
	if p.Bits() == 0 {
		m = 0
	}
	if wildcard {
		m = ^m
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// bindLines are an interface's binding lines.
func (d *Dialect) bindLines(i *Iface) []string {
	var out []string
	for _, s := range Slots {
		if n := i.Get(s); n != "" {
			out = append(out, fmt.Sprintf("%s %s %s", d.bindWord(s.V6), n, s.Dir))
		}
	}
	return out
}
