package labinv

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
)

func pfx(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, v := range s {
		out[i] = netip.MustParsePrefix(v)
	}
	return out
}

var prefixCmp = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

// TestBuildFlat: on every example system (no lab keys), Build is exactly
// Specs' flat lab, and skips what is not Linux.
func TestBuildFlat(t *testing.T) {
	systems := map[string]string{"webapp": "../../playbooks/examples/webapp.yml"}
	dirs, _ := filepath.Glob("../../inventory/examples/*")
	for _, d := range dirs {
		if pb := filepath.Join("../../playbooks", filepath.Base(d)+".yml"); fileExists(pb) {
			systems[filepath.Base(d)] = pb
		}
	}
	require.GreaterOrEqual(t, len(systems), 5)
	for name, pb := range systems {
		t.Run(name, func(t *testing.T) {
			p, err := project.Load(project.Options{Inventory: "../../inventory/examples/" + name, Playbook: pb})
			require.NoError(t, err)
			topo, err := Build(p)
			require.NoError(t, err)
			if diff := cmp.Diff(Specs(p), topo.Hosts, prefixCmp); diff != "" {
				t.Errorf("Build vs Specs (-specs +build):\n%s", diff)
			}
			require.Empty(t, topo.Segments)
			require.Empty(t, topo.Routers)
			require.Empty(t, topo.Options())
			var skipped []string
			for _, h := range p.Inv.Select(func(h *inventory.Host) bool {
				info, _ := p.Inv.Platform(h.Platform)
				return info.Transport != "ssh"
			}) {
				skipped = append(skipped, h.Name+" ("+h.Platform+")")
			}
			require.Equal(t, skipped, topo.Skipped)
		})
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func loadRouted(t *testing.T) *project.Project {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: "testdata/routed", Playbook: "testdata/routed.yml", Registry: registry()})
	require.NoError(t, err)
	return p
}

func TestBuildRouted(t *testing.T) {
	topo, err := Build(loadRouted(t))
	require.NoError(t, err)
	seg := func(name, v4, v6 string) testbed.SegmentSpec {
		return testbed.SegmentSpec{Name: name, IPv4: netip.MustParsePrefix(v4), IPv6: netip.MustParsePrefix(v6)}
	}
	want := Topology{
		Hosts: []testbed.HostSpec{
			{Name: "app-1", Addrs: pfx("198.18.0.21/24", "2001:db8::21/64"), Segment: "mgmt", TCP: []uint16{8080}, UDP: []uint16{}},
			{Name: "db-1", Addrs: pfx("198.18.20.31/24", "2001:db8:20::31/64"), Segment: "data", TCP: []uint16{5432}, UDP: []uint16{}},
			{Name: "web-1", Addrs: pfx("198.18.9.11/26", "2001:db8:9::11/64"), Segment: "web", TCP: []uint16{80, 443}, UDP: []uint16{}},
			// tcp/5986 is win-1's management port: the test serves it.
			{Name: "win-1", Addrs: pfx("198.18.9.41/26", "2001:db8:9::41/64"), Segment: "web", NoSSHD: true, TCP: []uint16{8443}, UDP: []uint16{514}},
		},
		Segments: []testbed.SegmentSpec{
			seg("data", "198.18.20.0/24", "2001:db8:20::/64"),
			seg("mgmt", "198.18.0.0/24", "2001:db8::/64"),
			seg("web", "198.18.9.0/26", "2001:db8:9::/64"),
		},
		Routers: []testbed.RouterSpec{{Name: "edge-rtr-1", Interfaces: []testbed.RouterInterface{
			{Name: "GigabitEthernet0/0", Linux: "gi0-0", Segment: "mgmt", Addrs: pfx("198.18.0.254/24", "2001:db8::fe/64")},
			{Name: "GigabitEthernet0/1", Linux: "gi0-1", Segment: "web", Addrs: pfx("198.18.9.1/26", "2001:db8:9::1/64")},
			{Name: "GigabitEthernet0/2", Linux: "gi0-2", Segment: "data", Addrs: pfx("198.18.20.1/24", "2001:db8:20::1/64")},
		}}},
	}
	if diff := cmp.Diff(want, topo, prefixCmp); diff != "" {
		t.Errorf("topology (-want +got):\n%s", diff)
	}
	require.Len(t, topo.Options(), 2)
}

// TestFromInventoryErrors: each bad lab key is reported with file, line,
// column and field.
func TestFromInventoryErrors(t *testing.T) {
	orig := map[string]string{}
	for _, f := range []string{"hosts.yaml", "groups.yaml", "defaults.yaml", "networks.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata/routed", f))
		require.NoError(t, err)
		orig[f] = string(b)
	}
	// edit replaces old by new in file (pairs of file, old, new).
	edit := func(fon ...string) map[string]string {
		out := map[string]string{}
		for i := 0; i < len(fon); i += 3 {
			require.Contains(t, orig[fon[i]], fon[i+1])
			out[fon[i]] = strings.ReplaceAll(orig[fon[i]], fon[i+1], fon[i+2])
		}
		return out
	}
	tests := map[string]struct {
		files   map[string]string
		wantErr string
	}{
		"unknown host segment": {
			files:   edit("hosts.yaml", "lab_segment: web", "lab_segment: lan"),
			wantErr: "hosts.yaml:22:18: win-1.data.lab_segment: host win-1: unknown segment lan (defined: [data mgmt web])",
		},
		"unknown group segment": {
			files:   edit("groups.yaml", "lab_segment: data", "lab_segment: lan"),
			wantErr: "groups.yaml:8:18: db.data.lab_segment: host db-1: unknown segment lan",
		},
		"address in no segment": {
			files:   edit("hosts.yaml", "198.18.0.21", "198.18.1.21"),
			wantErr: "hosts.yaml:6:1: app-1: host app-1: 198.18.1.21 is in no lab segment: set data.lab_segment or change the address",
		},
		"address outside its segment": {
			files:   edit("hosts.yaml", `"2001:db8:9::11"`, `"2001:db8:20::11"`),
			wantErr: "host web-1: 2001:db8:20::11 is outside its segment web (2001:db8:9::/64)",
		},
		"bad segment prefix": {
			files:   edit("defaults.yaml", "ipv6: \"2001:db8:9::/64\"", "ipv6: 198.18.9.0/26"),
			wantErr: `defaults.yaml:8:38: data.lab_segments.web.ipv6: segment web: "198.18.9.0/26" is not an IPv6 prefix`,
		},
		"unknown segment field": {
			files:   edit("defaults.yaml", "ipv4: 198.18.0.0/24,", "ipv4: 198.18.0.0/24, vlan: 7,"),
			wantErr: `defaults.yaml:7:5: data.lab_segments.mgmt: segment mgmt: unknown field "vlan"`,
		},
		"segment defined differently": {
			files: edit("groups.yaml", "      data: {ipv4: 198.18.20.0/24", "      mgmt: {ipv4: 198.18.0.0/24, ipv6: \"2001:db8::/64\"}\n"+
				"      web: {ipv4: 198.18.9.0/25, ipv6: \"2001:db8:9::/64\"}\n      data: {ipv4: 198.18.20.0/24"),
			wantErr: "groups.yaml:11:7: db.data.lab_segments.web: segment web is already defined differently (defaults.yaml:8:5)",
		},
		"segments on a host": {
			files:   edit("hosts.yaml", "    lab_segment: web", "    lab_segment: web\n    lab_segments: {}"),
			wantErr: "hosts.yaml:23:5: win-1.data.lab_segments: lab_segments belongs in defaults.yaml or groups.yaml",
		},
		"lab keys without segments": {
			files:   edit("defaults.yaml", "  lab_segments:", "  other:", "groups.yaml", "    lab_segments:", "    other:"),
			wantErr: "groups.yaml:8:18: db.data.lab_segment: host db-1: lab_segment needs lab_segments",
		},
		"router and segment": {
			files:   edit("hosts.yaml", "  groups: [routers]", "  groups: [routers, db]"),
			wantErr: "host edge-rtr-1: a host is either on one segment (lab_segment) or a router (lab_interfaces), not both",
		},
		"interface unknown field": {
			files:   edit("hosts.yaml", "{segment: mgmt, linux: gi0-0,", "{segment: mgmt, linux: gi0-0, vrf: x,"),
			wantErr: `hosts.yaml:34:7: edge-rtr-1.data.lab_interfaces."GigabitEthernet0/0": host edge-rtr-1: interface GigabitEthernet0/0: unknown field "vrf"`,
		},
		"interface unknown segment": {
			files:   edit("hosts.yaml", "{segment: data, linux: gi0-2", "{segment: lan, linux: gi0-2"),
			wantErr: `hosts.yaml:36:37: edge-rtr-1.data.lab_interfaces."GigabitEthernet0/2".segment: host edge-rtr-1: interface GigabitEthernet0/2: unknown segment "lan"`,
		},
		"interface needs a linux name": {
			files:   edit("hosts.yaml", "linux: gi0-1, ", ""),
			wantErr: "edge-rtr-1.data.lab_interfaces.\"GigabitEthernet0/1\": host edge-rtr-1: interface GigabitEthernet0/1: not a Linux interface name: set linux",
		},
		"interface address outside": {
			files:   edit("hosts.yaml", "[198.18.9.1/26,", "[198.18.9.65/26,"),
			wantErr: "edge-rtr-1.data.lab_interfaces.\"GigabitEthernet0/1\".addresses[0]: host edge-rtr-1: interface GigabitEthernet0/1: 198.18.9.65 is outside segment web (198.18.9.0/26)",
		},
		"interface address length": {
			files:   edit("hosts.yaml", "[198.18.9.1/26,", "[198.18.9.1/24,"),
			wantErr: "interface GigabitEthernet0/1: 198.18.9.1/24: segment web is a /26",
		},
		"router unreachable at its hostname": {
			files:   edit("hosts.yaml", "hostname: 198.18.0.254", "hostname: 198.18.0.253"),
			wantErr: "host edge-rtr-1: fwpush reaches it at 198.18.0.253, which none of its lab_interfaces holds",
		},
		"acl on a missing interface": {
			files:   edit("hosts.yaml", "- interface: GigabitEthernet0/1", "- interface: GigabitEthernet0/9"),
			wantErr: "hosts.yaml:30:20: edge-rtr-1.data.acls[0].interface: host edge-rtr-1: acl interface GigabitEthernet0/9 is not in its lab_interfaces",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for f, content := range orig {
				if c, ok := tc.files[f]; ok {
					content = c
				}
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(content), 0o600))
			}
			inv, err := inventory.Load(dir, inventory.WithPlatforms(registry()))
			require.NoError(t, err, "fwpush itself must accept the lab keys")
			_, err = FromInventory(inv)
			require.Error(t, err)
			require.Contains(t, strings.ReplaceAll(err.Error(), dir+"/", ""), tc.wantErr)
		})
	}
}

// TestRoutedLabFromInventory starts the lab the routed inventory
// describes and checks it is wired as the inventory says.
func TestRoutedLabFromInventory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topo, err := Build(loadRouted(t))
	require.NoError(t, err)
	l := testbed.StartT(t, topo.Hosts, topo.Options()...)
	// The router's management plane, served from inside its namespace.
	ln, err := l.Listen(ctx, "edge-rtr-1", "tcp", "198.18.0.254:22")
	require.NoError(t, err)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("fwp-listen edge-rtr-1 sim\n"))
			c.Close()
		}
	}()
	probes := []struct {
		from, proto, to string
	}{
		{testbed.Controller, "tcp", "198.18.9.11:80"},       // mgmt → web, across the router
		{testbed.Controller, "tcp", "[2001:db8:9::11]:443"}, // ditto, IPv6
		{"web-1", "tcp", "198.18.0.21:8080"},                // web → mgmt
		{"app-1", "tcp", "[2001:db8:20::31]:5432"},          // mgmt → data
		{"app-1", "tcp", "198.18.9.41:8443"},                // to the Windows host
		{"app-1", "udp", "[2001:db8:9::41]:514"},
		{testbed.Controller, "tcp", "198.18.0.254:22"}, // the router's simulated management
		{"db-1", "tcp", "198.18.0.254:22"},
	}
	for _, p := range probes {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if p.proto == "tcp" {
			err = l.ProbeTCP(pctx, p.from, netip.MustParseAddrPort(p.to))
		} else {
			err = l.ProbeUDP(pctx, p.from, netip.MustParseAddrPort(p.to))
		}
		cancel()
		require.NoError(t, err, "%s %s → %s", p.proto, p.from, p.to)
	}
	r, ok := l.Router("edge-rtr-1")
	require.True(t, ok)
	linux, ok := r.LinuxName("GigabitEthernet0/1")
	require.True(t, ok)
	require.Equal(t, "gi0-1", linux)
	require.Nil(t, l.HostKey("win-1"))
	require.Nil(t, l.HostKey("edge-rtr-1"))
	require.NotNil(t, l.HostKey("db-1"))
}

// registry knows the router and Windows platforms the routed inventory
// names.
func registry() *drivers.Registry { return driverstest.LabRegistry() }
