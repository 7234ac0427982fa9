package linuxnftables

import (
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxiptables"
	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/internal/compile"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// system is a playbook over its example inventory: the webapp example and
// every seed playbook whose inventory/examples/<system> exists.
type system struct{ name, playbook, inventory string }

func systems(t *testing.T) []system {
	t.Helper()
	out := []system{{"webapp", "../../playbooks/examples/webapp.yml", "../../inventory/examples/webapp"}}
	files, err := filepath.Glob("../../playbooks/*.yml")
	require.NoError(t, err)
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yml")
		inv := "../../inventory/examples/" + name
		if st, err := os.Stat(inv); err == nil && st.IsDir() {
			out = append(out, system{name, f, inv})
		}
	}
	return out
}

// compiled is a seed system compiled for every host.
type compiled struct {
	Inv     *inventory.Inventory
	Intents map[string]*intent.Intent
}

// load compiles a system; the seeds are data this package depends on, so a
// broken one fails here rather than being skipped. The registry holds the
// Linux drivers the example inventories use (drivers/all would import this
// package).
func load(t *testing.T, s system) *compiled {
	t.Helper()
	reg := linuxRegistry(t)
	inv, err := inventory.Load(s.inventory, inventory.WithPlatforms(reg))
	require.NoError(t, err, s.name)
	pb, err := policy.Load(s.playbook)
	require.NoError(t, err, s.name)
	intents, err := compile.Compile(pb, inv, nil, reg)
	require.NoError(t, err, s.name)
	return &compiled{Inv: inv, Intents: intents}
}

// linuxRegistry holds the two Linux platforms the example inventories use.
func linuxRegistry(t *testing.T) *drivers.Registry {
	t.Helper()
	reg := drivers.NewRegistry()
	require.NoError(t, reg.Register(Platform()))
	require.NoError(t, reg.Register(linuxiptables.Platform()))
	// The wdm example manages its servers with the windows driver.
	require.NoError(t, reg.Register(windows.Platform()))
	return reg
}

// goldenHost picks the host whose render is kept as a golden file: the
// first nftables host, or the first host when the system has none.
func goldenHost(p *compiled) string {
	names := p.Inv.Names()
	for _, n := range names {
		if p.Inv.Hosts[n].Platform == ID {
			return n
		}
	}
	return names[0]
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

// renderCase is one Intent kept as a golden file.
type renderCase struct {
	name string
	in   *intent.Intent
}

// renderCases are one host per system plus the edge Intent.
func renderCases(t *testing.T) []renderCase {
	var out []renderCase
	for _, s := range systems(t) {
		p := load(t, s)
		h := goldenHost(p)
		out = append(out, renderCase{s.name + "-" + h, p.Intents[h]})
	}
	return append(out, renderCase{"edge", edgeIntent()})
}
