package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// PortRange is an inclusive range of ports, 1-65535.
type PortRange struct {
	Lo uint16 `json:"lo"`
	Hi uint16 `json:"hi"`
}

func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// Contains reports whether port is in the range.
func (r PortRange) Contains(port uint16) bool { return port >= r.Lo && port <= r.Hi }

// Match is what a flow opens: a protocol with ports (empty = every port) or
// ICMP types (empty = every type).
type Match struct {
	Proto Proto       `json:"proto"`
	Ports []PortRange `json:"ports,omitempty"`
	ICMP  []int       `json:"icmp_types,omitempty"`
}

func (m Match) String() string {
	switch {
	case m.Proto.HasPorts() && len(m.Ports) > 0:
		parts := make([]string, len(m.Ports))
		for i, r := range m.Ports {
			parts[i] = r.String()
		}
		return m.Proto.String() + "/" + strings.Join(parts, ",")
	case m.Proto.IsICMP() && len(m.ICMP) > 0:
		parts := make([]string, len(m.ICMP))
		for i, t := range m.ICMP {
			parts[i] = ICMPTypeName(m.Proto, t)
		}
		return m.Proto.String() + "/" + strings.Join(parts, ",")
	case m.Proto.HasPorts():
		return m.Proto.String() + "/any"
	}
	return m.Proto.String()
}

// ParseMatch parses "tcp/80,443", "udp/32768-65535", "icmp/echo-request",
// "tcp/any", "gre" or "47".
func ParseMatch(s string) (Match, error) {
	proto, rest, hasRest := strings.Cut(strings.TrimSpace(s), "/")
	if _, err := strconv.Atoi(proto); err == nil {
		// A bare number is almost always a port missing its protocol (and
		// YAML turns `[tcp/80,443]` into "tcp/80" and 443).
		return Match{}, fmt.Errorf("%s: a bare number is ambiguous: write tcp/%s or udp/%s (or ip/%s for IP protocol %s)", yamlsrc.Quote(s), proto, proto, proto, proto)
	}
	if strings.EqualFold(proto, "ip") {
		if !hasRest {
			return Match{}, fmt.Errorf("%s: write ip/<protocol number>", yamlsrc.Quote(s))
		}
		proto, rest, hasRest = rest, "", false
	}
	p, err := ParseProto(proto)
	if err != nil {
		return Match{}, err
	}
	m := Match{Proto: p}
	if !hasRest || strings.EqualFold(rest, "any") {
		if hasRest && !p.HasPorts() && !p.IsICMP() {
			return Match{}, fmt.Errorf("%s: protocol %s has no ports", yamlsrc.Quote(s), p)
		}
		return m, nil
	}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		switch {
		case p.HasPorts():
			r, err := parseRange(part)
			if err != nil {
				return Match{}, fmt.Errorf("%s: %w", yamlsrc.Quote(s), err)
			}
			m.Ports = append(m.Ports, r)
		case p.IsICMP():
			t, err := ParseICMPType(p, part)
			if err != nil {
				return Match{}, fmt.Errorf("%s: %w", yamlsrc.Quote(s), err)
			}
			m.ICMP = append(m.ICMP, t)
		default:
			return Match{}, fmt.Errorf("%s: protocol %s has no ports", yamlsrc.Quote(s), p)
		}
	}
	return m, nil
}

func parseRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := parsePort(lo)
	if err != nil {
		return PortRange{}, err
	}
	if !isRange {
		return PortRange{a, a}, nil
	}
	b, err := parsePort(hi)
	if err != nil {
		return PortRange{}, err
	}
	if b < a {
		return PortRange{}, fmt.Errorf("port range %s: low end above high end", yamlsrc.Quote(s))
	}
	return PortRange{a, b}, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("bad port %s", yamlsrc.Quote(s))
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is outside 1-65535", n)
	}
	return uint16(n), nil
}

// MergePorts sorts ranges and joins overlapping or adjacent ones.
func MergePorts(in []PortRange) []PortRange {
	if len(in) < 2 {
		return in
	}
	rs := append([]PortRange(nil), in...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Lo < rs[j].Lo || rs[i].Lo == rs[j].Lo && rs[i].Hi < rs[j].Hi })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if uint32(r.Lo) <= uint32(last.Hi)+1 {
			if r.Hi > last.Hi {
				last.Hi = r.Hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}
