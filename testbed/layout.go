package testbed

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// node is one namespace as the lab wires it: a host, a router or the
// controller.
type node struct {
	name   string // host or router name, or Controller
	router bool
	links  []nodeLink
	// routes are `ip -batch` lines run once the links are up.
	routes []string
}

// nodeLink is one veth pair: ifname in the node's namespace, port (its
// peer) on a bridge of the switch namespace.
type nodeLink struct {
	ifname, port, bridge string
	addrs                []netip.Prefix
}

// layout is a validated topology: the switch's bridges and every node's
// wiring, computed before anything is created.
type layout struct {
	bridges []string
	nodes   map[string]*node
	// ctl is the controller's wiring, also used for the root link.
	ctl *node
	// segments by name, and each one's gateway leg.
	segments map[string]SegmentSpec
	gateways map[string]gateway
}

// Switch-side port names: a host's is p<index>, a router interface's
// r<router>x<interface>; all fit Linux's 15 characters.
func hostPort(i int) string      { return fmt.Sprintf("p%d", i) }
func routerPort(r, i int) string { return fmt.Sprintf("r%dx%d", r, i) }

// planLayout validates hosts, segments and routers together and computes
// the wiring. Without segments it is the flat lab: one bridge, every
// address on-link, no routes.
func planLayout(hosts []HostSpec, cfg config) (*layout, error) {
	if len(cfg.segments) == 0 {
		return planFlat(hosts, cfg)
	}
	return planRouted(hosts, cfg)
}

func planFlat(hosts []HostSpec, cfg config) (*layout, error) {
	if len(cfg.routers) > 0 {
		return nil, errors.New("routers need segments (WithSegments): a flat lab has nothing to route")
	}
	if err := validateHosts(hosts); err != nil {
		return nil, err
	}
	lo := &layout{bridges: []string{bridge}, nodes: map[string]*node{}}
	for i, h := range hosts {
		lo.nodes[h.Name] = &node{name: h.Name, links: []nodeLink{{ifname: hostIf, port: hostPort(i), bridge: bridge, addrs: h.Addrs}}}
	}
	lo.ctl = &node{name: Controller, links: []nodeLink{{ifname: hostIf, port: ctlPortIf, bridge: bridge,
		addrs: []netip.Prefix{ControllerIPv4, ControllerIPv6}}}}
	return lo, nil
}

func planRouted(hosts []HostSpec, cfg config) (*layout, error) {
	segs, err := validateSegments(cfg.segments)
	if err != nil {
		return nil, err
	}
	mgmt, err := managementSegment(cfg.segments)
	if err != nil {
		return nil, err
	}
	if mgmt == "" && (cfg.controller || cfg.rootLink != "") {
		return nil, fmt.Errorf("no segment holds the controller's %s and %s: the controller (or root link) needs a management segment",
			ControllerIPv4.Addr(), ControllerIPv6.Addr())
	}
	if len(hosts)+len(cfg.routers) == 0 {
		return nil, errors.New("no hosts and no routers")
	}
	names := map[string]bool{}
	owner := map[netip.Addr]string{
		ControllerIPv4.Addr(): "the controller",
		ControllerIPv6.Addr(): "the controller",
	}
	var errs []error
	for _, h := range hosts {
		seg, ok := segs[h.Segment]
		switch {
		case h.Segment == "" && mgmt == "":
			errs = append(errs, fmt.Errorf("host %q: no segment, and no management segment holds the controller's addresses", h.Name))
			continue
		case h.Segment == "":
			seg = segs[mgmt]
		case !ok:
			errs = append(errs, fmt.Errorf("host %q: unknown segment %q", h.Name, h.Segment))
			continue
		}
		if err := validateHost(h, names, owner, seg.checkAddr); err != nil {
			errs = append(errs, err)
		}
	}
	gws, err := validateRouters(cfg.routers, segs, names, owner)
	if err := errors.Join(append(errs, err)...); err != nil {
		return nil, err
	}

	lo := &layout{nodes: map[string]*node{}, segments: segs, gateways: gws}
	bridgeOf := map[string]string{}
	for i, s := range cfg.segments {
		bridgeOf[s.Name] = fmt.Sprintf("br%d", i)
		lo.bridges = append(lo.bridges, bridgeOf[s.Name])
	}
	for i, h := range hosts {
		s := h.Segment
		if s == "" {
			s = mgmt
		}
		lo.nodes[h.Name] = &node{
			name:   h.Name,
			links:  []nodeLink{{ifname: hostIf, port: hostPort(i), bridge: bridgeOf[s], addrs: h.Addrs}},
			routes: labRoutes(gws, s, hostIf),
		}
	}
	for ri, r := range cfg.routers {
		n := &node{name: r.Name, router: true, routes: routerRoutes(r, cfg.routers, cfg.segments)}
		for ii, i := range r.Interfaces {
			n.links = append(n.links, nodeLink{ifname: i.Linux, port: routerPort(ri, ii), bridge: bridgeOf[i.Segment], addrs: i.Addrs})
		}
		lo.nodes[r.Name] = n
	}
	if mgmt != "" {
		m := segs[mgmt]
		lo.ctl = &node{
			name: Controller,
			links: []nodeLink{{ifname: hostIf, port: ctlPortIf, bridge: bridgeOf[mgmt], addrs: []netip.Prefix{
				netip.PrefixFrom(ControllerIPv4.Addr(), m.IPv4.Bits()),
				netip.PrefixFrom(ControllerIPv6.Addr(), m.IPv6.Bits()),
			}}},
			routes: labRoutes(gws, mgmt, hostIf),
		}
	}
	return lo, nil
}

// labRoutes routes the lab's two ranges through segment seg's gateway, on
// dev. The segment's own prefixes stay on-link (the longer match); nothing
// outside the lab's ranges is ever routed. A segment without a gateway
// gets no routes: its hosts reach only each other.
func labRoutes(gws map[string]gateway, seg, dev string) []string {
	g, ok := gws[seg]
	if !ok {
		return nil
	}
	return []string{
		fmt.Sprintf("route add %s via %s dev %s", LabIPv4, g.addr(LabIPv4.Addr()), dev),
		fmt.Sprintf("route add %s via %s dev %s", LabIPv6, g.addr(LabIPv6.Addr()), dev),
	}
}

// routerRoutes gives router r a route to every segment it does not attach
// to but reaches through other routers: a breadth-first search from its
// own segments, so the path is shortest and, among equals, the one through
// the router listed first.
func routerRoutes(r RouterSpec, routers []RouterSpec, segs []SegmentSpec) []string {
	first := map[string]*gateway{} // reached segment → first hop (nil: attached)
	var queue []string
	for _, i := range r.Interfaces {
		first[i.Segment] = nil
		queue = append(queue, i.Segment)
	}
	visited := map[string]bool{r.Name: true}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, o := range routers {
			leg := slices.IndexFunc(o.Interfaces, func(i RouterInterface) bool { return i.Segment == s })
			if visited[o.Name] || leg < 0 {
				continue
			}
			visited[o.Name] = true
			hop := first[s]
			if hop == nil {
				hop = &gateway{router: o.Name, iface: o.Interfaces[leg]}
			}
			for _, oi := range o.Interfaces {
				if _, seen := first[oi.Segment]; !seen {
					first[oi.Segment] = hop
					queue = append(queue, oi.Segment)
				}
			}
		}
	}
	var lines []string
	for _, s := range segs {
		if hop := first[s.Name]; hop != nil {
			lines = append(lines,
				fmt.Sprintf("route add %s via %s", s.IPv4, hop.addr(s.IPv4.Addr())),
				fmt.Sprintf("route add %s via %s", s.IPv6, hop.addr(s.IPv6.Addr())))
		}
	}
	return lines
}
