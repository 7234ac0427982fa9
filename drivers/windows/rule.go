package windows

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Group is the Windows Firewall rule group fwpush owns on a host.
const Group = "fwpush"

// rule is one firewall rule of the group in canonical form: what Render
// produces and what Fetch reads back. ID is the rule's name without the
// generation prefix a push gives it on the device (fwpush-<gen>-<ID>).
type rule struct {
	ID            string
	DisplayName   string
	Description   string
	Direction     string // inbound, outbound
	Action        string // allow, block
	Protocol      string // tcp, udp, icmpv4, icmpv6, any, or a number
	LocalPort     []string
	RemotePort    []string
	IcmpType      []string
	LocalAddress  []netip.Prefix
	RemoteAddress []netip.Prefix
	Enabled       bool
	Profile       string // any, or Windows' "Domain, Private"
}

// header opens every config: what fwpush owns, and what it leaves to
// Windows.
const header = `# Windows Defender Firewall, rule group "fwpush" (everything fwpush owns on this host)
# inbound: what no rule allows falls to the profile's default inbound action (Block)
# established connections (the firewall is stateful) and loopback (exempt) need no rule
`

// text writes rules in canonical form, sorted by ID.
func text(rules []rule, notes []string) string {
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	var b strings.Builder
	b.WriteString(header)
	for _, n := range notes {
		b.WriteString("# " + n + "\n")
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "rule %s\n", r.ID)
		fmt.Fprintf(&b, "  %s %s %s\n", r.Direction, r.Action, r.Protocol)
		list := func(key string, vs []string) {
			if len(vs) > 0 {
				fmt.Fprintf(&b, "  %s %s\n", key, strings.Join(vs, ", "))
			}
		}
		list("local-port", r.LocalPort)
		list("remote-port", r.RemotePort)
		list("icmp-type", r.IcmpType)
		list("local-address", prefixStrings(r.LocalAddress))
		list("remote-address", prefixStrings(r.RemoteAddress))
		if r.Profile != "any" {
			fmt.Fprintf(&b, "  profile %s\n", strconv.Quote(r.Profile))
		}
		if !r.Enabled {
			b.WriteString("  disabled\n")
		}
		fmt.Fprintf(&b, "  display-name %s\n", strconv.Quote(r.DisplayName))
		if r.Description != "" {
			fmt.Fprintf(&b, "  description %s\n", strconv.Quote(r.Description))
		}
	}
	return b.String()
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if p.IsSingleIP() {
			out[i] = p.Addr().String()
		} else {
			out[i] = p.String()
		}
	}
	return out
}

// sortPrefixes orders prefixes IPv4 first, by address then length.
func sortPrefixes(ps []netip.Prefix) {
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Addr().Is4() != b.Addr().Is4() {
			return a.Addr().Is4()
		}
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c < 0
		}
		return a.Bits() < b.Bits()
	})
}

// sortPorts orders port entries by their first port.
func sortPorts(ps []string) {
	first := func(s string) int {
		lo, _, _ := strings.Cut(s, "-")
		n, _ := strconv.Atoi(lo)
		return n
	}
	sort.SliceStable(ps, func(i, j int) bool { return first(ps[i]) < first(ps[j]) })
}

// parseText reads canonical text back into rules.
func parseText(s string) ([]rule, error) {
	var out []rule
	var cur *rule
	for n, line := range strings.Split(s, "\n") {
		n++
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if id, ok := strings.CutPrefix(line, "rule "); ok {
			out = append(out, rule{ID: id, Enabled: true, Profile: "any"})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil || !strings.HasPrefix(line, "  ") {
			return nil, fmt.Errorf("line %d: %q: not a rule line", n, line)
		}
		key, val, _ := strings.Cut(strings.TrimPrefix(line, "  "), " ")
		var err error
		switch key {
		case "inbound", "outbound":
			f := strings.Fields(val)
			if len(f) != 2 {
				return nil, fmt.Errorf("line %d: want DIRECTION ACTION PROTOCOL", n)
			}
			cur.Direction, cur.Action, cur.Protocol = key, f[0], f[1]
		case "local-port":
			cur.LocalPort = strings.Split(val, ", ")
		case "remote-port":
			cur.RemotePort = strings.Split(val, ", ")
		case "icmp-type":
			cur.IcmpType = strings.Split(val, ", ")
		case "local-address":
			cur.LocalAddress, err = parsePrefixes(strings.Split(val, ", "))
		case "remote-address":
			cur.RemoteAddress, err = parsePrefixes(strings.Split(val, ", "))
		case "profile":
			cur.Profile, err = strconv.Unquote(val)
		case "disabled":
			cur.Enabled = false
		case "display-name":
			cur.DisplayName, err = strconv.Unquote(val)
		case "description":
			cur.Description, err = strconv.Unquote(val)
		default:
			err = fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	return out, nil
}

// parsePrefixes reads addresses as Windows or fwpush write them: a bare
// address, a CIDR prefix, an IPv4 subnet with a dotted mask
// (198.18.0.0/255.255.255.0), or a range (a-b, which must be one prefix
// for fwpush to have written it).
func parsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		addr, mask, hasMask := strings.Cut(s, "/")
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return nil, fmt.Errorf("address %q: not an address, prefix or subnet fwpush writes", s)
		}
		bits := a.BitLen()
		if hasMask {
			if n, err := strconv.Atoi(mask); err == nil {
				bits = n
			} else if m, err := netip.ParseAddr(mask); err == nil && m.Is4() && a.Is4() {
				bits = maskLen(m)
			} else {
				bits = -1
			}
		}
		p, err := a.Prefix(bits)
		if err != nil || bits < 0 || p.Addr() != a {
			return nil, fmt.Errorf("address %q: not a prefix", s)
		}
		out = append(out, p)
	}
	sortPrefixes(out)
	return out, nil
}

func maskLen(m netip.Addr) int {
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
