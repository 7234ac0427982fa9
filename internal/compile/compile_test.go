package compile

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files")

func load(t testing.TB, pbPath, invDir string) (*policy.Playbook, *inventory.Inventory) {
	t.Helper()
	pb, err := policy.Load(pbPath)
	require.NoError(t, err)
	inv, err := inventory.Load(invDir, inventory.WithPlatforms(platforms{}))
	require.NoError(t, err)
	return pb, inv
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

// TestGoldenIntents pins the compiled Intent of a router with an interface
// ACL, a host firewall with egress, and an iptables host.
func TestGoldenIntents(t *testing.T) {
	pb, inv := load(t, "../../playbooks/examples/webapp.yml", "testdata/router")
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	for _, host := range []string{"edge-rtr-1", "web-1", "db-1"} {
		b, err := json.MarshalIndent(out[host], "", "  ")
		require.NoError(t, err)
		golden(t, "intent-"+host+".json", append(b, '\n'))
	}
}

func TestRouterACL(t *testing.T) {
	pb, inv := load(t, "../../playbooks/examples/webapp.yml", "testdata/router")
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	rtr := out["edge-rtr-1"]
	require.Len(t, rtr.Filters, 1)
	f := rtr.Filters[0]
	assert.Equal(t, intent.Binding{Kind: intent.Interface, Interface: "GigabitEthernet0/1", Direction: "out", Protects: []string{"web", "app"}, Protected: "app_web"}, f.Binding)
	web1 := inv.Hosts["web-1"].Addresses[0]
	db1 := inv.Hosts["db-1"].Addresses[0]
	world := mustAddr("203.0.113.9")
	// Users reach web through the ACL; the ACL does not carry db traffic.
	assert.True(t, rtr.Eval(f, intent.Packet{Src: world, Dst: web1, Proto: policy.TCP, Port: 443}).Permit)
	assert.False(t, rtr.Eval(f, intent.Packet{Src: world, Dst: web1, Proto: policy.TCP, Port: 22}).Permit)
	assert.True(t, rtr.Eval(f, intent.Packet{Src: mustAddr("198.18.0.7"), Dst: web1, Proto: policy.TCP, Port: 22}).Permit,
		"management reaches protected hosts through the ACL")
	for _, r := range f.Rules {
		if r.Dst != "" {
			assert.False(t, rtr.Set(r.Dst).Contains(db1), "rule %s targets db, which this ACL does not protect", r.ID)
		}
	}
}

func TestMergeAndOrder(t *testing.T) {
	src := `name: m
roles: {a: {}, b: {}}
flows:
  - {from: a, to: b, ports: [tcp/80], why: one}
  - {from: a, to: b, ports: ["tcp/81,443", udp/53], why: two}
  - {from: any, to: b, ports: [tcp/8080], action: deny, why: block}
  - {from: a, to: b, ports: [tcp/8080, tcp/82], why: after-deny}
  - {from: a, to: b, ports: [tcp/80], why: duplicate}
`
	pb, err := policy.Parse("m.yml", []byte(src))
	require.NoError(t, err)
	inv := &inventory.Inventory{Dir: "x", Hosts: map[string]*inventory.Host{
		"a1": {Name: "a1", Platform: "linux-nftables", Port: 22, Roles: []string{"a"}, Addresses: []netipAddr{mustAddr("198.18.1.1")}},
		"b1": {Name: "b1", Platform: "linux-nftables", Port: 22, Roles: []string{"b"}, Addresses: []netipAddr{mustAddr("198.18.1.2")}},
	}, Groups: map[string]*inventory.Group{"a": {}, "b": {}}, Management: []netipPrefix{mustPrefix("198.18.0.0/24")}}
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	var got []string
	for _, r := range out["b1"].Filter("input").Rules {
		if r.Kind == intent.FlowRule {
			got = append(got, r.ID+" "+describe(r))
		}
	}
	// Rules are named after the flows they serve, numbered from 1 as the
	// file reads: flow 2's udp rule is flow-2 like its tcp part.
	assert.Equal(t, []string{
		"flow-1+2 permit a tcp [80-81 443] [1 2]",
		"flow-2 permit a udp [53] [2]",
		"flow-3 deny any tcp [8080] [3]",
		"flow-4+5 permit a tcp [80 82 8080] [4 5]",
	}, got, "ports merge per source and protocol, but never across a deny")
	assert.Nil(t, out["a1"].Filter("output"), "no output chain without egress")
}

func TestValidateAgainstInventory(t *testing.T) {
	_, inv := load(t, "../../playbooks/examples/webapp.yml", "../../inventory/examples/webapp")
	cases := map[string]struct {
		flow string
		want []string
	}{
		"unknown role":                    {"{from: wbe, to: web, ports: [tcp/1], why: x}", []string{"p.yml:6", "flows[0].from[0]", `unknown role "wbe"`}},
		"selects no host is no error":     {"{from: any, to: empty, ports: [tcp/1], why: x}", nil},
		"unknown host":                    {"{from: host:nosuch, to: web, ports: [tcp/1], why: x}", []string{"p.yml:6", "flows[0].from[0]", `unknown host "nosuch"`}},
		"deny cuts management":            {"{from: any, to: web, ports: [tcp/22], action: deny, why: x}", []string{"p.yml:6", "would cut management access"}},
		"deny all tcp cuts management":    {"{from: any, to: web, ports: [tcp/any], action: deny, why: x}", []string{"p.yml:6", "would cut management access"}},
		"deny outside management is fine": {"{from: monitoring, to: web, ports: [tcp/22], action: deny, why: x}", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			src := "name: p\nroles: {web: {}, empty: {}}\noptions: {}\n\nflows:\n  - " + tc.flow + "\n"
			pb, err := policy.Parse("p.yml", []byte(src))
			require.NoError(t, err)
			err = Validate(pb, inv)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestCheckManagementNamesBlocker(t *testing.T) {
	in := &intent.Intent{Host: "h", Addresses: []netipAddr{mustAddr("198.18.1.1")}, MgmtPort: 22,
		Sets: []*intent.AddrSet{{Name: "all", Prefixes: []netipPrefix{mustPrefix("0.0.0.0/0")}}},
		Filters: []*intent.Filter{{Name: "input", Binding: intent.Binding{Kind: intent.Input}, Rules: []*intent.Rule{
			{ID: "flow-1", Kind: intent.FlowRule, Deny: true, Src: "all", Proto: policy.TCP},
		}}}}
	err := CheckManagement(in, []netipPrefix{mustPrefix("198.18.0.0/24")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rule flow-1 in filter input would block management access from 198.18.0.0/24 to 198.18.1.1 tcp/22")
	in.Filters[0].Rules = nil
	assert.ErrorContains(t, CheckManagement(in, []netipPrefix{mustPrefix("198.18.0.0/24")}), "the default deny")
}

// TestCapabilitiesRefuseWhatAPlatformCannotExpress: an Intent that needs
// what its platform lacks is refused before rendering, naming the host,
// the flow and the capability (never a rule silently dropped).
func TestCapabilitiesRefuseWhatAPlatformCannotExpress(t *testing.T) {
	pb, inv := load(t, "../../playbooks/examples/webapp.yml", "../../inventory/examples/webapp")
	cases := map[string]struct {
		caps drivers.Capabilities
		want []string
	}{
		"no IPv6": {drivers.Capabilities{HostFirewall: true, Egress: true, Logging: true, ICMPTypes: true},
			[]string{"platform linux-nftables cannot express this policy", "needs IPv6", `flow 1 ("Users reach the site")`}},
		"no egress": {drivers.Capabilities{HostFirewall: true, IPv6: true, Logging: true, ICMPTypes: true},
			[]string{"filter output needs egress filtering"}},
		"no ICMP types": {drivers.Capabilities{HostFirewall: true, Egress: true, IPv6: true, Logging: true},
			[]string{"always-on icmp rule needs ICMP type matching", `flow 5 ("Prometheus scrapes every host") needs ICMP type matching`}},
		"a router only": {drivers.Capabilities{NetworkACL: true, IPv6: true, Logging: true, ICMPTypes: true},
			[]string{"enforces with interface ACLs, and the host binds none (data.acls)"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Compile(pb, inv, nil, fixedCaps(tc.caps))
			require.Error(t, err)
			assert.ErrorIs(t, err, fault.ErrUnsupported)
			assert.Contains(t, err.Error(), "web-1: ", "the host is named")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	_, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err, "the real capabilities express it all")
}

// fixedCaps gives every platform the same capabilities.
type fixedCaps drivers.Capabilities

func (c fixedCaps) Capabilities(string) (drivers.Capabilities, error) {
	return drivers.Capabilities(c), nil
}
