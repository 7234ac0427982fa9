package linuxiptables

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxnftables"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// linuxRegistry holds the two Linux platforms the example inventories use.
func linuxRegistry(t *testing.T) *drivers.Registry {
	t.Helper()
	reg := drivers.NewRegistry()
	require.NoError(t, reg.Register(Platform()))
	require.NoError(t, reg.Register(linuxnftables.Platform()))
	return reg
}

func pfx(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, v := range s {
		out[i] = netip.MustParsePrefix(v)
	}
	return out
}

func portRanges(rs ...uint16) []policy.PortRange {
	out := make([]policy.PortRange, 0, len(rs)/2)
	for i := 0; i+1 < len(rs); i += 2 {
		out = append(out, policy.PortRange{Lo: rs[i], Hi: rs[i+1]})
	}
	return out
}

// edgeIntent exercises what the seeds may not: awkward set names, one-family
// and empty sets, overlapping and world prefixes, element wrapping, deny and
// log, unnamed protocols and ICMP types, long comments with quotes.
func edgeIntent() *intent.Intent {
	flow := func(id string, r intent.Rule) *intent.Rule {
		r.ID, r.Kind = id, intent.FlowRule
		if r.Why == nil {
			r.Why = []string{"edge case " + id}
		}
		return &r
	}
	long := strings.Repeat("déjà \"vu\" ", 20)
	return &intent.Intent{Host: "edge-1", Platform: ID, MgmtPort: 2222,
		Sets: []*intent.AddrSet{
			{Name: "fwpush-mgmt", Prefixes: pfx("198.18.0.0/24", "2001:db8::/64")},
			{Name: "5g-core", Prefixes: pfx("198.18.5.0/24")},
			{Name: "a.b", Prefixes: pfx("198.18.6.1/32")},
			{Name: "a_b", Prefixes: pfx("2001:db8:6::1/128")},
			{Name: "many", Prefixes: pfx("198.18.7.1/32", "198.18.7.0/24", "198.18.8.3/32", "198.18.8.5/32",
				"198.18.9.0/25", "198.18.10.0/23", "2001:db8:7::/48", "2001:db8:8::1/128", "2001:db8:9::/64")},
			{Name: "nothing"},
			{Name: "world", Prefixes: pfx("0.0.0.0/0", "::/0")},
		},
		Filters: []*intent.Filter{
			{Name: "input", Binding: intent.Binding{Kind: intent.Input}, LogDrops: true, Rules: []*intent.Rule{
				{ID: "established", Kind: intent.Established, AnyProto: true},
				{ID: "loopback", Kind: intent.Loopback, AnyProto: true},
				{ID: "icmp", Kind: intent.ICMPBase, Family: 4, Proto: policy.ICMP},
				{ID: "icmpv6", Kind: intent.ICMPBase, Family: 6, Proto: policy.ICMPv6, ICMP: []int{200, 128, 1, 128}},
				{ID: "management", Kind: intent.Management, Src: "fwpush-mgmt", Proto: policy.TCP,
					Ports: portRanges(2222, 2222), Why: []string{"fwpush management access (always on)"}},
				flow("flow-1", intent.Rule{Src: "5g-core", Proto: policy.SCTP, Ports: portRanges(3868, 3868, 2905, 2906)}),
				flow("flow-2", intent.Rule{Src: "nothing", Proto: policy.TCP, Ports: portRanges(1, 1)}),
				flow("flow-3", intent.Rule{Src: "many", Proto: policy.UDP, Log: true, Deny: true}),
				flow("flow-4", intent.Rule{Src: "a.b", Proto: policy.GRE, Why: []string{"one", "", "two"}}),
				flow("flow-5", intent.Rule{Src: "a_b", Proto: 200, Why: []string{long}}),
				flow("flow-6", intent.Rule{Family: 4, Proto: policy.TCP, Ports: portRanges(9000, 9001, 22, 22, 8001, 8010, 8000, 8000)}),
				flow("flow-7", intent.Rule{Src: "world", Proto: policy.ICMP, ICMP: []int{8, 13}, Log: true}),
				flow("flow-8", intent.Rule{Family: 6, Proto: policy.ESP}),
				flow("flow-9", intent.Rule{Src: "world", Proto: policy.TCP, Ports: manyPorts()}),
				// action: reject, as the platform answers it; two flows
				// merged into one rule whose reasons overflow the comment
				// keep both numbers.
				flow("flow-10", intent.Rule{Src: "5g-core", Proto: policy.TCP, Ports: portRanges(23, 23), Deny: true, Reject: true, Flows: []int{10}}),
				flow("flow-11+12", intent.Rule{Proto: policy.UDP, Ports: portRanges(69, 69), Deny: true, Reject: true,
					Flows: []int{11, 12}, Why: []string{long, long}}),
				flow("flow-13", intent.Rule{Family: 6, Proto: policy.TCP, Ports: portRanges(25, 25), Deny: true, Reject: true, Flows: []int{13}}),
			}},
			{Name: "output", Binding: intent.Binding{Kind: intent.Output}, Rules: []*intent.Rule{
				{ID: "established", Kind: intent.Established, AnyProto: true},
				{ID: "loopback", Kind: intent.Loopback, AnyProto: true},
				flow("flow-1", intent.Rule{Src: "world", Dst: "many", Proto: policy.TCP, Ports: portRanges(443, 443)}),
				flow("flow-2", intent.Rule{Dst: "a_b", Proto: policy.UDP, Ports: portRanges(53, 53)}),
			}},
		}}
}

// manyPorts is more than one multiport match holds: 14 ports and 3 ranges.
func manyPorts() []policy.PortRange {
	var out []policy.PortRange
	for p := uint16(10000); p < 10028; p += 2 {
		out = append(out, policy.PortRange{Lo: p, Hi: p})
	}
	return append(out, portRanges(20000, 20010, 30000, 30010, 40000, 40010)...)
}
