package netacl

import "net/netip"

// Packet is a packet as an ACL sees it.
type Packet struct {
	Src, Dst         netip.Addr
	Proto            int // IP protocol number
	SrcPort, DstPort int
	ICMPType         int
	ICMPCode         int
	// Ack marks a TCP segment with ACK or RST set: what `established`
	// matches, a reply of a connection.
	Ack bool
}

// Permits runs p through acl, with c's object-groups: the first entry
// whose rule matches decides, and none is the implicit deny (entry nil).
// It is how tests compare two renderings of one policy packet by packet.
func (c *Config) Permits(acl *ACL, p Packet) (bool, *Entry) {
	for _, e := range acl.Entries {
		if e.Rule != nil && c.matches(e.Rule, p) {
			return !e.Rule.Deny, e
		}
	}
	return false, nil
}

func (c *Config) matches(r *Rule, p Packet) bool {
	if !c.addrMatch(r.Src, p.Src, 0) || !c.addrMatch(r.Dst, p.Dst, 0) {
		return false
	}
	if r.SvcGroup != "" {
		g := c.Group(r.SvcGroup)
		if g == nil {
			return false
		}
		for _, m := range g.Members {
			if m.Raw == "" && m.Group == "" && c.protoMatch(m.Proto, p) && c.portsMatch(m.Ports, p.Proto, p.DstPort) &&
				(m.ICMPType < 0 || m.ICMPType == p.ICMPType) {
				return true
			}
		}
		return false
	}
	if !c.protoMatch(r.Proto, p) {
		return false
	}
	if hasPorts(r.Proto) && (!c.portsMatch(r.SrcPorts, p.Proto, p.SrcPort) || !c.portsMatch(r.DstPorts, p.Proto, p.DstPort)) {
		return false
	}
	if r.ICMPType >= 0 && (r.ICMPType != p.ICMPType || r.ICMPCode >= 0 && r.ICMPCode != p.ICMPCode) {
		return false
	}
	return !r.Established || p.Proto == 6 && p.Ack
}

func (c *Config) protoMatch(proto int, p Packet) bool { return proto < 0 || proto == p.Proto }

func (c *Config) addrMatch(a Addr, ip netip.Addr, depth int) bool {
	switch {
	case a.Any:
		return true
	case a.Wild != nil:
		return wildMatch(a.Wild, ip)
	case a.Prefix.IsValid():
		return a.Prefix.Masked().Contains(ip)
	case a.Group != "":
		g := c.Group(a.Group)
		if g == nil || depth > 8 {
			return false
		}
		for _, m := range g.Members {
			if m.Raw != "" {
				continue
			}
			if m.Group != "" {
				if c.addrMatch(Addr{Group: m.Group}, ip, depth+1) {
					return true
				}
				continue
			}
			if m.Range[0].IsValid() {
				if !ip.Less(m.Range[0]) && !m.Range[1].Less(ip) {
					return true
				}
				continue
			}
			if c.addrMatch(Addr{Any: m.Any, Prefix: m.Prefix, Wild: m.Wild}, ip, depth+1) {
				return true
			}
		}
	}
	return false
}

func wildMatch(w *Wildcard, ip netip.Addr) bool {
	if !ip.Is4() {
		return false
	}
	a, m, x := w.IP.As4(), w.Mask.As4(), ip.As4()
	for i := range a {
		if a[i]&^m[i] != x[i]&^m[i] {
			return false
		}
	}
	return true
}

func (c *Config) portsMatch(p Ports, proto, port int) bool {
	switch p.Op {
	case "":
		return true
	case "portgroup":
		g := c.Group(p.Group)
		if g == nil {
			return false
		}
		for _, m := range g.Members {
			if m.Raw == "" && c.portsMatch(m.Ports, proto, port) {
				return true
			}
		}
		return false
	case "eq":
		for _, x := range p.Ports {
			if x == port {
				return true
			}
		}
		return false
	case "neq":
		for _, x := range p.Ports {
			if x == port {
				return false
			}
		}
		return true
	case "lt":
		return port < p.Ports[0]
	case "gt":
		return port > p.Ports[0]
	case "range":
		lo, hi := p.Ports[0], p.Ports[1]
		if lo > hi {
			lo, hi = hi, lo
		}
		return port >= lo && port <= hi
	}
	return false
}

// ACEs counts the entries acl holds once its object-groups are expanded,
// as a device programs them: each rule is (source members) × (destination
// members) × (service or port members); an `eq` list is one entry.
func (c *Config) ACEs(acl *ACL) int {
	n := 0
	for _, e := range acl.Entries {
		if e.Rule == nil {
			continue
		}
		r := e.Rule
		k := c.members(r.Src.Group, 0) * c.members(r.Dst.Group, 0)
		if r.SvcGroup != "" {
			k *= c.members(r.SvcGroup, 0)
		}
		if r.DstPorts.Op == "portgroup" {
			k *= c.members(r.DstPorts.Group, 0)
		}
		if r.SrcPorts.Op == "portgroup" {
			k *= c.members(r.SrcPorts.Group, 0)
		}
		n += k
	}
	return n
}

// members counts a group's leaves (1 for no group).
func (c *Config) members(name string, depth int) int {
	if name == "" {
		return 1
	}
	g := c.Group(name)
	if g == nil || depth > 8 {
		return 1
	}
	n := 0
	for _, m := range g.Members {
		if m.Group != "" {
			n += c.members(m.Group, depth+1)
		} else {
			n++
		}
	}
	return max(n, 1)
}
