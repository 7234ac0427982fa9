package driverstest

import (
	"net/netip"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// RouterEdgeIntent is a router's Intent with what the seed systems do not
// reach, for the router drivers' goldens: an in and an out ACL, logged
// rules and drops, SCTP and GRE, UDP and ICMP return rules, an IPv6-only
// ICMP rule, a set with one family only, a port range and a name longer
// than any device takes.
func RouterEdgeIntent() *intent.Intent {
	p := netip.MustParsePrefix
	long := "alpha-beta-gamma-delta-epsilon-zeta-eta-theta-iota-kappa-lambda-mu"
	return &intent.Intent{Host: "edge-rtr", Platform: "router", Playbook: "edge",
		Addresses: []netip.Addr{netip.MustParseAddr("198.18.99.1")}, MgmtPort: 830,
		Sets: []*intent.AddrSet{
			{Name: "_mgmt", Prefixes: []netip.Prefix{p("198.18.0.0/24"), p("2001:db8::/64")}},
			{Name: "dmz", Prefixes: []netip.Prefix{p("198.18.99.0/26"), p("2001:db8:99::/64")}},
			{Name: long, Prefixes: []netip.Prefix{p("198.19.99.0/24")}},
			{Name: "v6-only", Prefixes: []netip.Prefix{p("2001:db8:98::/48")}},
		},
		Filters: []*intent.Filter{
			{Name: "FWPUSH-XE-0-0-0-100-OUT", LogDrops: true, Binding: intent.Binding{Kind: intent.Interface, Interface: "xe-0/0/0.100",
				Direction: "out", Protects: []string{"dmz"}, Protected: "dmz"}, Rules: []*intent.Rule{
				{ID: "established", Kind: intent.Established, Proto: policy.TCP, Dst: "dmz"},
				{ID: "management-830", Kind: intent.Management, Src: "_mgmt", Dst: "dmz", Proto: policy.TCP,
					Ports: []policy.PortRange{{Lo: 830, Hi: 830}}},
				{ID: "flow-1", Kind: intent.FlowRule, Src: long, Dst: "dmz", Proto: policy.SCTP, Log: true,
					Ports: []policy.PortRange{{Lo: 2905, Hi: 2905}, {Lo: 3868, Hi: 3869}}, Flows: []int{1}, Why: []string{"SIGTRAN & Diameter"}},
				{ID: "flow-2", Kind: intent.FlowRule, Src: "v6-only", Dst: "dmz", Proto: policy.ICMPv6, Family: 6, ICMP: []int{128},
					Flows: []int{2}, Why: []string{"IPv6 ping"}},
				{ID: "flow-3", Kind: intent.FlowRule, Deny: true, Dst: "dmz", Proto: policy.GRE, Flows: []int{3}, Why: []string{"no tunnels"}},
				{ID: "return-1", Kind: intent.Return, Src: long, Dst: "dmz", Proto: policy.UDP,
					SrcPorts: []policy.PortRange{{Lo: 53, Hi: 53}, {Lo: 123, Hi: 123}}, Flows: []int{4}, Why: []string{"DNS and NTP"}},
				{ID: "return-2", Kind: intent.Return, Src: "v6-only", Dst: "dmz", Proto: policy.ICMPv6, Family: 6, ICMP: []int{129},
					Flows: []int{5}, Why: []string{"pings out"}},
				{ID: "protect", Kind: intent.Protect, Deny: true, AnyProto: true, Dst: "dmz", Log: true},
				{ID: "pass", Kind: intent.Pass, AnyProto: true},
			}},
			{Name: "FWPUSH-XE-0-0-1-IN", Binding: intent.Binding{Kind: intent.Interface, Interface: "xe-0/0/1",
				Direction: "in", Protects: []string{"dmz"}, Protected: "dmz"}, Rules: []*intent.Rule{
				{ID: "flow-1", Kind: intent.FlowRule, Src: "dmz", Proto: policy.TCP, Ports: []policy.PortRange{{Lo: 1024, Hi: 65535}},
					Flows: []int{6}, Why: []string{"outbound"}},
				{ID: "protect", Kind: intent.Protect, Deny: true, AnyProto: true, Src: "dmz"},
				{ID: "pass", Kind: intent.Pass, AnyProto: true},
			}},
		},
	}
}
