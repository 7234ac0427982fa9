package inventory

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// revealed is v with every Secret replaced by its text, for comparing
// data with what Ansible read.
func revealed(v any) any {
	switch x := v.(type) {
	case Secret:
		return string(x)
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = revealed(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = revealed(e)
		}
		return out
	}
	return v
}

// jsonNormal is v as JSON would carry it (numbers as float64).
func jsonNormal(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// compareWithAnsible checks a loaded inventory against ansible-inventory
// --list of the same file: the same hosts; each host's data is exactly
// Ansible's merged variables; each group holds the same hosts (directly
// and through its children) and children; ungrouped hosts have no roles.
func compareWithAnsible(t *testing.T, inv *Inventory, list map[string]any) {
	t.Helper()
	meta := list["_meta"].(map[string]any)["hostvars"].(map[string]any)
	assert.ElementsMatch(t, sortedKeys(meta), inv.Names(), "hosts")
	for name, vars := range meta {
		h := inv.Hosts[name]
		if !assert.NotNil(t, h, name) {
			continue
		}
		assert.Equal(t, jsonNormal(t, vars), jsonNormal(t, revealed(h.Data)), "%s: data", name)
	}
	members := func(g string) []string {
		var out []string
		seen := map[string]bool{}
		var walk func(string)
		walk = func(g string) {
			e, _ := list[g].(map[string]any)
			for _, h := range asList(e["hosts"]) {
				if !seen[h] {
					seen[h] = true
					out = append(out, h)
				}
			}
			for _, c := range asList(e["children"]) {
				walk(c)
			}
		}
		walk(g)
		sort.Strings(out)
		return out
	}
	for g, e := range list {
		if g == "_meta" || g == "all" {
			continue
		}
		if g == "ungrouped" {
			var none []string
			for _, h := range inv.Select(func(h *Host) bool { return len(h.Roles) == 0 }) {
				none = append(none, h.Name)
			}
			assert.ElementsMatch(t, members(g), none, "ungrouped")
			continue
		}
		_, ok := inv.Groups[g]
		require.True(t, ok, "group %s", g)
		var got []string
		for _, h := range inv.HostsWithRole(g) {
			got = append(got, h.Name)
		}
		assert.Equal(t, members(g), got, "hosts of %s", g)
		var children []string
		for _, c := range sortedKeys(inv.Groups) {
			for _, p := range inv.Groups[c].Groups {
				if p == g {
					children = append(children, c)
				}
			}
		}
		want := asList(e.(map[string]any)["children"])
		sort.Strings(want)
		assert.Equal(t, want, children, "children of %s", g)
	}
}

func asList(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}

// TestAnsibleInventories: an INI and a YAML Ansible inventory, with
// group_vars/ and host_vars/, read as ansible-inventory --list reads them;
// and what fwpush takes from them for connecting and for policy.
func TestAnsibleInventories(t *testing.T) {
	t.Setenv("FWPUSH_TEST_DB_PW", "db-secret")
	cases := map[string]struct {
		path  string
		check func(t *testing.T, inv *Inventory)
	}{
		"ini": {"testdata/ansible/ini/hosts.ini", func(t *testing.T, inv *Inventory) {
			web4 := inv.Hosts["web04"]
			assert.Equal(t, "198.18.5.14", web4.Hostname)
			assert.Equal(t, 2200, web4.Port, "ansible_port beats the entry's :2222")
			assert.Equal(t, "linux-nftables", web4.Platform)
			assert.Equal(t, []string{"web", "dc", "prod"}, web4.Roles)
			assert.Equal(t, "web01", inv.Hosts["web01"].Hostname, "no ansible_host: the name")
			assert.Equal(t, "db", inv.Hosts["web01"].Data["y"], "ansible_group_priority orders groups of one depth")
			db := inv.Hosts["db-a.example"]
			assert.Equal(t, "postgres", db.Username)
			assert.Equal(t, Secret("${FWPUSH_TEST_DB_PW}"), db.Password, "lookup('env', …) is read as ${…}")
			assert.Equal(t, "db-secret", db.Password.Reveal())
			assert.Equal(t, "arista-eos", inv.Hosts["rtr1"].Platform, "ansible_network_os beats fwpush_platform set on all")
			assert.Equal(t, []netip.Addr{netip.MustParseAddr("198.18.5.1"), netip.MustParseAddr("2001:db8:5::1")}, inv.Hosts["bastion"].Addresses)
			assert.Empty(t, inv.Hosts["bastion"].Roles)
			assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("198.18.0.0/24")}, inv.Management)
			assert.Equal(t, "testdata/ansible/ini/hosts.ini", inv.Hosts["web04"].File)
			assert.Equal(t, 9, inv.Hosts["web04"].Line)
		}},
		"yaml": {"testdata/ansible/yaml/inventory.yml", func(t *testing.T, inv *Inventory) {
			r := inv.Hosts["r-1"]
			assert.Equal(t, "cisco-ios", r.Platform, "a group's ansible_network_os beats all's fwpush_platform")
			require.Len(t, r.ACLs, 1)
			assert.Equal(t, []string{"web"}, r.ACLs[0].Protects)
			assert.Equal(t, 2222, inv.Hosts["web-3"].Port)
			assert.Equal(t, []string{"web", "app"}, inv.Hosts["web-1"].Roles)
			assert.Equal(t, Secret("${FWPUSH_TEST_APP_PW}"), inv.Hosts["app-1"].Password)
			assert.Equal(t, "deploy", inv.Hosts["app-1"].Username)
			assert.Empty(t, inv.Hosts["spare"].Roles)
			assert.Empty(t, inv.Management, "no networks.yaml: nothing may be pushed")
			assert.Error(t, inv.CheckPushable())
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := Load(tc.path, WithPlatforms(testPlatforms{}))
			require.NoError(t, err)
			tc.check(t, inv)
			compareWithAnsible(t, inv, ansibleInventoryList(t, tc.path))
		})
	}
}

// TestExportedExamplesAsAnsible: each example inventory written as an
// Ansible INI inventory with its variables reads back with the same hosts,
// groups, roles and data, in fwpush and in ansible-inventory.
func TestExportedExamplesAsAnsible(t *testing.T) {
	needTool(t, "ansible-inventory", "ansible")
	for _, ex := range examples {
		t.Run(ex, func(t *testing.T) {
			t.Parallel()
			orig, err := Load(filepath.Join("examples", ex), WithPlatforms(testPlatforms{}))
			require.NoError(t, err)
			dir := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "host_vars"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "hosts.ini"), []byte(exportINI(orig)), 0o644))
			for _, h := range orig.Select(nil) {
				vars := map[string]any{"fwpush_platform": h.Platform, "ansible_port": h.Port}
				for k, v := range h.Data {
					vars[k] = revealed(v)
				}
				if h.Username != "" {
					vars["ansible_user"] = h.Username
				}
				b, err := json.Marshal(vars)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, "host_vars", h.Name+".json"), b, 0o644))
			}
			inv, err := Load(filepath.Join(dir, "hosts.ini"), WithPlatforms(testPlatforms{}))
			require.NoError(t, err)
			compareWithAnsible(t, inv, ansibleInventoryList(t, filepath.Join(dir, "hosts.ini")))
			for _, n := range orig.Names() {
				a, b := orig.Hosts[n], inv.Hosts[n]
				assert.Equal(t, fmt.Sprint(a.Roles), fmt.Sprint(b.Roles), n)
				assert.Equal(t, a.Addresses, b.Addresses, n)
				assert.Equal(t, []any{a.Hostname, a.Port, a.Platform, a.Username}, []any{b.Hostname, b.Port, b.Platform, b.Username}, n)
			}
		})
	}
}

// TestAnsibleErrors: bad Ansible input is reported at its file and line,
// every problem at once, naming the Ansible variable.
func TestAnsibleErrors(t *testing.T) {
	cases := map[string]struct {
		files map[string]string
		want  []string
	}{
		"ini": {
			files: map[string]string{"hosts.ini": "a ansible_host=198.18.0.1 fwpush_platform=linux\n[web]\nb ansible_port=99999 fwpush_platform=vax\nc ansible_host='{{ x }}' fwpush_platform=linux novalue\n[web:vars\n[ghost:vars]\nx=1\n[web:children]\nnowhere\n"},
			want: []string{
				"hosts.ini:3:3: b.ansible_port: ansible_port \"99999\": want a port number 1-65535",
				"hosts.ini:3:22: b.fwpush_platform: unknown platform \"vax\"",
				"hosts.ini:4:48: want key=value after the host, not \"novalue\"",
				"hosts.ini:5:1: host range \"[web:vars\": '[' without ']'",
				"hosts.ini:6:1: ghost: section [ghost:vars] is for a group that is never defined",
				"hosts.ini:9:1: nowhere: section [web:children] names group \"nowhere\", which is never defined",
			},
		},
		"yaml": {
			files: map[string]string{"inv.yml": "all:\n  hosts:\n    a:\n      ansible_host: '{{ lookup(\"dig\", \"a\") }}'\n      fwpush_platform: linux\n  children:\n    web:\n      host:\n        b:\n"},
			want: []string{
				"inv.yml:4:21: a.ansible_host: ansible_host is a Jinja2 template, which fwpush does not evaluate",
				"inv.yml:8:7: all.children.web.host: group \"web\": unexpected key \"host\"",
			},
		},
		"no platform": {
			files: map[string]string{"hosts.ini": "[web]\nw1 ansible_host=198.18.0.1\n"},
			want:  []string{"hosts.ini:2:1: w1: host \"w1\" has no platform (set fwpush_platform or ansible_network_os"},
		},
		"groups naming two platforms": {
			files: map[string]string{"hosts.ini": "[linux]\nw1 ansible_host=198.18.0.1\n[ceos]\nw1\n"},
			want:  []string{"w1: host \"w1\" is in groups naming different platforms (ceos, linux)"},
		},
		"vault": {
			files: map[string]string{"hosts.ini": "w1 ansible_host=198.18.0.1 fwpush_platform=linux\n", "group_vars/all.yml": "$ANSIBLE_VAULT;1.1;AES256\n6162\n"},
			want:  []string{"group_vars/all.yml:1:1: an Ansible Vault file"},
		},
		"plugin config": {
			files: map[string]string{"aws_ec2.yml": "plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n"},
			want:  []string{"aws_ec2.yml:1:9: plugin: an Ansible inventory plugin's configuration", "ansible-inventory -i"},
		},
		"shared address": {
			files: map[string]string{"hosts.ini": "[all:vars]\nfwpush_platform=linux\n[web]\nw1 ansible_host=198.18.0.1\nw2 addresses=\"['198.18.0.1']\"\n"},
			want:  []string{"hosts.ini:5:4: w2.addresses[0]: address 198.18.0.1 is also host \"w1\"'s"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var path string
			for f, text := range tc.files {
				p := filepath.Join(dir, f)
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
				if !strings.Contains(f, "/") {
					path = p
				}
			}
			_, err := Load(path, WithPlatforms(testPlatforms{}))
			require.Error(t, err)
			msg := strings.ReplaceAll(err.Error(), dir+"/", "")
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
		})
	}
}

// FuzzAnsibleINI: any INI text reads into an inventory or errors; it never
// panics, and what it reads converts to fwpush's hosts.
func FuzzAnsibleINI(f *testing.F) {
	f.Add("web[01:03] ansible_port=22\n[db]\ndb-[a:c]:2222 x=\"['a', 1]\"\n[all:children]\ndb\n[db:vars]\ny={'k': (1,)}\n")
	f.Add("[a:children]\nb\n[b:children]\na\n[c:vars]\n")
	f.Add("h a='unclosed\n[x\n[y:z]\nweb[1:99999999]\n")
	f.Fuzz(func(t *testing.T, text string) {
		a := newAnsInv("hosts.ini")
		a.parseINI("hosts.ini", []byte(text))
		a.reconcile()
		o := options{platforms: testPlatforms{}}
		for _, n := range a.horder {
			a.rawHost(a.hosts[n], &o)
		}
	})
}

// FuzzParseLimit: any --limit expression selects hosts or errors.
func FuzzParseLimit(f *testing.F) {
	inv, err := Load("examples/webapp", WithPlatforms(testPlatforms{}))
	require.NoError(f, err)
	for _, s := range []string{"web,!web-2", "web:&webapp:!db-1", "~(web|db)-[12]", "[!a]*", "(web or db) and not platform:linux", "data.site=lab", "web[0]", "@x", "!", "2001:db8::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		keep, err := inv.ParseLimit(expr)
		if err == nil && len(inv.Select(keep)) == 0 {
			t.Fatalf("%q: no error, and no host", expr)
		}
	})
}

// FuzzINIValue: any value reads as a Python literal or as itself.
func FuzzINIValue(f *testing.F) {
	for _, s := range []string{"['a', [1, {'b': None}]]", "0x_1f", `'\x41\u00e9'`, "((((", "{1: 2, 3}", "1e999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { iniValue(s) })
}
