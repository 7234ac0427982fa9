package compile

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// A router with four ACLs around a small system: ge0 in protects the
// operators' network (where management sessions may come from), ge1 out
// protects the servers, ge2 in protects the clients, ge3 out protects a
// network in which an app host lives (protected by address, not by role).
const (
	aclHosts = `rtr: {hostname: 198.18.0.254, platform: eos, groups: [routers], data: {acls: [
    {interface: ge0, direction: in, protects: [ops]},
    {interface: ge1, direction: out, protects: [srv]},
    {interface: ge2, direction: in, protects: [cli]},
    {interface: ge3, direction: out, protects: [lan]}]}}
srv-1: {hostname: 198.18.1.10, platform: linux, groups: [srv], data: {addresses: [198.18.1.10, "2001:db8:1::10"]}}
srv-2: {hostname: 198.18.1.11, platform: linux, groups: [srv]}
cli-1: {hostname: 198.18.2.10, platform: linux, groups: [cli]}
app-1: {hostname: 198.18.3.5, platform: linux, groups: [app]}
`
	aclGroups   = "srv: {}\ncli: {}\napp: {}\nrouters: {}\n"
	aclNetworks = `management: [198.18.0.0/24, "2001:db8::/64"]
networks:
  ext: {prefixes: [198.19.0.0/24, "2001:db8:ff::/64"]}
  lan: {prefixes: [198.18.3.0/24]}
  ops: {prefixes: [198.18.0.0/24, 198.18.5.0/24]}
`
	aclPlaybook = `name: p
roles: {srv: {}, cli: {}, app: {}}
flows:
  - {from: cli, to: srv, ports: [tcp/443], why: clients use the service}
  - {from: srv, to: ext, ports: [udp/123], why: servers keep time}
  - {from: srv, to: ext, ports: [icmp/echo-request], why: servers ping out}
  - {from: srv, to: srv, ports: [tcp/5432], why: servers replicate}
  - {from: any, to: app, ports: [tcp/80], why: the app is public}
  - {from: ext, to: cli, ports: [udp/5060], why: calls reach clients}
  - {from: srv, to: ext, ports: [gre], why: tunnels}
`
)

func aclFixture(t *testing.T, playbook string) (*policy.Playbook, *inventory.Inventory) {
	t.Helper()
	inv, err := inventory.LoadFS(fstest.MapFS{
		"hosts.yaml":    {Data: []byte(aclHosts)},
		"groups.yaml":   {Data: []byte(aclGroups)},
		"networks.yaml": {Data: []byte(aclNetworks)},
	}, "inv", inventory.WithPlatforms(platforms{}))
	require.NoError(t, err)
	pb, err := policy.Parse("p.yml", []byte(playbook))
	require.NoError(t, err)
	return pb, inv
}

func compileACLs(t *testing.T) map[string]*intent.Intent {
	t.Helper()
	pb, inv := aclFixture(t, aclPlaybook)
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	return out
}

// TestACLPlacement follows packets through the router's ACLs: each ACL
// on a packet's way (and only those) permits exactly the flows, the
// replies a stateless filter must let back, and denies the rest of what
// it protects; what it does not protect passes.
func TestACLPlacement(t *testing.T) {
	rtr := compileACLs(t)["rtr"]
	acl := map[string]*intent.Filter{}
	for _, f := range rtr.Filters {
		acl[f.Binding.Interface] = f
	}
	a := mustAddr
	tcp := func(s, d string, port uint16) intent.Packet {
		return intent.Packet{Src: a(s), Dst: a(d), Proto: policy.TCP, Port: port, SrcPort: 49152}
	}
	udp := func(s, d string, sport, dport uint16) intent.Packet {
		return intent.Packet{Src: a(s), Dst: a(d), Proto: policy.UDP, Port: dport, SrcPort: sport}
	}
	reply := func(p intent.Packet) intent.Packet { p.Reply = true; return p }
	cases := map[string]struct {
		acl    string
		pkt    intent.Packet
		onPath bool
		permit bool
		kind   intent.RuleKind
	}{
		"flow to the protected servers":          {"ge1", tcp("198.18.2.10", "198.18.1.10", 443), true, true, intent.FlowRule},
		"IPv6 too":                               {"ge1", tcp("2001:db8:ff::9", "2001:db8:1::10", 22), true, false, intent.Protect},
		"unlisted port to the servers":           {"ge1", tcp("198.18.2.10", "198.18.1.10", 8443), true, false, intent.Protect},
		"unlisted source to the servers":         {"ge1", tcp("198.19.0.9", "198.18.1.10", 443), true, false, intent.Protect},
		"TCP reply to the servers":               {"ge1", reply(tcp("198.19.0.9", "198.18.1.10", 49152)), true, true, intent.Established},
		"UDP reply from the time servers":        {"ge1", udp("198.19.0.9", "198.18.1.11", 123, 40000), true, true, intent.Return},
		"UDP from another port is no reply":      {"ge1", udp("198.19.0.9", "198.18.1.11", 124, 40000), true, false, intent.Protect},
		"echo-reply to the servers":              {"ge1", intent.Packet{Src: a("198.19.0.9"), Dst: a("198.18.1.10"), Proto: policy.ICMP, ICMPType: 0}, true, true, intent.ICMPBase},
		"GRE back to the servers":                {"ge1", intent.Packet{Src: a("198.19.0.9"), Dst: a("198.18.1.10"), Proto: policy.GRE}, true, true, intent.Return},
		"management to the servers":              {"ge1", tcp("198.18.0.7", "198.18.1.11", 22), true, true, intent.Management},
		"between servers: not on the way":        {"ge1", tcp("198.18.1.10", "198.18.1.11", 5432), false, false, intent.Protect},
		"from the servers: not on the way":       {"ge1", udp("198.18.1.10", "198.19.0.9", 40000, 123), false, true, intent.Pass},
		"clients' requests leave through ge2":    {"ge2", tcp("198.18.2.10", "198.18.1.10", 443), true, true, intent.FlowRule},
		"clients' other traffic is dropped":      {"ge2", tcp("198.18.2.10", "198.19.0.9", 443), true, false, intent.Protect},
		"clients' UDP replies to calls":          {"ge2", udp("198.18.2.10", "198.19.0.9", 5060, 40000), true, true, intent.Return},
		"clients' TCP replies":                   {"ge2", reply(tcp("198.18.2.10", "198.19.0.9", 49152)), true, true, intent.Established},
		"to the clients: not ge2's business":     {"ge2", udp("198.19.0.9", "198.18.2.10", 40000, 5060), false, true, intent.Pass},
		"the app host, protected by its network": {"ge3", tcp("198.19.0.9", "198.18.3.5", 80), true, true, intent.FlowRule},
		"the rest of its network":                {"ge3", tcp("198.19.0.9", "198.18.3.6", 80), true, false, intent.Protect},
		"management to the router from ops":      {"ge0", tcp("198.18.0.7", "198.18.0.254", 22), true, true, intent.Management},
		"management beyond from ops":             {"ge0", tcp("198.18.0.7", "198.18.1.10", 22), true, true, intent.Management},
		"ops outside management":                 {"ge0", tcp("198.18.5.7", "198.18.0.254", 22), true, false, intent.Protect},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := acl[tc.acl]
			require.NotNil(t, f)
			assert.Equal(t, tc.onPath, rtr.OnPath(f, tc.pkt.Src, tc.pkt.Dst), "on the way")
			v := rtr.Eval(f, tc.pkt)
			assert.Equal(t, tc.permit, v.Permit, "verdict")
			require.NotNil(t, v.Rule, "an ACL always ends in explicit rules")
			assert.Equal(t, tc.kind, v.Rule.Kind, "decided by rule %s", v.Rule.ID)
		})
	}
}

// TestACLFlowToTheRouterItself: a flow from the protected addresses of an
// in ACL to the router, whose own address lies among them, crosses the
// ACL (the router filters what arrives for itself) and gets its rule,
// though both ends are behind the interface: by role, and by a network
// that holds the router's address. (A flow whose ends are both behind an
// interface and exclude the router gets none: TestACLRules, tcp/5432.)
func TestACLFlowToTheRouterItself(t *testing.T) {
	pb, inv := aclFixture(t, strings.Replace(aclPlaybook, "app: {}}", "app: {}, routers: {}}", 1)+`  - {from: ops, to: routers, ports: [tcp/830], why: operators configure the router}
  - {from: ops, to: ops, ports: [tcp/9000], why: operators reach their network and the router}
`)
	out, err := Compile(pb, inv, nil, platforms{})
	require.NoError(t, err)
	rtr := out["rtr"]
	var ge0 *intent.Filter
	for _, f := range rtr.Filters {
		if f.Binding.Interface == "ge0" {
			ge0 = f
		}
	}
	require.NotNil(t, ge0)
	for _, port := range []uint16{830, 9000} {
		pkt := intent.Packet{Src: mustAddr("198.18.5.7"), Dst: mustAddr("198.18.0.254"), Proto: policy.TCP, Port: port, SrcPort: 49152}
		require.True(t, rtr.OnPath(ge0, pkt.Src, pkt.Dst))
		v := rtr.Eval(ge0, pkt)
		require.NotNil(t, v.Rule)
		assert.True(t, v.Permit, "tcp/%d decided by %s", port, v.Rule.ID)
		assert.Equal(t, intent.FlowRule, v.Rule.Kind, "tcp/%d", port)
	}
}

// TestACLRules pins the rules of the servers' ACL: return rules and the
// closing pair, and no rule for the flow that never crosses it.
func TestACLRules(t *testing.T) {
	rtr := compileACLs(t)["rtr"]
	var ge1 *intent.Filter
	for _, f := range rtr.Filters {
		if f.Binding.Interface == "ge1" {
			ge1 = f
		}
	}
	require.NotNil(t, ge1)
	var got []string
	for _, r := range ge1.Rules {
		got = append(got, describeACLRule(r))
	}
	assert.Equal(t, []string{
		"established permit -> srv tcp",
		"icmp permit -> icmp [0 3 8 11]",
		"icmpv6 permit -> icmpv6 [1 2 3 4 128 129 133 134 135 136]",
		"management-22 permit _mgmt -> _fwpush-ge1-out-mgmt-22 tcp [22]",
		"flow-1 permit cli -> srv tcp [443]",
		"return-2 permit ext -> srv udp sport [123]",
		"return-3 permit ext -> srv icmp [0]",
		"return-7 permit ext -> srv gre",
		"protect deny -> srv any",
		"pass permit -> any",
	}, got)
}

func describeACLRule(r *intent.Rule) string {
	action := "permit"
	if r.Deny {
		action = "deny"
	}
	parts := []string{r.ID, action, r.Src, "->", r.Dst}
	if r.AnyProto {
		parts = append(parts, "any")
	} else {
		parts = append(parts, r.Proto.String())
	}
	if len(r.Ports) > 0 {
		parts = append(parts, fmt.Sprint(r.Ports))
	}
	if len(r.SrcPorts) > 0 {
		parts = append(parts, "sport", fmt.Sprint(r.SrcPorts))
	}
	if len(r.ICMP) > 0 {
		parts = append(parts, fmt.Sprint(r.ICMP))
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

// TestCheckOriginFollowsThePath: the lock-out guard asks only the ACLs on
// the way of the controller's sessions.
func TestCheckOriginFollowsThePath(t *testing.T) {
	rtr := compileACLs(t)["rtr"]
	require.NoError(t, CheckManagement(rtr, []netipPrefix{mustPrefix("198.18.0.0/24"), mustPrefix("2001:db8::/64")}))
	cases := map[string]struct {
		origin string
		want   string // "" for admitted
	}{
		"inside the management networks":          {"198.18.0.200", ""},
		"outside, reaching protected servers":     {"198.19.0.9", "rule protect of filter FWPUSH-GE1-OUT would cut its tcp/22 connection to 198.18.1.10"},
		"behind the operators' interface, not in": {"198.18.5.7", "filter FWPUSH-GE0-IN"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckOrigin(rtr, mustAddr(tc.origin))
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// Without the out ACLs in front of managed hosts, an outside
	// controller crosses no ACL of this router on its way to any managed
	// host or to the router itself.
	var kept []*intent.Filter
	for _, f := range rtr.Filters {
		if f.Binding.Direction == "in" {
			kept = append(kept, f)
		}
	}
	all := rtr.Filters
	rtr.Filters = kept
	assert.NoError(t, CheckOrigin(rtr, mustAddr("198.19.0.9")))
	// An in ACL with no management rule still stands between a
	// controller behind it (on cli-1) and the router itself.
	err := CheckOrigin(rtr, mustAddr("198.18.2.10"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rule protect of filter FWPUSH-GE2-IN would cut its tcp/22 connection to 198.18.0.254")

	// A controller behind the servers' out ACL (on srv-1 itself) reaches
	// the other servers without crossing it: the ACL is not asked.
	rtr.Filters = nil
	for _, f := range all {
		if f.Binding.Interface == "ge1" {
			rtr.Filters = append(rtr.Filters, f)
		}
	}
	assert.NoError(t, CheckOrigin(rtr, mustAddr("198.18.1.10")))
	assert.Error(t, CheckOrigin(rtr, mustAddr("198.19.0.9")), "from outside, it is")
}

// TestCheckPathsFindsDisagreement: a router ACL that drops what a host
// permits, or its replies, fails compilation, naming the flow.
func TestCheckPathsFindsDisagreement(t *testing.T) {
	for name, drop := range map[string]struct {
		iface string
		kind  intent.RuleKind
		want  string
	}{
		"request": {"ge1", intent.FlowRule, "p.yml:4:6: flows[0]: tcp/443 198.18.2.10 → 198.18.1.10: host srv-1 permits it, but rtr's ACL FWPUSH-GE1-OUT drops it on the way (rule protect)"},
		"reply":   {"ge2", intent.Return, "udp/5060 198.19.0.1 → 198.18.2.10: host cli-1 permits it, but rtr's ACL FWPUSH-GE2-IN drops its replies (rule protect)"},
	} {
		t.Run(name, func(t *testing.T) {
			pb, inv := aclFixture(t, aclPlaybook)
			c, err := build(pb, inv, nil, platforms{})
			require.NoError(t, err)
			require.Empty(t, c.checkPaths(), "compiled policies agree")
			for _, a := range c.acls {
				if a.f.Binding.Interface != drop.iface {
					continue
				}
				var kept []*intent.Rule
				for _, r := range a.f.Rules {
					if r.Kind != drop.kind {
						kept = append(kept, r)
					}
				}
				a.f.Rules = kept
			}
			errs := c.checkPaths()
			require.NotEmpty(t, errs)
			assert.Contains(t, errs[0].Error(), drop.want)
		})
	}
}
