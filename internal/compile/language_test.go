package compile

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

const langHosts = "web-1: {hostname: 198.18.1.1, platform: linux, groups: [web]}\n" +
	"web-2: {hostname: 198.18.1.2, platform: linux, groups: [web]}\n" +
	"app-1: {hostname: 198.18.2.1, platform: linux, groups: [app], data: {addresses: [198.18.2.1, '2001:db8:2::1']}}\n" +
	"dns-1: {hostname: 198.18.3.53, platform: linux, groups: [infra]}\n"

const langGroups = "web: {}\napp: {}\ninfra: {}\n"

// TestFlowEndpoints: host:NAME, a prefix and management select what they
// say, on both sides of a flow.
func TestFlowEndpoints(t *testing.T) {
	pb, inv := fixture(t, langHosts, langGroups, "name: p\nroles: {web: {}, app: {}, infra: {}}\nflows:\n"+
		"  - {from: host:web-1, to: app, ports: [tcp/8080], why: only web-1}\n"+
		"  - {from: 198.18.9.0/24, to: 198.18.2.0/24, ports: [tcp/9090], why: a prefix selects the hosts inside it}\n"+
		"  - {from: management, to: host:dns-1, ports: [udp/53], why: the admins resolve names}\n")
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	app, dns := out["app-1"], out["dns-1"]
	pkt := func(src, dst string, proto policy.Proto, port uint16) intent.Packet {
		return intent.Packet{Src: mustAddr(src), Dst: mustAddr(dst), Proto: proto, Port: port}
	}
	tests := map[string]struct {
		in     *intent.Intent
		pkt    intent.Packet
		permit bool
	}{
		"host:web-1 reaches app":              {app, pkt("198.18.1.1", "198.18.2.1", policy.TCP, 8080), true},
		"web-2 is not host:web-1":             {app, pkt("198.18.1.2", "198.18.2.1", policy.TCP, 8080), false},
		"a prefix source":                     {app, pkt("198.18.9.7", "198.18.2.1", policy.TCP, 9090), true},
		"a prefix selects no host outside it": {out["web-1"], pkt("198.18.9.7", "198.18.1.1", policy.TCP, 9090), false},
		"a v4 prefix never opens the v6 side": {app, intent.Packet{Src: mustAddr("2001:db8:9::7"), Dst: mustAddr("2001:db8:2::1"), Proto: policy.TCP, Port: 9090}, false},
		"management reaches dns-1":            {dns, pkt("198.18.0.7", "198.18.3.53", policy.UDP, 53), true},
		"others do not":                       {dns, pkt("198.18.1.1", "198.18.3.53", policy.UDP, 53), false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tt.permit, tt.in.Eval(tt.in.Filter("input"), tt.pkt).Permit)
		})
	}
}

// TestRejectAndFlowIDs: action reject reaches the rule; a flow over tcp
// and udp is one flow id on both rules.
func TestRejectAndFlowIDs(t *testing.T) {
	pb, inv := fixture(t, langHosts, langGroups, "name: p\nroles: {web: {}, app: {}, infra: {}}\nflows:\n"+
		"  - {from: web, to: app, ports: [tcp/53, udp/53], why: both protocols}\n"+
		"  - {from: any, to: app, ports: [tcp/23], action: reject, why: telnet is answered}\n")
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	var got []string
	for _, r := range out["app-1"].Filter("input").Rules {
		if r.Kind == intent.FlowRule {
			got = append(got, r.ID+" "+describe(r)+" reject="+map[bool]string{true: "yes", false: "no"}[r.Reject])
		}
	}
	assert.Equal(t, []string{
		"flow-1 permit web tcp [53] [1] reject=no",
		"flow-1 permit web udp [53] [1] reject=no",
		"flow-2 deny any tcp [23] [2] reject=yes",
	}, got)
}

// TestEgressPerRole: options.egress lists the roles whose hosts filter
// their output; options.dns opens their resolvers; hosts left without DNS
// or NTP are named in a warning.
func TestEgressPerRole(t *testing.T) {
	pb, inv := fixture(t, langHosts, langGroups, "name: p\noptions: {egress: [app, web], dns: ['host:dns-1']}\nroles: {web: {}, app: {}, infra: {}, unused: {}}\nflows:\n"+
		"  - {from: web, to: app, ports: [tcp/8080], why: proxy}\n")
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	assert.Nil(t, out["dns-1"].Filter("output"), "infra does not filter its output")
	app := out["app-1"]
	require.NotNil(t, app.Filter("output"))
	web := out["web-1"]
	v := web.Eval(web.Filter("output"), intent.Packet{Src: mustAddr("198.18.1.1"), Dst: mustAddr("198.18.3.53"), Proto: policy.UDP, Port: 53})
	assert.True(t, v.Permit, "options.dns lets web-1 resolve names")
	require.NotNil(t, v.Rule)
	assert.Equal(t, intent.Essential, v.Rule.Kind)
	assert.True(t, web.Eval(web.Filter("output"), intent.Packet{Src: mustAddr("198.18.1.1"), Dst: mustAddr("198.18.2.1"), Proto: policy.TCP, Port: 8080}).Permit,
		"the flow opens web's output")
	assert.False(t, web.Eval(web.Filter("output"), intent.Packet{Src: mustAddr("198.18.1.1"), Dst: mustAddr("198.18.2.1"), Proto: policy.TCP, Port: 8081}).Permit)

	warnings := strings.Join(Warnings(pb, inv, out), "\n")
	assert.Contains(t, warnings, `p.yml:3:38: roles.unused: role "unused" has no host and no network in inventory inv`)
	assert.Contains(t, warnings, "hosts app-1, web-1, web-2 filter their output (options.egress) and no rule lets them out for time synchronisation (udp/123)")
	assert.NotContains(t, warnings, "name resolution", "options.dns covers DNS")
	require.NoError(t, Validate(pb, inv), "an empty role is a warning, not an error")
}

// TestRejectWherePlatformCannotAnswer: a reject flow crossing a router
// whose ACLs cannot answer a denied packet is a deny there (the Intent
// says so), with a warning naming the router; the host firewall behind it
// still rejects.
func TestRejectWherePlatformCannotAnswer(t *testing.T) {
	pb, inv := fixture(t,
		"a-1: {hostname: 198.18.1.1, platform: linux, groups: [a]}\nb-1: {hostname: 198.18.1.2, platform: iptables, groups: [b]}\n"+
			"rtr: {hostname: 198.18.1.254, platform: eos, groups: [routers], data: {acls: [{interface: ge0, direction: out, protects: [b]}]}}\n",
		"a: {}\nb: {}\nrouters: {}\n",
		"name: p\nroles: {a: {}, b: {}}\nflows:\n"+
			"  - {from: a, to: b, ports: [tcp/23], action: reject, why: telnet is answered}\n")
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	telnet := intent.Packet{Src: mustAddr("198.18.1.1"), Dst: mustAddr("198.18.1.2"), Proto: policy.TCP, Port: 23}
	b := out["b-1"]
	v := b.Eval(b.Filter("input"), telnet)
	require.NotNil(t, v.Rule)
	assert.True(t, v.Rule.Deny && v.Rule.Reject, "the host firewall answers")
	rtr := out["rtr"]
	v = rtr.Eval(rtr.Filters[0], telnet)
	require.NotNil(t, v.Rule)
	assert.Equal(t, []int{1}, v.Rule.Flows)
	assert.True(t, v.Rule.Deny, "the router still denies")
	assert.False(t, v.Rule.Reject, "the router cannot answer: the Intent says it drops")
	assert.Equal(t, []string{"p.yml:4:47: flows[0].action: flow 1 rejects, but rtr (arista-eos) cannot answer a denied packet: there it is dropped silently, as action: deny would"},
		Warnings(pb, inv, out))
}
