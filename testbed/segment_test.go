package testbed

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// coreDMZ is the standard routed lab: a on core (the management segment,
// where the controller lives), b on dmz, router r between them.
func coreDMZ() ([]HostSpec, []SegmentSpec, []RouterSpec) {
	segs := []SegmentSpec{
		{Name: "core", IPv4: pfx("198.18.0.0/24")[0], IPv6: pfx("2001:db8::/64")[0]},
		{Name: "dmz", IPv4: pfx("198.18.10.0/24")[0], IPv6: pfx("2001:db8:10::/64")[0]},
	}
	routers := []RouterSpec{{Name: "r", Interfaces: []RouterInterface{
		{Name: "GigabitEthernet0/0", Linux: "gi0-0", Segment: "core", Addrs: pfx("198.18.0.254/24", "2001:db8::fe/64")},
		{Name: "GigabitEthernet0/1", Linux: "gi0-1", Segment: "dmz", Addrs: pfx("198.18.10.254/24", "2001:db8:10::fe/64")},
	}}}
	hosts := []HostSpec{
		{Name: "a", Addrs: pfx("198.18.0.11/24", "2001:db8::11/64"), TCP: []uint16{80}, UDP: []uint16{53}},
		{Name: "b", Segment: "dmz", Addrs: pfx("198.18.10.12/24", "2001:db8:10::12/64"), TCP: []uint16{80}, UDP: []uint16{53}},
	}
	return hosts, segs, routers
}

func TestPlanLayoutErrors(t *testing.T) {
	hosts, segs, routers := coreDMZ()
	withHost := func(h HostSpec) []HostSpec { return append(append([]HostSpec(nil), hosts...), h) }
	seg := func(name, v4, v6 string) SegmentSpec {
		return SegmentSpec{Name: name, IPv4: pfx(v4)[0], IPv6: pfx(v6)[0]}
	}
	router := func(mod func(*RouterSpec)) []RouterSpec {
		r := routers[0]
		r.Interfaces = append([]RouterInterface(nil), r.Interfaces...)
		mod(&r)
		return []RouterSpec{r}
	}
	leg := func(r *RouterSpec, i int, mod func(*RouterInterface)) { mod(&r.Interfaces[i]) }
	second := RouterSpec{Name: "r2", Interfaces: []RouterInterface{
		{Name: "eth0", Linux: "eth0", Segment: "dmz", Addrs: pfx("198.18.10.253/24", "2001:db8:10::fd/64")},
	}}
	tests := map[string]struct {
		hosts    []HostSpec
		segs     []SegmentSpec
		routers  []RouterSpec
		rootLink bool
		wantErr  string // "" means valid
	}{
		"valid":                  {},
		"valid, root link":       {rootLink: true},
		"valid, isolated":        {segs: append(append([]SegmentSpec(nil), segs...), seg("lonely", "198.18.20.0/24", "2001:db8:20::/64"))},
		"valid, marked gateway":  {routers: append(router(func(r *RouterSpec) { leg(r, 1, func(i *RouterInterface) { i.Gateway = true }) }), second)},
		"routers without segs":   {segs: []SegmentSpec{}, wantErr: "routers need segments"},
		"segment on flat lab":    {segs: []SegmentSpec{}, routers: []RouterSpec{}, wantErr: `segment "dmz", but the lab has no segments`},
		"bad segment name":       {segs: []SegmentSpec{segs[0], seg("DMZ!", "198.18.10.0/24", "2001:db8:10::/64")}, wantErr: `segment "DMZ!": name must match`},
		"segment twice":          {segs: []SegmentSpec{segs[0], segs[1], segs[1]}, wantErr: `segment "dmz": defined twice`},
		"segment outside lab":    {segs: []SegmentSpec{segs[0], seg("dmz", "10.0.0.0/24", "2001:db8:10::/64")}, wantErr: "10.0.0.0/24 is outside the lab's 198.18.0.0/15"},
		"segment outside lab v6": {segs: []SegmentSpec{segs[0], seg("dmz", "198.18.10.0/24", "2001:db9::/64")}, wantErr: "outside the lab's 2001:db8::/32"},
		"segment host bits":      {segs: []SegmentSpec{segs[0], seg("dmz", "198.18.10.1/24", "2001:db8:10::/64")}, wantErr: "host bits set (did you mean 198.18.10.0/24?)"},
		"segment too big":        {segs: []SegmentSpec{segs[0], seg("dmz", "198.18.0.0/15", "2001:db8:10::/64")}, wantErr: "want a prefix length from /16 to /30"},
		"segment no v6":          {segs: []SegmentSpec{segs[0], {Name: "dmz", IPv4: segs[1].IPv4}}, wantErr: `segment "dmz": no IPv6 prefix`},
		"segments overlap":       {segs: []SegmentSpec{segs[0], seg("dmz", "198.18.0.128/25", "2001:db8:10::/64")}, wantErr: `overlap segment "core"`},
		"no management segment":  {segs: []SegmentSpec{seg("core", "198.18.1.0/24", "2001:db8:1::/64"), segs[1]}, wantErr: "no segment holds the controller's"},
		"management split":       {segs: []SegmentSpec{seg("core", "198.18.0.0/24", "2001:db8:1::/64"), segs[1]}, wantErr: "holds only one of the controller's"},
		"unknown host segment":   {hosts: withHost(HostSpec{Name: "c", Segment: "lan", Addrs: pfx("198.18.10.13/24")}), wantErr: `host "c": unknown segment "lan"`},
		"host outside segment":   {hosts: withHost(HostSpec{Name: "c", Segment: "dmz", Addrs: pfx("198.18.11.13/24")}), wantErr: `198.18.11.13/24 is outside segment "dmz" (198.18.10.0/24)`},
		"host default segment":   {hosts: withHost(HostSpec{Name: "c", Addrs: pfx("198.18.10.13/24")}), wantErr: `outside segment "core"`},
		"host wrong length":      {hosts: withHost(HostSpec{Name: "c", Segment: "dmz", Addrs: pfx("198.18.10.13/15")}), wantErr: `segment "dmz" is a /24, use 198.18.10.13/24`},
		"host network address":   {hosts: withHost(HostSpec{Name: "c", Segment: "dmz", Addrs: pfx("198.18.10.0/24")}), wantErr: "network address"},
		"host broadcast":         {hosts: withHost(HostSpec{Name: "c", Segment: "dmz", Addrs: pfx("198.18.10.255/24")}), wantErr: "broadcast address"},
		"host takes gateway":     {hosts: withHost(HostSpec{Name: "c", Segment: "dmz", Addrs: pfx("2001:db8:10::fe/64")}), wantErr: `2001:db8:10::fe already belongs to host "c"`},
		"host takes controller":  {hosts: withHost(HostSpec{Name: "c", Addrs: pfx("198.18.0.1/24")}), wantErr: "belongs to the controller"},
		"router named as host":   {routers: router(func(r *RouterSpec) { r.Name = "a" }), wantErr: `router "a": name already used`},
		"router reserved":        {routers: router(func(r *RouterSpec) { r.Name = "sw" }), wantErr: "reserved"},
		"router no interfaces":   {routers: router(func(r *RouterSpec) { r.Interfaces = nil }), wantErr: "no interfaces"},
		"linux name too long": {
			routers: router(func(r *RouterSpec) { leg(r, 0, func(i *RouterInterface) { i.Linux = "GigabitEthernet0" }) }),
			wantErr: `Linux name "GigabitEthernet0" must match`,
		},
		"linux name with slash": {
			routers: router(func(r *RouterSpec) { leg(r, 0, func(i *RouterInterface) { i.Linux = "ge-0/0/1" }) }),
			wantErr: "must match",
		},
		"linux name lo": {
			routers: router(func(r *RouterSpec) { leg(r, 0, func(i *RouterInterface) { i.Linux = "lo" }) }),
			wantErr: "loopback",
		},
		"linux name twice": {
			routers: router(func(r *RouterSpec) { leg(r, 1, func(i *RouterInterface) { i.Linux = "gi0-0" }) }),
			wantErr: `Linux name "gi0-0" used twice`,
		},
		"device name twice": {
			routers: router(func(r *RouterSpec) { leg(r, 1, func(i *RouterInterface) { i.Name = "GigabitEthernet0/0" }) }),
			wantErr: "listed twice",
		},
		"device name empty": {
			routers: router(func(r *RouterSpec) { leg(r, 1, func(i *RouterInterface) { i.Name = "" }) }),
			wantErr: "device interface name",
		},
		"interface unknown segment": {
			routers: router(func(r *RouterSpec) { leg(r, 1, func(i *RouterInterface) { i.Segment = "lan" }) }),
			wantErr: `unknown segment "lan"`,
		},
		"interface no segment": {
			routers: router(func(r *RouterSpec) { leg(r, 1, func(i *RouterInterface) { i.Segment = "" }) }),
			wantErr: "no segment",
		},
		"two legs on a segment": {
			routers: router(func(r *RouterSpec) {
				leg(r, 1, func(i *RouterInterface) {
					i.Segment = "core"
					i.Addrs = pfx("198.18.0.253/24", "2001:db8::fd/64")
				})
			}),
			wantErr: `segment "core" already has interface "GigabitEthernet0/0"`,
		},
		"interface outside segment": {
			routers: router(func(r *RouterSpec) {
				leg(r, 1, func(i *RouterInterface) { i.Addrs = pfx("198.18.11.254/24", "2001:db8:10::fe/64") })
			}),
			wantErr: `interface "GigabitEthernet0/1": 198.18.11.254/24 is outside segment "dmz"`,
		},
		"interface one family": {
			routers: router(func(r *RouterSpec) { leg(r, 1, func(i *RouterInterface) { i.Addrs = pfx("198.18.10.254/24") }) }),
			wantErr: "want exactly one IPv4 and one IPv6 address, got 1 and 0",
		},
		"two gateways": {
			routers: append(router(func(r *RouterSpec) { leg(r, 1, func(i *RouterInterface) { i.Gateway = true }) }),
				func() RouterSpec {
					s := second
					s.Interfaces = []RouterInterface{s.Interfaces[0]}
					s.Interfaces[0].Gateway = true
					return s
				}()),
			wantErr: `segment "dmz": two gateways: r GigabitEthernet0/1, r2 eth0`,
		},
		"gateway unmarked": {
			routers: append(router(func(*RouterSpec) {}), second),
			wantErr: `segment "dmz": routers attach through r GigabitEthernet0/1, r2 eth0: mark one interface Gateway`,
		},
		"nothing at all": {hosts: []HostSpec{}, routers: []RouterSpec{}, wantErr: "no hosts and no routers"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.controller = !tc.rootLink
			if tc.rootLink {
				cfg.rootLink = DefaultRootLink
			}
			cfg.segments, cfg.routers = segs, routers
			h := hosts
			if tc.hosts != nil {
				h = tc.hosts
			}
			if tc.segs != nil {
				cfg.segments = tc.segs
			}
			if tc.routers != nil {
				cfg.routers = tc.routers
			}
			_, err := planLayout(h, cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestPlanLayoutRoutes checks the wiring of a chain core - r1 - dmz - r2 -
// db: hosts route the lab's ranges (and nothing else) via their segment's
// gateway, routers reach the segments behind the other router.
func TestPlanLayoutRoutes(t *testing.T) {
	hosts, segs, routers := coreDMZ()
	segs = append(segs, SegmentSpec{Name: "db", IPv4: pfx("198.18.20.0/24")[0], IPv6: pfx("2001:db8:20::/64")[0]})
	routers = append(routers, RouterSpec{Name: "r2", Interfaces: []RouterInterface{
		{Name: "xe-0/0/0.0", Linux: "xe-0.0.0", Segment: "dmz", Addrs: pfx("198.18.10.253/24", "2001:db8:10::fd/64")},
		{Name: "xe-0/0/1.0", Linux: "xe-0.0.1", Segment: "db", Addrs: pfx("198.18.20.254/24", "2001:db8:20::fe/64")},
	}})
	routers[0].Interfaces[1].Gateway = true // dmz has two routers
	hosts = append(hosts, HostSpec{Name: "c", Segment: "db", Addrs: pfx("198.18.20.13/24", "2001:db8:20::13/64")})
	cfg := defaultConfig()
	cfg.controller, cfg.segments, cfg.routers = true, segs, routers
	lo, err := planLayout(hosts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	type wiring struct {
		Links  []string
		Routes []string
	}
	got := map[string]wiring{}
	for _, n := range append([]*node{lo.ctl}, lo.nodes["a"], lo.nodes["b"], lo.nodes["c"], lo.nodes["r"], lo.nodes["r2"]) {
		var w wiring
		for _, k := range n.links {
			w.Links = append(w.Links, k.ifname+"="+k.port+"@"+k.bridge+" "+joinPrefixes(k.addrs))
		}
		w.Routes = n.routes
		got[n.name] = w
	}
	want := map[string]wiring{
		Controller: {Links: []string{"eth0=pctl@br0 198.18.0.1/24,2001:db8::1/64"}, Routes: []string{
			"route add 198.18.0.0/15 via 198.18.0.254 dev eth0", "route add 2001:db8::/32 via 2001:db8::fe dev eth0"}},
		"a": {Links: []string{"eth0=p0@br0 198.18.0.11/24,2001:db8::11/64"}, Routes: []string{
			"route add 198.18.0.0/15 via 198.18.0.254 dev eth0", "route add 2001:db8::/32 via 2001:db8::fe dev eth0"}},
		"b": {Links: []string{"eth0=p1@br1 198.18.10.12/24,2001:db8:10::12/64"}, Routes: []string{
			"route add 198.18.0.0/15 via 198.18.10.254 dev eth0", "route add 2001:db8::/32 via 2001:db8:10::fe dev eth0"}},
		"c": {Links: []string{"eth0=p2@br2 198.18.20.13/24,2001:db8:20::13/64"}, Routes: []string{
			"route add 198.18.0.0/15 via 198.18.20.254 dev eth0", "route add 2001:db8::/32 via 2001:db8:20::fe dev eth0"}},
		"r": {Links: []string{"gi0-0=r0x0@br0 198.18.0.254/24,2001:db8::fe/64", "gi0-1=r0x1@br1 198.18.10.254/24,2001:db8:10::fe/64"}, Routes: []string{
			"route add 198.18.20.0/24 via 198.18.10.253", "route add 2001:db8:20::/64 via 2001:db8:10::fd"}},
		"r2": {Links: []string{"xe-0.0.0=r1x0@br1 198.18.10.253/24,2001:db8:10::fd/64", "xe-0.0.1=r1x1@br2 198.18.20.254/24,2001:db8:20::fe/64"}, Routes: []string{
			"route add 198.18.0.0/24 via 198.18.10.254", "route add 2001:db8::/64 via 2001:db8:10::fe"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wiring (-want +got):\n%s", diff)
	}
	for _, n := range lo.nodes {
		for _, r := range n.routes {
			if strings.Contains(r, "default") || strings.Contains(r, "0.0.0.0/0") || strings.Contains(r, "::/0") {
				t.Errorf("%s: %q: nothing outside the lab is ever routed", n.name, r)
			}
		}
	}
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
