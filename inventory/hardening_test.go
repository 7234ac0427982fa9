package inventory

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func load(t *testing.T, files map[string]string) (*Inventory, error) {
	t.Helper()
	all := map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n", "networks.yaml": goodNetworks}
	for k, v := range files {
		all[k] = v
	}
	return LoadFS(mapFS(all), "inv", WithPlatforms(testPlatforms{}))
}

func TestLoadRejects(t *testing.T) {
	cases := map[string]struct {
		files map[string]string
		want  []string
	}{
		"empty host name": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n\"\":\n  hostname: 198.18.0.6\n  platform: linux\n"},
			want:  []string{"hosts.yaml:4:1", "host name is empty"},
		},
		"empty group name": {
			files: map[string]string{"groups.yaml": "g: {}\n'': {}\n"},
			want:  []string{"groups.yaml:2:1", "group name is empty"},
		},
		"second document in hosts": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n---\nb:\n  hostname: 198.18.0.6\n  platform: linux\n"},
			want:  []string{"hosts.yaml:4:1", "a second YAML document"},
		},
		"alias bomb in data": {
			files: map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n  data:\n" + indent(billionLaughs("lol"), "    ")},
			want:  []string{"hosts.yaml:10:", "aliases expand this file by more than 1000000 nodes"},
		},
		"alias bomb in defaults": {
			files: map[string]string{"defaults.yaml": "data:\n" + indent(billionLaughs("lol"), "  ")},
			want:  []string{"defaults.yaml:7:", "aliases expand this file"},
		},
		"group cycle": {
			files: map[string]string{"groups.yaml": "a: {groups: [b]}\nb: {groups: [c]}\nc: {groups: [a]}\nd: {groups: [d]}\n",
				"hosts.yaml": "h:\n  hostname: 198.18.0.5\n  platform: linux\n  groups: [a]\n"},
			want: []string{"groups.yaml:3:", "c.groups: group cycle: a -> b -> c -> a", "groups.yaml:4:", "group cycle: d -> d"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := load(t, tc.files)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// billionLaughs is the classic alias bomb under key: ten levels, each
// repeating the one below ten times, 10^9 scalars from 700 bytes.
func billionLaughs(key string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n", key)
	for i := 1; i <= 9; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", ")
		fmt.Fprintf(&b, "%s%d: &l%d [%s]\n", key, i, i, refs)
	}
	return b.String()
}

func indent(s, by string) string {
	return by + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+by) + "\n"
}

// TestAliasBombCheap: once, aliases in data drove `inventory list` to
// 24 GB; now loading refuses them at a cost of a few megabytes.
func TestAliasBombCheap(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := load(t, map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n  data:\n" + indent(billionLaughs("lol"), "    ")})
	runtime.ReadMemStats(&after)
	require.Error(t, err)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "bytes allocated")
}

// TestBOM: a byte order mark must not rename the first host.
func TestBOM(t *testing.T) {
	inv, err := load(t, map[string]string{
		"hosts.yaml":  "\ufeffa:\n  hostname: 198.18.0.5\n  platform: linux\n  groups: [g]\n",
		"groups.yaml": "\ufeffg: {}\n",
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, inv.Names())
	assert.Contains(t, inv.Groups, "g")
}

func TestDataKeyTypos(t *testing.T) {
	inv, err := load(t, map[string]string{
		"hosts.yaml": `a:
  hostname: 198.18.0.5
  platform: linux
  groups: [g]
  data:
    addresses: [198.18.0.5]
    adresses: [198.18.0.7]
    Addresses: x
    ssh-known-hosts: /k
    known_hosts: /k
    proxyjump: bastion
    identity_file: /id
    site: lab
    os: debian
    real_platform: windows
    tier: core
`,
		"groups.yaml":   "g:\n  data:\n    acl: []\n",
		"defaults.yaml": "data:\n  ssh_identity_fle: /id\n",
	})
	require.NoError(t, err)
	assert.Equal(t, []string{
		`inv/hosts.yaml:8:16: a.data.Addresses: unknown data key "Addresses" is not read by fwpush: did you mean "addresses"?`,
		`inv/hosts.yaml:7:5: a.data.adresses: unknown data key "adresses" is not read by fwpush: did you mean "addresses"?`,
		`inv/hosts.yaml:12:20: a.data.identity_file: unknown data key "identity_file" is not read by fwpush: did you mean "ssh_identity_file"?`,
		`inv/hosts.yaml:10:18: a.data.known_hosts: unknown data key "known_hosts" is not read by fwpush: did you mean "ssh_known_hosts"?`,
		`inv/hosts.yaml:11:16: a.data.proxyjump: unknown data key "proxyjump" is not read by fwpush: did you mean "proxy_jump"?`,
		`inv/hosts.yaml:9:22: a.data.ssh-known-hosts: unknown data key "ssh-known-hosts" is not read by fwpush: did you mean "ssh_known_hosts"?`,
		`inv/groups.yaml:3:5: g.data.acl: unknown data key "acl" is not read by fwpush: did you mean "acls"?`,
		`inv/defaults.yaml:2:21: data.ssh_identity_fle: unknown data key "ssh_identity_fle" is not read by fwpush: did you mean "ssh_identity_file"?`,
	}, inv.Warnings)
}

func TestIsSecretKey(t *testing.T) {
	for _, k := range []string{"password", "Password", "enable_password", "enablePassword", "auth-password", "secret",
		"enable_secret", "client_secret", "passphrase", "auth_private_key_passphrase", "token", "api_token", "apiToken",
		"community", "snmp_community", "SNMPCommunity", "private_key", "privateKey", "ssh_key", "key", "api_key", "psk",
		"pre_shared_key", "auth_pass", "priv_pass", "pwd", "credentials", "PASSWD", "auth_secondary"} {
		assert.True(t, IsSecretKey(k), k)
	}
	for _, k := range append([]string{"hostname", "username", "port", "platform", "site", "keepalive", "monkey",
		"passive", "timeout", "os", "real_platform", "extras", "netmiko", "auth_protocol", "tier"},
		KnownDataKeys...) {
		assert.False(t, IsSecretKey(k), k)
	}
}

const planted = "PLANTED-SECRET"

// TestSecretsHidden: a credential anywhere in data or connection_options,
// at any depth, prints as [redacted] in every encoding, and is still
// there for whoever needs it.
func TestSecretsHidden(t *testing.T) {
	t.Setenv("FWPUSH_TEST_ENABLE", planted+"-env")
	inv, err := load(t, map[string]string{
		"hosts.yaml": `a:
  hostname: 198.18.0.5
  platform: linux
  groups: [g]
  password: ` + planted + `-pw
  data:
    snmp: {community: ` + planted + `-c, version: 2c}
    users: [{name: ops, password: ` + planted + `-u}]
    api_token: ` + planted + `-t
    keys: [` + planted + `-k1, {nested: ` + planted + `-k2}]
    pin: 4711
  connection_options:
    netmiko:
      password: ` + planted + `-n
      extras: {secret: "${FWPUSH_TEST_ENABLE}", auth_private_key_passphrase: ` + planted + `-pp}
`,
		"groups.yaml":   "g:\n  data:\n    enable_password: " + planted + "-g\n",
		"defaults.yaml": "data:\n  snmpCommunity: " + planted + "-d\n",
	})
	require.NoError(t, err)
	h := inv.Hosts["a"]
	js, err := json.Marshal(map[string]any{"hosts": inv.Select(nil), "groups": inv.Groups})
	require.NoError(t, err)
	for _, s := range []string{string(js), fmt.Sprint(h.Data, h.ConnectionOptions), fmt.Sprintf("%+v %#v", h, h.Data)} {
		assert.NotContains(t, s, planted)
		assert.NotContains(t, s, "4711")
	}
	assert.Contains(t, string(js), `"community":"[redacted]"`)
	netmiko := h.ConnectionOptions["netmiko"].(map[string]any)
	assert.Equal(t, planted+"-n", netmiko["password"].(Secret).Reveal(), "the value is kept for the driver")
	assert.Equal(t, planted+"-env", netmiko["extras"].(map[string]any)["secret"].(Secret).Reveal(), "${ENV} references resolve")
	assert.Equal(t, "2c", h.Data["snmp"].(map[string]any)["version"], "other data is untouched")
}

func TestLimitComparesSecretValue(t *testing.T) {
	inv, err := load(t, map[string]string{"hosts.yaml": "a:\n  hostname: 198.18.0.5\n  platform: linux\n  data: {snmp_community: public}\nb:\n  hostname: 198.18.0.6\n  platform: linux\n"})
	require.NoError(t, err)
	keep, err := inv.ParseLimit("data.snmp_community=public")
	require.NoError(t, err)
	assert.Len(t, inv.Select(keep), 1)
}

// groupChain is groups.yaml with g0 → g1 → … → g(n-1), closed into a cycle
// when cyclic.
func groupChain(n int, cyclic bool) string {
	var b strings.Builder
	for i := 0; i < n-1; i++ {
		fmt.Fprintf(&b, "g%d: {groups: [g%d], data: {k%d: v}}\n", i, i+1, i)
	}
	if cyclic {
		fmt.Fprintf(&b, "g%d: {groups: [g0]}\n", n-1)
	} else {
		fmt.Fprintf(&b, "g%d: {platform: linux}\n", n-1)
	}
	return b.String()
}

// TestGroupChain: a 5,000-deep chain of groups (once 71 s to validate:
// cycle detection re-walked the chain from every group) loads, and its
// cycle is reported once. TestGroupChainLinear counts the work.
func TestGroupChain(t *testing.T) {
	const n = 5000
	for _, cyclic := range []bool{false, true} {
		t.Run(fmt.Sprintf("cyclic=%v", cyclic), func(t *testing.T) {
			var hosts strings.Builder
			for i := range 50 {
				fmt.Fprintf(&hosts, "h%d:\n  hostname: 198.18.1.%d\n  groups: [g0]\n", i, i+1)
			}
			inv, err := load(t, map[string]string{"groups.yaml": groupChain(n, cyclic), "hosts.yaml": hosts.String(), "defaults.yaml": "platform: linux\n"})
			if cyclic {
				require.Error(t, err)
				assert.Equal(t, 1, strings.Count(err.Error(), "group cycle"), "one cycle, reported once")
				assert.Contains(t, err.Error(), fmt.Sprintf("g%d.groups: group cycle: g0 -> g1 -> g2", n-1))
			} else {
				require.NoError(t, err)
				assert.Len(t, inv.Hosts["h0"].Roles, n)
				assert.Equal(t, "linux-nftables", inv.Hosts["h0"].Platform)
				assert.Equal(t, "v", inv.Hosts["h7"].Data[fmt.Sprintf("k%d", n-2)])
			}
		})
	}
}

// TestGroupChainLinear counts the work instead of timing it: groups
// visited to find cycles and resolve 50 hosts of a 5,000-deep chain.
func TestGroupChainLinear(t *testing.T) {
	const n = 5000
	for _, cyclic := range []bool{false, true} {
		rg := map[string]rawHost{}
		for i := 0; i < n; i++ {
			g := rawHost{}
			if i < n-1 || cyclic {
				g.Groups = []string{fmt.Sprintf("g%d", (i+1)%n)}
			}
			rg[fmt.Sprintf("g%d", i)] = g
		}
		graph := newGroupGraph(rg, rawHost{})
		assert.Len(t, graph.cycles(), map[bool]int{false: 0, true: 1}[cyclic])
		for range 50 {
			assert.Len(t, graph.resolve([]string{"g0"}).roles, n)
		}
		assert.LessOrEqual(t, graph.steps, 2*n, "cyclic=%v: one search for cycles, one resolution shared by 50 hosts", cyclic)
	}
}
