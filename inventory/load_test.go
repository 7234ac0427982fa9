package inventory

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodNetworks = "management: [198.18.0.0/24, \"2001:db8::/64\"]\nnetworks:\n  clients:\n    prefixes: [198.19.0.0/16]\n    roles: [client]\n"

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

func TestLoadResolution(t *testing.T) {
	inv, err := LoadFS(mapFS(map[string]string{
		"hosts.yaml": `
h1:
  hostname: 198.18.1.1
  groups: [sprout]
  data:
    addresses: [198.18.1.1, "2001:db8:1::1", 198.18.1.2/24]
h2:
  hostname: 198.18.1.3
  port: 2222
  username: admin
  platform: cisco_iosxe
  groups: [edge]
`,
		"groups.yaml": `
sprout:
  groups: [clearwater]
  platform: iptables
  data: {tier: core}
clearwater:
  username: cw
  data: {site: lab, tier: none}
edge: {}
`,
		"defaults.yaml": "username: root\nplatform: linux\ndata: {site: default, owner: netops}\n",
		"networks.yaml": goodNetworks,
	}), "inv", WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	h1 := inv.Hosts["h1"]
	assert.Equal(t, "linux-iptables", h1.Platform, "group platform beats defaults")
	assert.Equal(t, "cw", h1.Username, "parent group beats defaults")
	assert.Equal(t, 22, h1.Port)
	assert.Equal(t, []string{"sprout", "clearwater"}, h1.Roles)
	assert.Equal(t, map[string]any{"tier": "core", "site": "lab", "owner": "netops",
		"addresses": h1.Data["addresses"]}, h1.Data)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("198.18.1.1"), netip.MustParseAddr("198.18.1.2"),
		netip.MustParseAddr("2001:db8:1::1")}, h1.Addresses)
	h2 := inv.Hosts["h2"]
	assert.Equal(t, "cisco-ios", h2.Platform)
	assert.Equal(t, "admin", h2.Username)
	assert.Equal(t, 2222, h2.Port)
	assert.True(t, inv.HasRole("client"), "a network can fill a role")
	assert.Len(t, inv.NetworksWithRole("client"), 1)
}

func TestLoadErrors(t *testing.T) {
	cases := map[string]struct {
		files map[string]string
		want  []string // substrings, each must appear
	}{
		"duplicate host": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\na:\n  hostname: 198.18.0.6\n  platform: linux\n"},
			want:  []string{"hosts.yaml:4", "duplicate"},
		},
		"bad cidr in networks": {
			files: map[string]string{"networks.yaml": "management: [198.18.0.0/24]\nnetworks:\n  x:\n    prefixes: [198.19.0.0/33]\n"},
			want:  []string{"networks.yaml:4", "networks.x.prefixes[0]", "bad CIDR"},
		},
		"host bits set": {
			files: map[string]string{"networks.yaml": "management: [198.18.0.1/24]\n"},
			want:  []string{"networks.yaml:1", "management[0]", "host bits set"},
		},
		"unknown group": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n  groups: [nope]\n"},
			want:  []string{"hosts.yaml:4", "a.groups[0]", `group "nope" is not defined`},
		},
		"bad port": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n  port: 70000\n"},
			want:  []string{"hosts.yaml:4", "a.port", "outside 1-65535"},
		},
		"unknown platform": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: vax\n"},
			want:  []string{"hosts.yaml:3", "unknown platform"},
		},
		"bad address": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: h\n  platform: linux\n  data:\n    addresses: [198.18.0.300]\n"},
			want:  []string{"hosts.yaml:5", "a.data.addresses[0]", "bad address"},
		},
		"shared address": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\nb:\n  hostname: 198.18.0.5\n  platform: linux\n"},
			want:  []string{"address 198.18.0.5 is also host"},
		},
		"unknown field": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platfrom: linux\n"},
			want:  []string{"hosts.yaml:3", "platfrom"},
		},
		"acl on a linux host": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n  data:\n    acls: [{interface: eth0, direction: in, protects: [x]}]\n"},
			want:  []string{"acls are for network devices"},
		},
		"bad acl direction": {
			files: map[string]string{"hosts.yaml": "r:\n  hostname: 198.18.0.5\n  platform: eos\n  data:\n    acls: [{interface: Ethernet1, direction: sideways, protects: [x]}]\n"},
			want:  []string{"direction must be in or out"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n", "networks.yaml": goodNetworks}
			for k, v := range tc.files {
				files[k] = v
			}
			_, err := LoadFS(mapFS(files), "inv", WithPlatforms(testPlatforms{}))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Setenv("FWPUSH_TEST_PW", "hunter2")
	inv, err := LoadFS(mapFS(map[string]string{
		"hosts.yaml":    "a:\n  hostname: 198.18.0.5\n  platform: linux\n  password: ${FWPUSH_TEST_PW}\nb:\n  hostname: 198.18.0.6\n  platform: linux\n  password: plain-secret\n",
		"networks.yaml": goodNetworks,
	}), "inv", WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	assert.Equal(t, "hunter2", inv.Hosts["a"].Password.Reveal())
	assert.Equal(t, "plain-secret", inv.Hosts["b"].Password.Reveal())
	js, err := json.Marshal(inv)
	require.NoError(t, err)
	for _, h := range inv.Hosts {
		for _, s := range []string{fmt.Sprint(h), fmt.Sprintf("%v %+v %#v %s", h, h, h, h.Password), string(js)} {
			assert.NotContains(t, s, "hunter2")
			assert.NotContains(t, s, "plain-secret")
		}
	}
}

func TestLimit(t *testing.T) {
	inv, err := Load("../inventory/examples/webapp", WithPlatforms(testPlatforms{}))
	if err != nil {
		inv, err = Load("examples/webapp", WithPlatforms(testPlatforms{}))
	}
	require.NoError(t, err)
	cases := map[string][]string{
		"web-1":                                {"web-1"},
		"web":                                  {"web-1", "web-2"},
		"group:db or host:app-1":               {"app-1", "db-1", "db-2"},
		"webapp and not db":                    {"app-1", "web-1", "web-2"},
		"platform:linux-iptables":              {"web-2"},
		"platform:nftables and (web, db)":      {"db-1", "db-2", "web-1"},
		"data.site=lab and not platform:linux": {"web-2"},
		"!web:!db":                             {"app-1"},
		"web,!web-2":                           {"web-1"},
		"all:!web":                             {"app-1", "db-1", "db-2"},
		"":                                     {"app-1", "db-1", "db-2", "web-1", "web-2"},
	}
	for expr, want := range cases {
		t.Run(expr, func(t *testing.T) {
			keep, err := inv.ParseLimit(expr)
			require.NoError(t, err)
			var got []string
			for _, h := range inv.Select(keep) {
				got = append(got, h.Name)
			}
			assert.Equal(t, want, got)
		})
	}
	for _, bad := range []string{"nosuchhost", "platform:vax", "web and", "(web", "data.site", "color:red"} {
		_, err := inv.ParseLimit(bad)
		assert.Error(t, err, bad)
		assert.True(t, strings.Contains(err.Error(), "--limit"), err)
	}
}

// FuzzLoad feeds arbitrary hosts.yaml content: the loader must return an
// inventory or an error, never panic.
func FuzzLoad(f *testing.F) {
	f.Add("a:\n  hostname: 198.18.0.5\n  platform: linux\n  groups: [g]\n")
	f.Add("a:\n  hostname: 198.18.0.5\n  data:\n    addresses: [1, x, '2001:db8::1']\n    acls: [{interface: 1}]\n")
	f.Add("- not a map\n")
	f.Add("a: {port: -1, platform: eos, data: {acls: 3}}\n")
	f.Add("a:\n  groups: [g, g, g]\n  hostname: ''\n")
	f.Fuzz(func(t *testing.T, hosts string) {
		inv, err := LoadFS(mapFS(map[string]string{"hosts.yaml": hosts, "groups.yaml": "g: {}\n", "networks.yaml": goodNetworks}), "inv", WithPlatforms(testPlatforms{}))
		if err == nil && inv == nil {
			t.Fatal("nil inventory without error")
		}
	})
}

// testPlatforms stands in for the driver registry (which imports this
// package) with the names the tests use.
// testPlatforms stands in for the driver registry (which imports this
// package), with a few of the real drivers' aliases, Ansible's and
// containerlab's names among them; drivers/all's tests load the examples
// through the real one.
type testPlatforms struct{}

func (testPlatforms) InventoryPlatform(name string) (PlatformInfo, bool) {
	switch strings.ToLower(name) {
	case "linux", "nftables", "linux-nftables":
		return PlatformInfo{ID: "linux-nftables", Port: 22}, true
	case "iptables", "linux-iptables":
		return PlatformInfo{ID: "linux-iptables", Port: 22}, true
	case "cisco_iosxe", "cisco-ios", "cisco.ios.ios", "cisco_iol":
		return PlatformInfo{ID: "cisco-ios", Port: 22, NetworkACL: true}, true
	case "eos", "arista-eos", "arista.eos.eos", "arista_ceos", "ceos":
		return PlatformInfo{ID: "arista-eos", Port: 22, NetworkACL: true}, true
	case "windows", "win", "winrm", "psrp":
		return PlatformInfo{ID: "windows", Port: 5986, Transport: "winrm"}, true
	}
	return PlatformInfo{}, false
}

// TestNetworksOptional: without management networks the inventory loads
// (inventory list, render, explain work) and refuses to be pushed to;
// a networks.yaml that lists none says so at its line.
func TestNetworksOptional(t *testing.T) {
	hosts := "a:\n  hostname: 198.18.0.5\n  platform: linux\n"
	cases := map[string]struct {
		files   map[string]string
		warning string
	}{
		"no networks.yaml":    {files: map[string]string{"hosts.yaml": hosts}},
		"no management in it": {files: map[string]string{"hosts.yaml": hosts, "networks.yaml": "networks: {}\n"}, warning: "inv/networks.yaml: management: no management networks: fwpush refuses to push"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := LoadFS(mapFS(tc.files), "inv", WithPlatforms(testPlatforms{}))
			require.NoError(t, err)
			assert.Empty(t, inv.Management)
			if tc.warning == "" {
				assert.Empty(t, inv.Warnings)
			} else {
				require.Len(t, inv.Warnings, 1)
				assert.Contains(t, inv.Warnings[0], tc.warning)
			}
			err = inv.CheckPushable()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "lists no management networks")
		})
	}
	inv, err := LoadFS(mapFS(map[string]string{"hosts.yaml": hosts, "networks.yaml": goodNetworks}), "inv", WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	assert.NoError(t, inv.CheckPushable())
}

// TestUnsetSecrets: every ${ENV} credential whose variable is unset, by
// host and key; a provided value counts as set.
func TestUnsetSecrets(t *testing.T) {
	t.Setenv("FWPUSH_TEST_SET", "x")
	inv, err := LoadFS(mapFS(map[string]string{
		"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n  password: ${FWPUSH_TEST_UNSET_A}\n" +
			"  data: {enable_secret: '${FWPUSH_TEST_UNSET_B}', note: '${NOT_A_SECRET}'}\n" +
			"  connection_options: {netmiko: {extras: {secret: '${FWPUSH_TEST_SET}'}}}\n" +
			"b:\n  hostname: 198.18.0.6\n  platform: linux\n  password: ${FWPUSH_TEST_SET}\n",
	}), "inv", WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	got := UnsetSecrets(inv.Select(nil))
	assert.Equal(t, []UnsetSecret{
		{Host: "a", Key: "password", Var: "FWPUSH_TEST_UNSET_A"},
		{Host: "a", Key: "data.enable_secret", Var: "FWPUSH_TEST_UNSET_B"},
	}, got)
	assert.Equal(t, "host a: password is ${FWPUSH_TEST_UNSET_A}, which is not set: export FWPUSH_TEST_UNSET_A (fwpush asks for it when run on a terminal)", got[0].Error())
	ProvideSecret("FWPUSH_TEST_UNSET_A", "typed")
	t.Cleanup(func() { provided.Delete("FWPUSH_TEST_UNSET_A") })
	assert.Len(t, UnsetSecrets(inv.Select(nil)), 1)
	assert.Equal(t, "typed", inv.Hosts["a"].Password.Reveal())
}
