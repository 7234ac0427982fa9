package testbed

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// SegmentSpec is one L2 segment of a routed lab: a bridge of its own and
// one IPv4 and one IPv6 prefix inside the lab's ranges. The segment whose
// prefixes hold the controller's 198.18.0.1 and 2001:db8::1 is the
// management segment: the controller (or root link) lives there, and hosts
// that name no segment attach to it.
type SegmentSpec struct {
	Name string       `json:"name"`
	IPv4 netip.Prefix `json:"ipv4"` // e.g. 198.18.1.0/24: inside 198.18.0.0/15, /16 to /30
	IPv6 netip.Prefix `json:"ipv6"` // e.g. 2001:db8:1::/64: inside 2001:db8::/32, /33 to /126
}

// RouterSpec is a router namespace: one interface per attached segment,
// IPv4 and IPv6 forwarding on, and static routes to every segment it can
// reach through other routers. It runs no sshd unless SSHD is set: its
// management plane is a simulator the test serves with Lab.Listen.
type RouterSpec struct {
	// Name is the inventory name; it shares the name space of hosts.
	Name       string            `json:"name"`
	Interfaces []RouterInterface `json:"interfaces"`
	// SSHD runs a real sshd on every address of the router, as on a host
	// (e.g. for netconfd behind its netconf subsystem: WithNetconfSubsystem,
	// StartNetconfd).
	SSHD bool `json:"sshd,omitempty"`
}

// RouterInterface is one leg of a router on a segment.
type RouterInterface struct {
	// Name is the device's own name for the interface, e.g.
	// GigabitEthernet0/1, ge-0/0/1.0 or Ethernet1; simulators translate
	// their bindings through it.
	Name string `json:"name"`
	// Linux is the interface's name in the router's namespace: 1 to 15 of
	// A-Z a-z 0-9 _ . -, not "lo".
	Linux   string `json:"linux"`
	Segment string `json:"segment"`
	// Addrs are exactly one IPv4 and one IPv6 address inside the segment's
	// prefixes, with their prefix lengths.
	Addrs []netip.Prefix `json:"addrs"`
	// Gateway makes this interface the segment's gateway: hosts there route
	// the rest of the lab through it. It is implied when only one router
	// attaches to the segment; with several, exactly one must set it.
	Gateway bool `json:"gateway,omitempty"`
}

// Interface returns the router's interface the device calls name.
func (r RouterSpec) Interface(name string) (RouterInterface, bool) {
	for _, i := range r.Interfaces {
		if i.Name == name {
			return i, true
		}
	}
	return RouterInterface{}, false
}

// LinuxName maps the device's interface name to the Linux one, for
// translating an ACL binding into an enforce.Binding.
func (r RouterSpec) LinuxName(name string) (string, bool) {
	i, ok := r.Interface(name)
	return i.Linux, ok
}

// WithSegments makes the lab routed: one bridge per segment instead of the
// one flat segment. Validation happens in Start, with the hosts.
func WithSegments(segs ...SegmentSpec) Option {
	return func(c *config) error {
		c.segments = append(c.segments, segs...)
		return nil
	}
}

// WithRouters adds router namespaces between the segments (WithSegments).
func WithRouters(routers ...RouterSpec) Option {
	return func(c *config) error {
		c.routers = append(c.routers, routers...)
		return nil
	}
}

var segmentNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// maxSegments bounds the bridges of one lab.
const maxSegments = 64

// validateSegments checks the segments and returns them by name.
func validateSegments(segs []SegmentSpec) (map[string]SegmentSpec, error) {
	byName := map[string]SegmentSpec{}
	if len(segs) > maxSegments {
		return nil, fmt.Errorf("%d segments: at most %d", len(segs), maxSegments)
	}
	var errs []error
	for i, s := range segs {
		if err := validateSegment(s); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := byName[s.Name]; dup {
			errs = append(errs, fmt.Errorf("segment %q: defined twice", s.Name))
			continue
		}
		for _, o := range segs[:i] {
			if o.Name != s.Name && (o.IPv4.Overlaps(s.IPv4) || o.IPv6.Overlaps(s.IPv6)) {
				errs = append(errs, fmt.Errorf("segment %q: %s, %s overlap segment %q (%s, %s)", s.Name, s.IPv4, s.IPv6, o.Name, o.IPv4, o.IPv6))
			}
		}
		byName[s.Name] = s
	}
	return byName, errors.Join(errs...)
}

func validateSegment(s SegmentSpec) error {
	if !segmentNameRE.MatchString(s.Name) {
		return fmt.Errorf("segment %q: name must match %s", s.Name, segmentNameRE)
	}
	check := func(p netip.Prefix, lab netip.Prefix, minBits, maxBits int) error {
		switch {
		case !p.IsValid():
			return fmt.Errorf("segment %q: no %s prefix", s.Name, familyName(lab))
		case !lab.Contains(p.Addr()) || p.Addr().Is4In6():
			return fmt.Errorf("segment %q: %s is outside the lab's %s", s.Name, p, lab)
		case p.Bits() < minBits || p.Bits() > maxBits:
			return fmt.Errorf("segment %q: %s: want a prefix length from /%d to /%d", s.Name, p, minBits, maxBits)
		case p.Masked() != p:
			return fmt.Errorf("segment %q: %s has host bits set (did you mean %s?)", s.Name, p, p.Masked())
		}
		return nil
	}
	return errors.Join(
		check(s.IPv4, LabIPv4, LabIPv4.Bits()+1, 30),
		check(s.IPv6, LabIPv6, LabIPv6.Bits()+1, 126))
}

func familyName(lab netip.Prefix) string {
	if lab.Addr().Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// prefixOf returns the segment's prefix of addr's family.
func (s SegmentSpec) prefixOf(addr netip.Addr) netip.Prefix {
	if addr.Is4() {
		return s.IPv4
	}
	return s.IPv6
}

// checkAddr checks that p is a usable address of segment s with s's prefix
// length.
func (s SegmentSpec) checkAddr(p netip.Prefix) error {
	seg := s.prefixOf(p.Addr())
	switch {
	case !seg.Contains(p.Addr()) || p.Addr().Is4In6():
		return fmt.Errorf("%s is outside segment %q (%s)", p, s.Name, seg)
	case p.Bits() != seg.Bits():
		return fmt.Errorf("%s: segment %q is a /%d, use %s", p, s.Name, seg.Bits(), netip.PrefixFrom(p.Addr(), seg.Bits()))
	case p.Addr() == seg.Addr():
		return fmt.Errorf("%s is segment %q's network address", p, s.Name)
	case p.Addr().Is4() && p.Addr() == lastAddr(seg):
		return fmt.Errorf("%s is segment %q's broadcast address", p, s.Name)
	}
	return nil
}

// lastAddr returns the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// managementSegment returns the segment holding the controller's
// addresses, or "" when none does.
func managementSegment(segs []SegmentSpec) (string, error) {
	for _, s := range segs {
		has4, has6 := s.IPv4.Contains(ControllerIPv4.Addr()), s.IPv6.Contains(ControllerIPv6.Addr())
		switch {
		case has4 && has6:
			return s.Name, nil
		case has4 || has6:
			return "", fmt.Errorf("segment %q holds only one of the controller's %s and %s; the management segment needs both",
				s.Name, ControllerIPv4.Addr(), ControllerIPv6.Addr())
		}
	}
	for _, s := range segs {
		if s.IPv6.Contains(ControllerIPv6.Addr()) {
			return "", fmt.Errorf("segment %q holds %s but not %s", s.Name, ControllerIPv6.Addr(), ControllerIPv4.Addr())
		}
	}
	return "", nil
}

// validateRouters checks the routers against the segments and returns each
// segment's gateway interface (router name and interface).
func validateRouters(routers []RouterSpec, segs map[string]SegmentSpec, names map[string]bool, owner map[netip.Addr]string) (map[string]gateway, error) {
	var errs []error
	attached := map[string][]gateway{} // segment → router legs, in spec order
	for _, r := range routers {
		legs, err := validateRouter(r, segs, names, owner)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, g := range legs {
			attached[g.iface.Segment] = append(attached[g.iface.Segment], g)
		}
	}
	gws := map[string]gateway{}
	for _, s := range slices.Sorted(maps.Keys(attached)) {
		legs := attached[s]
		var marked []string
		for _, g := range legs {
			if g.iface.Gateway {
				marked = append(marked, g.router+" "+g.iface.Name)
				gws[s] = g
			}
		}
		switch {
		case len(marked) > 1:
			errs = append(errs, fmt.Errorf("segment %q: two gateways: %s", s, strings.Join(marked, ", ")))
		case len(marked) == 0 && len(legs) == 1:
			gws[s] = legs[0]
		case len(marked) == 0:
			var all []string
			for _, g := range legs {
				all = append(all, g.router+" "+g.iface.Name)
			}
			errs = append(errs, fmt.Errorf("segment %q: routers attach through %s: mark one interface Gateway", s, strings.Join(all, ", ")))
		}
	}
	return gws, errors.Join(errs...)
}

// gateway is one router leg (the segment's gateway, or a next hop).
type gateway struct {
	router string
	iface  RouterInterface
}

// addr returns the leg's address of the family of like.
func (g gateway) addr(like netip.Addr) netip.Addr {
	for _, p := range g.iface.Addrs {
		if p.Addr().Is4() == like.Is4() {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

func validateRouter(r RouterSpec, segs map[string]SegmentSpec, names map[string]bool, owner map[netip.Addr]string) ([]gateway, error) {
	switch {
	case !hostNameRE.MatchString(r.Name):
		return nil, fmt.Errorf("router %q: name must match %s", r.Name, hostNameRE)
	case r.Name == Controller || r.Name == switchHost:
		return nil, fmt.Errorf("router %q: name is reserved by the lab", r.Name)
	case names[r.Name]:
		return nil, fmt.Errorf("router %q: name already used by another host or router", r.Name)
	case len(r.Interfaces) == 0:
		return nil, fmt.Errorf("router %q: no interfaces", r.Name)
	}
	names[r.Name] = true
	devNames, linuxNames, onSeg := map[string]bool{}, map[string]bool{}, map[string]string{}
	var legs []gateway
	for _, i := range r.Interfaces {
		at := fmt.Sprintf("router %q: interface %q", r.Name, i.Name)
		seg, ok := segs[i.Segment]
		switch {
		case i.Name == "" || len(i.Name) > 64 || strings.ContainsFunc(i.Name, func(c rune) bool { return c < ' ' || c == 0x7f }):
			return nil, fmt.Errorf("%s: a device interface name is 1 to 64 printable characters", at)
		case devNames[i.Name]:
			return nil, fmt.Errorf("%s: listed twice", at)
		case !ifNameRE.MatchString(i.Linux):
			return nil, fmt.Errorf("%s: Linux name %q must match %s (Linux allows 15 characters)", at, i.Linux, ifNameRE)
		case i.Linux == "lo":
			return nil, fmt.Errorf("%s: Linux name lo is the loopback", at)
		case linuxNames[i.Linux]:
			return nil, fmt.Errorf("%s: Linux name %q used twice", at, i.Linux)
		case i.Segment == "":
			return nil, fmt.Errorf("%s: no segment", at)
		case !ok:
			return nil, fmt.Errorf("%s: unknown segment %q", at, i.Segment)
		case onSeg[i.Segment] != "":
			return nil, fmt.Errorf("%s: segment %q already has interface %q of this router", at, i.Segment, onSeg[i.Segment])
		}
		devNames[i.Name], linuxNames[i.Linux], onSeg[i.Segment] = true, true, i.Name
		var n4, n6 int
		for _, p := range i.Addrs {
			if err := seg.checkAddr(p); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			if o, dup := owner[p.Addr()]; dup {
				return nil, fmt.Errorf("%s: %s already belongs to %s", at, p.Addr(), o)
			}
			owner[p.Addr()] = fmt.Sprintf("router %q", r.Name)
			if p.Addr().Is4() {
				n4++
			} else {
				n6++
			}
		}
		if n4 != 1 || n6 != 1 {
			return nil, fmt.Errorf("%s: want exactly one IPv4 and one IPv6 address, got %d and %d", at, n4, n6)
		}
		legs = append(legs, gateway{router: r.Name, iface: i})
	}
	return legs, nil
}
