package inventory

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeTree writes files (path → text) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, text := range files {
		full := filepath.Join(dir, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(text), 0o644))
	}
	return dir
}

// tutorialShape is a Nornir inventory laid out as Nornir's tutorial lays
// out its own: config.yaml beside an inventory/ directory, and every host
// at 127.0.0.1 on its own forwarded port.
var tutorialShape = map[string]string{
	"config.yaml": "---\ninventory:\n  plugin: SimpleInventory\n  options:\n    host_file: inventory/hosts.yaml\n    group_file: inventory/groups.yaml\n    defaults_file: inventory/defaults.yaml\nrunner:\n  plugin: threaded\n  options:\n    num_workers: 100\n",
	"inventory/hosts.yaml": `---
host1.cmh:
  hostname: 127.0.0.1
  port: 2201
  platform: linux
  groups: [cmh]
  data: {site: cmh, role: host}
host2.cmh:
  hostname: 127.0.0.1
  port: 2202
  platform: linux
  groups: [cmh]
  data: {site: cmh, role: host}
spine00.cmh:
  hostname: 127.0.0.1
  port: 12444
  platform: eos
  groups: [cmh]
  data: {site: cmh, role: spine}
`,
	"inventory/groups.yaml":   "---\nglobal:\n  data: {domain: global.local}\ncmh:\n  groups: [global]\n  data:\n    vlans: {100: frontend, 200: backend}\n",
	"inventory/defaults.yaml": "---\ndata:\n  domain: acme.local\n",
}

// TestNornirTutorialShape: hosts sharing one hostname on different ports
// load (the hostname is the default address, not an extra one), with a
// warning that a policy cannot tell them apart; through config.yaml, the
// directory holding it, and the inventory directory itself.
func TestNornirTutorialShape(t *testing.T) {
	dir := writeTree(t, tutorialShape)
	for _, path := range []string{filepath.Join(dir, "config.yaml"), dir, filepath.Join(dir, "inventory"), filepath.Join(dir, "inventory", "hosts.yaml")} {
		inv, err := Load(path, WithPlatforms(testPlatforms{}))
		require.NoError(t, err, path)
		assert.Equal(t, []string{"host1.cmh", "host2.cmh", "spine00.cmh"}, inv.Names())
		h := inv.Hosts["spine00.cmh"]
		assert.Equal(t, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, h.Addresses)
		assert.Equal(t, 12444, h.Port)
		assert.Equal(t, "arista-eos", h.Platform)
		assert.Equal(t, []string{"cmh", "global"}, h.Roles)
		assert.Equal(t, "global.local", h.Data["domain"], "the first group that sets a key wins over defaults")
		require.Len(t, inv.Warnings, 1)
		assert.Contains(t, inv.Warnings[0], "hosts host1.cmh, host2.cmh, spine00.cmh share address 127.0.0.1 (their hostname, on ports 2201, 2202, 12444)")
		assert.Contains(t, inv.Warnings[0], "hosts.yaml:9:13: host2.cmh.hostname:")
	}
}

// TestHostnameDefaultsAddresses: an IP hostname is a host's address only
// when data.addresses is absent; two hosts on one hostname and port are
// one device twice, reported at the hostname (which the host has), not at
// an addresses key it has not.
func TestHostnameDefaultsAddresses(t *testing.T) {
	inv, err := LoadFS(mapFS(map[string]string{
		"hosts.yaml": "a:\n  hostname: 127.0.0.1\n  port: 2201\n  platform: linux\n  data: {addresses: [198.18.0.1]}\n" +
			"b:\n  hostname: 127.0.0.1\n  port: 2202\n  platform: linux\n  data: {addresses: [198.18.0.2]}\n",
	}), "inv", WithPlatforms(testPlatforms{}))
	require.NoError(t, err, "each host's own addresses: 127.0.0.1 is only where fwpush connects")
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("198.18.0.1")}, inv.Hosts["a"].Addresses)
	require.Len(t, inv.Warnings, 2)
	assert.Contains(t, inv.Warnings[0], "inv/hosts.yaml:2:13: a.hostname: fwpush connects to 127.0.0.1, which data.addresses does not list")

	_, err = LoadFS(mapFS(map[string]string{
		"hosts.yaml": "a:\n  hostname: 198.18.0.1\n  platform: linux\nb:\n  hostname: 198.18.0.1\n  platform: linux\n",
	}), "inv", WithPlatforms(testPlatforms{}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `inv/hosts.yaml:5:13: b.hostname: address 198.18.0.1 is also host "a"'s`)
}

// TestNornirConfig: config.yaml's plugin and options, read relative to it.
func TestNornirConfig(t *testing.T) {
	files := map[string]string{
		"nornir/config.yaml": "inventory:\n  plugin: nornir.plugins.inventory.simple.SimpleInventory\n  options:\n    host_file: ../inv/h.yaml\n  transform_function: my.transform\n",
		"inv/h.yaml":         "r1:\n  hostname: 198.18.0.1\n  platform: linux\n",
		"inv/networks.yaml":  "management: [198.18.0.0/24]\n",
	}
	dir := writeTree(t, files)
	inv, err := Load(filepath.Join(dir, "nornir", "config.yaml"), WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	assert.Equal(t, []string{"r1"}, inv.Names())
	assert.NotEmpty(t, inv.Management, "networks.yaml beside the hosts file when none is beside config.yaml")
	require.Len(t, inv.Warnings, 1)
	assert.Contains(t, inv.Warnings[0], "config.yaml:5:23: inventory.transform_function: fwpush does not run Nornir transform functions")

	for name, cfg := range map[string]string{
		"other plugin":   "inventory:\n  plugin: NetBoxInventory2\n",
		"unknown option": "inventory:\n  plugin: SimpleInventory\n  options:\n    host_fil: x.yaml\n",
		"no hosts file":  "inventory:\n  options: {host_file: missing.yaml}\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"config.yaml": cfg})
			_, err := Load(filepath.Join(dir, "config.yaml"), WithPlatforms(testPlatforms{}))
			require.Error(t, err)
			want := map[string]string{"other plugin": `config.yaml:2:11: inventory.plugin: inventory plugin "NetBoxInventory2"`,
				"unknown option": `config.yaml:4:15: inventory.options.host_fil: SimpleInventory option "host_fil"`,
				"no hosts file":  "missing.yaml: no such file"}[name]
			assert.Contains(t, err.Error(), want)
		})
	}
}

// TestDetect: how each format is told apart, and the error that lists
// what is accepted.
func TestDetect(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"nornir/hosts.yaml":         "a: {hostname: 198.18.0.1, platform: linux}\n",
		"hosts":                     "a ansible_host=198.18.0.1\n",
		"inv.ini":                   "[web]\na\n",
		"inv.yml":                   "all:\n  hosts:\n    a:\n",
		"ansible.json":              `{"web": {"hosts": {"a": null}}}`,
		"hosts-only.yml":            "a:\n  hostname: 198.18.0.1\n",
		"config.yaml":               "inventory: {plugin: SimpleInventory}\n",
		"lab/topology.json":         `{"name": "x", "type": "clab", "clab": {}, "nodes": {}}`,
		"clab-x/topology-data.json": `{"name": "x", "type": "clab", "clab": {}, "nodes": {}}`,
		"plugin.yml":                "plugin: constructed\n",
		"other.yml":                 "just: text\n",
		"list.yml":                  "- a\n- b\n",
		"empty.yml":                 "# nothing\n",
		"inv.toml":                  "x = 1\n",
		"emptydir/README":           "nothing here\n",
	})
	kinds := map[string]Kind{
		"nornir": NornirDir, "nornir/hosts.yaml": NornirDir, "hosts": AnsibleINI, "inv.ini": AnsibleINI, "inv.yml": AnsibleYAML,
		"ansible.json": AnsibleYAML, "hosts-only.yml": NornirFile, "config.yaml": NornirConfig, "lab/topology.json": Containerlab,
		"clab-x": Containerlab, "clab-x/topology-data.json": Containerlab,
	}
	for p, want := range kinds {
		f, err := Detect(filepath.Join(dir, p))
		require.NoError(t, err, p)
		assert.Equal(t, want, f.Kind, p)
	}
	refused := map[string]string{
		"plugin.yml": "an Ansible inventory plugin's configuration",
		"other.yml":  "neither Nornir hosts",
		"list.yml":   "a mapping at its top",
		"empty.yml":  "the file is empty",
		"inv.toml":   "not a file fwpush reads (by its extension)",
		"emptydir":   "a directory without hosts.yaml",
		"nosuch":     "no such file or directory",
	}
	for p, want := range refused {
		_, err := Detect(filepath.Join(dir, p))
		require.Error(t, err, p)
		assert.Contains(t, err.Error(), want, p)
		if p != "nosuch" && p != "plugin.yml" && p != "empty.yml" {
			assert.Contains(t, err.Error(), "fwpush reads:\n  - a Nornir SimpleInventory directory", p)
		}
	}
}

// TestFiles: what a digest of the inventory covers.
func TestFiles(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"a/hosts.ini":               "x\n",
		"a/group_vars/all.yml":      "a: 1\n",
		"a/group_vars/web/main.yml": "b: 1\n",
		"a/host_vars/x.yml":         "c: 1\n",
	})
	files, err := Files(filepath.Join(dir, "a", "hosts.ini"))
	require.NoError(t, err)
	rel := make([]string, len(files))
	for i, f := range files {
		rel[i], _ = filepath.Rel(dir, f)
	}
	assert.Equal(t, []string{"a/hosts.ini", "a/group_vars/all.yml", "a/group_vars/web/main.yml", "a/host_vars/x.yml", "a/networks.yaml"}, rel)
}

// clabNode is what containerlab's inventory templates read of a node.
type clabNode struct {
	ShortName, LongName, Kind, Group, Image, Fqdn, LabDir, MgmtIPv4Address, MgmtIPv6Address string
	Index                                                                                   string
	MgmtIPv4PrefixLength, MgmtIPv6PrefixLength                                              int
	MgmtNet, MgmtIntf, MacAddress                                                           string
	Labels                                                                                  map[string]string
	NornirGroups                                                                            []string
	EmitUsernameOnHost, EmitPasswordOnHost                                                  bool
	EmitAnsibleUserOnHost, EmitAnsiblePasswordOnHost                                        bool
	Credentials                                                                             struct{ Username, Password string }
	ResultingPortBindings                                                                   []struct {
		HostIP                  string
		HostPort, ContainerPort int
		Protocol                string
	}
}

type clabKind struct{ NetworkOS, AnsibleConn, Username, Password, Platform string }

// clabLab is a deployed lab as containerlab's templates see it: a Linux
// client and an Arista cEOS router, one link.
func clabLab() map[string]any {
	client := &clabNode{ShortName: "client1", LongName: "clab-fw-client1", Kind: "linux", Group: "web", Image: "alpine:3",
		Fqdn: "client1.fw.io", Index: "0", MgmtIPv4Address: "172.20.20.3", MgmtIPv4PrefixLength: 24,
		MgmtIPv6Address: "3fff:172:20:20::3", MgmtIPv6PrefixLength: 64, Labels: map[string]string{"clab-node-kind": "linux"}, NornirGroups: []string{"web"}}
	ceos := &clabNode{ShortName: "ceos1", LongName: "clab-fw-ceos1", Kind: "arista_ceos", Image: "ceos:4.33", Fqdn: "ceos1.fw.io",
		Index: "1", MgmtIPv4Address: "172.20.20.2", MgmtIPv4PrefixLength: 24, Labels: map[string]string{"clab-node-kind": "arista_ceos"}}
	return map[string]any{
		"Name": "fw", "Type": "clab",
		"Nodes": map[string][]*clabNode{"linux": {client}, "arista_ceos": {ceos}},
		"Kinds": map[string]clabKind{"linux": {Platform: "linux"},
			"arista_ceos": {NetworkOS: "arista.eos.eos", AnsibleConn: "ansible.netcommon.network_cli", Username: "admin", Password: "admin", Platform: "arista_ceos"}},
		"Groups":      map[string][]*clabNode{"web": {client}},
		"NodeConfigs": map[string]*clabNode{"client1": client, "ceos1": ceos},
		"SSHPubKeys":  []string{},
		"Clab": map[string]any{
			"Config": map[string]any{"Prefix": "clab", "Mgmt": map[string]any{"network": "clab", "ipv4-subnet": "172.20.20.0/24"}},
			"Links":  []clabLink{{[2]clabEndpoint{{client, "eth1", netip.MustParseAddr("198.18.7.1")}, {ceos, "eth1", netip.Addr{}}}}},
		},
	}
}

// clabLink and clabEndpoint answer the methods auto.tmpl calls.
type clabLink struct{ eps [2]clabEndpoint }

func (l clabLink) GetEndpoints() []clabEndpoint { return l.eps[:] }
func (l clabLink) GetVars() map[string]any      { return nil }

type clabEndpoint struct {
	node  *clabNode
	iface string
	v4    netip.Addr
}

func (e clabEndpoint) GetNode() clabEndpoint   { return e }
func (e clabEndpoint) GetShortName() string    { return e.node.ShortName }
func (e clabEndpoint) GetIfaceName() string    { return e.iface }
func (e clabEndpoint) GetMac() string          { return "aa:c1:ab:00:00:01" }
func (e clabEndpoint) GetIPv4Addr() netip.Addr { return e.v4 }
func (e clabEndpoint) GetIPv6Addr() netip.Addr { return netip.Addr{} }
func (e clabEndpoint) GetVars() map[string]any { return nil }

// renderClab renders one of containerlab's own templates (from
// FWPUSH_SHARED_DIR) for clabLab, as containerlab writes it when it
// deploys a lab.
func renderClab(t *testing.T, tmpl string) string {
	t.Helper()
	text := vendorFixture(t, "containerlab/"+tmpl)
	funcs := template.FuncMap{
		"ToJSON": func(v any) string { b, _ := json.Marshal(v); return string(b) },
		"ToJSONPretty": func(v any, prefix, indent string) string {
			b, _ := json.MarshalIndent(v, prefix, indent)
			return string(b)
		},
		"add": func(a, b int) int { return a + b },
	}
	tp, err := template.New(tmpl).Funcs(funcs).Parse(text)
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, tp.Execute(&b, clabLab()))
	return b.String()
}

// vendorFixture reads vendor-fixtures/rel under FWPUSH_SHARED_DIR: the
// test fails without it in CI and is skipped elsewhere, naming the file.
func vendorFixture(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("FWPUSH_SHARED_DIR")
	b, err := os.ReadFile(filepath.Join(dir, "vendor-fixtures", rel))
	if dir == "" || err != nil {
		msg := "needs vendor-fixtures/" + rel + " under FWPUSH_SHARED_DIR (unset or file missing)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return string(b)
}

// TestContainerlab: the three inventories a deployed lab writes, rendered
// from containerlab's own templates, read as they are (fwpush -i
// clab-fw/…): kinds become platforms, the lab's Linux node is reachable
// and owns its management addresses.
func TestContainerlab(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"clab-fw/topology-data.json":          renderClab(t, "auto.tmpl"),
		"clab-fw/ansible-inventory.yml":       renderClab(t, "inventory_ansible.go.tpl"),
		"clab-fw/nornir-simple-inventory.yml": renderClab(t, "inventory_nornir_simple.go.tpl"),
	})
	lab := filepath.Join(dir, "clab-fw")
	cases := map[string]struct {
		client, ceos string
		roles        []string
		addrs        []string
	}{
		"topology-data.json":          {"client1", "ceos1", []string{"linux", "web"}, []string{"172.20.20.3", "3fff:172:20:20::3"}},
		"":                            {"client1", "ceos1", []string{"linux", "web"}, []string{"172.20.20.3", "3fff:172:20:20::3"}},
		"ansible-inventory.yml":       {"clab-fw-client1", "clab-fw-ceos1", []string{"linux", "web"}, []string{"172.20.20.3"}},
		"nornir-simple-inventory.yml": {"client1", "ceos1", []string{"web"}, []string{"172.20.20.3"}},
	}
	for file, want := range cases {
		t.Run("file "+file, func(t *testing.T) {
			inv, err := Load(filepath.Join(lab, file), WithPlatforms(testPlatforms{}))
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{want.client, want.ceos}, inv.Names())
			c := inv.Hosts[want.client]
			assert.Equal(t, "linux-nftables", c.Platform)
			assert.Equal(t, "172.20.20.3", c.Hostname)
			assert.Equal(t, want.roles, c.Roles)
			var addrs []string
			for _, a := range c.Addresses {
				addrs = append(addrs, a.String())
			}
			assert.Equal(t, want.addrs, addrs)
			r := inv.Hosts[want.ceos]
			assert.Equal(t, "arista-eos", r.Platform)
			assert.Equal(t, "172.20.20.2", r.Hostname)
			if file == "ansible-inventory.yml" {
				assert.Equal(t, "admin", r.Username)
				assert.Equal(t, "admin", r.Password.Reveal())
				compareWithAnsible(t, inv, ansibleInventoryList(t, filepath.Join(lab, file)))
			}
			assert.Error(t, inv.CheckPushable(), "no networks.yaml beside it")
		})
	}
	require.NoError(t, os.WriteFile(filepath.Join(lab, "networks.yaml"), []byte("management: [172.20.20.0/24]\n"), 0o644))
	inv, err := Load(lab, WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	assert.NoError(t, inv.CheckPushable())

	// A kind fwpush has no platform for is an error at its node's kind.
	topo := strings.Replace(renderClab(t, "auto.tmpl"), `"kind": "arista_ceos"`, `"kind": "nokia_srlinux"`, 1)
	dir = writeTree(t, map[string]string{"topology-data.json": topo})
	_, err = Load(filepath.Join(dir, "topology-data.json"), WithPlatforms(testPlatforms{}))
	require.Error(t, err)
	assert.Regexp(t, `topology-data\.json:\d+:\d+: nodes\.ceos1\.kind: unknown platform "nokia_srlinux"`, err.Error())
}
