package compile

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// fixture loads an inventory from text (hosts.yaml, groups.yaml; the
// management network is 198.18.0.0/24) and a playbook.
func fixture(t *testing.T, hosts, groups, playbook string) (*policy.Playbook, *inventory.Inventory) {
	t.Helper()
	inv, err := inventory.LoadFS(fstest.MapFS{
		"hosts.yaml":    {Data: []byte(hosts)},
		"groups.yaml":   {Data: []byte(groups)},
		"networks.yaml": {Data: []byte("management: [198.18.0.0/24]\n")},
	}, "inv", inventory.WithPlatforms(platforms{}))
	require.NoError(t, err)
	pb, err := policy.Parse("p.yml", []byte(playbook))
	require.NoError(t, err)
	return pb, inv
}

var (
	mgmtAddr = mustAddr("198.18.0.7")
	rolePeer = mustAddr("198.18.1.1")
)

// TestInternalNamesAreNotRoles: a role named like one of compile's own
// sets stays a role. Once, a role "fwpush-mgmt" silently became the
// management networks, and a role "self" a router's own address.
func TestInternalNamesAreNotRoles(t *testing.T) {
	for _, role := range []string{"fwpush-mgmt", "mgmt", "self"} {
		t.Run(role, func(t *testing.T) {
			pb, inv := fixture(t,
				"peer-1: {hostname: 198.18.1.1, platform: linux, groups: ["+role+"]}\nweb-1: {hostname: 198.18.1.2, platform: linux, groups: [web]}\n",
				role+": {}\nweb: {}\n",
				"name: p\nroles: {"+role+": {}, web: {}}\nflows:\n  - {from: "+role+", to: web, ports: [tcp/80], why: x}\n")
			out, err := Compile(pb, inv, nil, platforms{})
			require.NoError(t, err)
			in := out["web-1"]
			f := in.Filter("input")
			assert.True(t, in.Eval(f, intent.Packet{Src: rolePeer, Dst: mustAddr("198.18.1.2"), Proto: policy.TCP, Port: 80}).Permit,
				"the role's host reaches web")
			assert.False(t, in.Eval(f, intent.Packet{Src: mgmtAddr, Dst: mustAddr("198.18.1.2"), Proto: policy.TCP, Port: 80}).Permit,
				"the management networks are not the role")
			assert.True(t, in.Eval(f, intent.Packet{Src: mgmtAddr, Dst: mustAddr("198.18.1.2"), Proto: policy.TCP, Port: 22}).Permit,
				"management access stays")
		})
	}
}

// TestInternalNamesOnRouters: the same for a router's own sets, "self" and
// the sets of hosts its ACL protects ("<acl>-mgmt-<port>").
func TestInternalNamesOnRouters(t *testing.T) {
	for _, role := range []string{"self", "fwpush-ge0-out-mgmt-22"} {
		t.Run(role, func(t *testing.T) {
			pb, inv := fixture(t,
				"rtr: {hostname: 198.18.1.254, platform: eos, groups: [routers], data: {acls: [{interface: ge0, direction: out, protects: ["+role+", other]}]}}\n"+
					"peer-1: {hostname: 198.18.1.1, platform: linux, groups: ["+role+"]}\nother-1: {hostname: 198.18.1.3, platform: linux, groups: [other]}\n",
				role+": {}\nother: {}\nrouters: {}\n",
				"name: p\nroles: {"+role+": {}, other: {}}\nflows:\n  - {from: any, to: "+role+", ports: [tcp/80], why: x}\n")
			out, err := Compile(pb, inv, nil, platforms{})
			require.NoError(t, err)
			in := out["rtr"]
			require.Len(t, in.Filters, 1)
			f := in.Filters[0]
			world := mustAddr("203.0.113.9")
			assert.True(t, in.Eval(f, intent.Packet{Src: world, Dst: rolePeer, Proto: policy.TCP, Port: 80}).Permit,
				"the flow reaches the role's host through the ACL")
			other := in.Eval(f, intent.Packet{Src: world, Dst: mustAddr("198.18.1.3"), Proto: policy.TCP, Port: 80})
			assert.False(t, other.Permit, "and not 198.18.1.3, which is protected but not in the role")
			// The router's own address is not what the ACL protects: it
			// passes by the last rule, never by a flow's.
			self := in.Eval(f, intent.Packet{Src: world, Dst: mustAddr("198.18.1.254"), Proto: policy.TCP, Port: 80})
			require.NotNil(t, self.Rule)
			assert.Equal(t, intent.Pass, self.Rule.Kind, "198.18.1.254 is not in the role")
			assert.False(t, in.OnPath(f, world, mustAddr("198.18.1.254")), "nor on the ACL's way")
			assert.True(t, in.Eval(f, intent.Packet{Src: mgmtAddr, Dst: rolePeer, Proto: policy.TCP, Port: 22}).Permit)
		})
	}
}

// TestToAnyOpensEveryManagedHost: `to: any` is the world, and every
// managed host is in it: each one's input gets the rule (it used to get
// nothing), and with egress, `from: any` opens each one's output.
func TestToAnyOpensEveryManagedHost(t *testing.T) {
	pb, inv := fixture(t,
		"a-1: {hostname: 198.18.1.1, platform: linux, groups: [a]}\nb-1: {hostname: 198.18.1.2, platform: iptables, groups: [b]}\n"+
			"rtr: {hostname: 198.18.1.254, platform: eos, groups: [routers], data: {acls: [{interface: ge0, direction: out, protects: [b]}]}}\n",
		"a: {}\nb: {}\nrouters: {}\n",
		"name: p\noptions: {egress: true}\nroles: {a: {}, b: {}}\nflows:\n"+
			"  - {from: a, to: any, ports: [tcp/8080], why: a serves anyone}\n"+
			"  - {from: any, to: b, ports: [tcp/443], why: b is public}\n")
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	a1, b1 := mustAddr("198.18.1.1"), mustAddr("198.18.1.2")
	for _, host := range []string{"a-1", "b-1"} {
		in := out[host]
		dst := in.Addresses[0]
		assert.True(t, in.Eval(in.Filter("input"), intent.Packet{Src: a1, Dst: dst, Proto: policy.TCP, Port: 8080}).Permit, "%s input from a", host)
		assert.False(t, in.Eval(in.Filter("input"), intent.Packet{Src: b1, Dst: dst, Proto: policy.TCP, Port: 8080}).Permit, "%s input from b", host)
	}
	a := out["a-1"]
	assert.True(t, a.Eval(a.Filter("output"), intent.Packet{Src: a1, Dst: b1, Proto: policy.TCP, Port: 443}).Permit,
		"a-1 is part of any: its output reaches b")
	rtr := out["rtr"]
	assert.True(t, rtr.Eval(rtr.Filters[0], intent.Packet{Src: a1, Dst: b1, Proto: policy.TCP, Port: 8080}).Permit,
		"the ACL protecting b carries a's flow to any")
}

// TestHostWithoutAddress: a host fwpush cannot locate is an error naming
// its line, whether its hostname is a DNS name or its addresses key is
// misspelt (which also draws a did-you-mean warning: see inventory).
func TestHostWithoutAddress(t *testing.T) {
	cases := map[string]struct {
		hosts string
		want  []string
	}{
		"dns name": {
			hosts: "web-1: {hostname: 198.18.1.2, platform: linux, groups: [web]}\nweb-2:\n  hostname: web-2.example.com\n  platform: linux\n  groups: [web]\n",
			want:  []string{"inv/hosts.yaml:2:1: web-2: host has no address", `hostname "web-2.example.com" is not an IP address`},
		},
		"misspelt addresses": {
			hosts: "web-1: {hostname: 198.18.1.2, platform: linux, groups: [web]}\nweb-2:\n  hostname: web-2\n  platform: linux\n  groups: [web]\n  data:\n    adresses: [198.18.1.3]\n",
			want:  []string{"inv/hosts.yaml:2:1: web-2: host has no address"},
		},
		"in no flow": {
			hosts: "web-1: {hostname: 198.18.1.2, platform: linux, groups: [web]}\nspare: {platform: linux}\n",
			want:  []string{"inv/hosts.yaml:2:1: spare: host has no address"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pb, inv := fixture(t, tc.hosts, "web: {}\n", "name: p\nroles: {web: {}}\nflows:\n  - {from: any, to: web, ports: [tcp/80], why: x}\n")
			err := Validate(pb, inv)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
