package enforce

import (
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/render/*.golden from the current renderer")

func pfx(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, v := range s {
		out[i] = netip.MustParsePrefix(v)
	}
	return out
}

// hostA is host a of the lab tests (lab_test.go), on core.
var hostA = pfx("198.18.0.11/32", "2001:db8::11/128")

// dmzACL is an IOS-style pair: out on the dmz leg only tcp/80 from a; in,
// only replies (established).
func dmzACL() State {
	return State{Bindings: []Binding{
		{Interface: "gi0-1", Direction: Out, Filter: &Filter{Name: "DMZ-OUT", Default: Deny, Rules: []Rule{
			{Action: Permit, Proto: 6, Src: hostA, DstPorts: []PortRange{{80, 80}}, Comment: "web from a"},
		}}},
		{Interface: "gi0-1", Direction: In, Filter: &Filter{Name: "DMZ-IN", Default: Deny, Rules: []Rule{
			{Action: Permit, Proto: 6, Established: true},
		}}},
		{Interface: "gi0-0", Direction: In}, // bound to an undefined ACL: unfiltered
	}}
}

// mgmtCut drops tcp/22 to the router's own core address, arriving on core.
func mgmtCut() State {
	return State{Bindings: []Binding{
		{Interface: "gi0-0", Direction: In, Filter: &Filter{Name: "CORE-IN", Default: Permit, Rules: []Rule{
			{Action: Deny, Proto: 6, Dst: pfx("198.18.0.254/32", "2001:db8::fe/128"), DstPorts: []PortRange{{22, 22}}},
		}}},
	}}
}

// webOnly is a host firewall: inbound only tcp/80 (and replies).
func webOnly() State {
	return State{Host: &HostPolicy{Input: &Filter{Name: "inbound", Default: Deny, Rules: []Rule{
		{Action: Permit, Stateful: true},
		{Action: Permit, Proto: 6, DstPorts: []PortRange{{80, 80}}},
	}}}}
}

// everything exercises every field and normalization.
func everything() State {
	return State{
		Bindings: []Binding{
			{Interface: "xe-0.0.1", Direction: Out, Filter: &Filter{Name: "EDGE \"out\" $x\n", Default: Reject, Rules: []Rule{
				{Action: Reject, Proto: 6, DstPorts: []PortRange{{23, 23}}, Log: true},
				{Action: Reject, Src: pfx("198.18.7.0/24"), Comment: "reject anything from the lab's 7 net"},
				{Action: Reject, Proto: 17, DstPorts: []PortRange{{161, 162}}},
				{Action: Permit, Proto: 1, ICMPTypes: []uint8{8, 0, 8}},
				{Action: Permit, Proto: 58, ICMPTypes: []uint8{128, 129}, Src: pfx("2001:db8::/48")},
				{Action: Permit, Family: 6},
				{Action: Deny, Proto: 47},
				{Action: Permit, Proto: 132, SrcPorts: []PortRange{{2905, 2905}}, DstPorts: []PortRange{{3868, 3870}, {3860, 3869}, {3871, 3871}}},
				{Action: Permit, Proto: 17, Src: pfx("198.18.0.0/16", "198.18.3.4/32", "2001:db8:1::/48", "198.18.0.0/16", "198.18.3.5/24"),
					Dst: pfx("2001:db8::/32", "198.19.0.1/32"), Comment: "dns \"quoted\" \\ ünïcode\ttab $HOME # ; { }"},
				{Action: Deny, Family: 4, Dst: pfx("198.18.9.0/24"), Log: true, Comment: strings.Repeat("long ", 40)},
			}}},
			{Interface: "eth1", Direction: In, Filter: &Filter{Name: "101", Default: Permit, Rules: []Rule{
				{Action: Deny, Proto: 6, Established: true, DstPorts: []PortRange{{1024, 65535}}},
				{Action: Permit, Stateful: true, Log: true},
			}}},
			{Interface: "eth1", Direction: Out, Filter: nil},
		},
		Host: &HostPolicy{
			Input:  &Filter{Name: "lo0-filter", Default: Deny, Rules: []Rule{{Action: Permit, Proto: 6, DstPorts: []PortRange{{22, 22}, {830, 830}}}}},
			Output: &Filter{Name: "egress", Default: Permit},
		},
	}
}

// goldenStates are the States of testdata/render/*.golden; lab_test.go
// loads each into a real namespace.
func goldenStates() map[string]State {
	return map[string]State{
		"empty":      {},
		"unfiltered": {Bindings: []Binding{{Interface: "eth0", Direction: In}, {Interface: "eth0", Direction: Out}}, Host: &HostPolicy{}},
		"dmz-acl":    dmzACL(),
		"mgmt-cut":   mgmtCut(),
		"transit-only": {Bindings: []Binding{
			{Interface: "gi0-0", Direction: Out, TransitOnly: true, Filter: &Filter{Name: "IOS-OUT", Default: Deny}},
			{Interface: "gi0-1", Direction: In, TransitOnly: true, Filter: &Filter{Name: "TRANSIT-IN", Default: Permit}},
		}},
		"host":       webOnly(),
		"everything": everything(),
	}
}

func TestRenderGolden(t *testing.T) {
	tests := goldenStates()
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			rs, err := Render(s)
			require.NoError(t, err)
			path := filepath.Join("testdata", "render", name+".golden")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(rs.Text), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create it")
			if diff := cmp.Diff(string(want), rs.Text); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
			require.Contains(t, rs.Text, `comment "fwp-enforce `+rs.Digest+`"`)
			require.Len(t, rs.Digest, 16)
		})
	}
}

// TestRenderDeterministic: the order bindings and list items come in does
// not change the output, and different States get different digests.
func TestRenderDeterministic(t *testing.T) {
	want, err := Render(everything())
	require.NoError(t, err)
	for range 20 {
		s := everything()
		rand.Shuffle(len(s.Bindings), func(i, j int) { s.Bindings[i], s.Bindings[j] = s.Bindings[j], s.Bindings[i] })
		for _, b := range s.Bindings {
			if b.Filter == nil {
				continue
			}
			for _, r := range b.Filter.Rules {
				rand.Shuffle(len(r.Src), func(i, j int) { r.Src[i], r.Src[j] = r.Src[j], r.Src[i] })
				rand.Shuffle(len(r.DstPorts), func(i, j int) { r.DstPorts[i], r.DstPorts[j] = r.DstPorts[j], r.DstPorts[i] })
				rand.Shuffle(len(r.ICMPTypes), func(i, j int) { r.ICMPTypes[i], r.ICMPTypes[j] = r.ICMPTypes[j], r.ICMPTypes[i] })
			}
		}
		got, err := Render(s)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	digests := map[string]string{}
	for name, s := range map[string]State{"empty": {}, "dmz": dmzACL(), "mgmt": mgmtCut(), "host": webOnly(), "all": everything()} {
		rs, err := Render(s)
		require.NoError(t, err)
		require.NotContains(t, digests, rs.Digest, "%s has %s's digest", name, digests[rs.Digest])
		digests[rs.Digest] = name
	}
}

func TestRenderErrors(t *testing.T) {
	filter := func(r ...Rule) *Filter { return &Filter{Name: "F", Default: Deny, Rules: r} }
	bind := func(f *Filter) State {
		return State{Bindings: []Binding{{Interface: "eth1", Direction: In, Filter: f}}}
	}
	tests := map[string]struct {
		s       State
		wantErr string
	}{
		"interface too long": {s: State{Bindings: []Binding{{Interface: "GigabitEthernet01", Direction: In}}},
			wantErr: `binding 0 (GigabitEthernet01 in): interface "GigabitEthernet01" must match`},
		"interface slash":    {s: State{Bindings: []Binding{{Interface: "ge-0/0/1", Direction: In}}}, wantErr: "must match"},
		"interface quote":    {s: State{Bindings: []Binding{{Interface: `a"b`, Direction: In}}}, wantErr: "must match"},
		"loopback":           {s: State{Bindings: []Binding{{Interface: "lo", Direction: In}}}, wantErr: "loopback is never filtered"},
		"direction":          {s: State{Bindings: []Binding{{Interface: "eth1", Direction: "both"}}}, wantErr: `direction must be "in" or "out"`},
		"twice":              {s: State{Bindings: []Binding{{Interface: "eth1", Direction: In}, {Interface: "eth1", Direction: In, Filter: filter()}}}, wantErr: "binding 1 (eth1 in): a second filter"},
		"no default":         {s: bind(&Filter{Name: "F"}), wantErr: `filter "F" (F in on eth1): default "": want`},
		"host no default":    {s: State{Host: &HostPolicy{Output: &Filter{Name: "H"}}}, wantErr: `filter "H" (H host output): default ""`},
		"no action":          {s: bind(filter(Rule{Proto: 6})), wantErr: `rule 1: action "": want`},
		"family 5":           {s: bind(filter(Rule{Action: Permit, Family: 5})), wantErr: "family 5"},
		"established udp":    {s: bind(filter(Rule{Action: Permit, Proto: 17, Established: true})), wantErr: "established matches TCP flags, but the protocol is 17"},
		"icmp in v6 rule":    {s: bind(filter(Rule{Action: Permit, Proto: 1, Family: 6})), wantErr: "protocol 1 is IPv4 only, but the rule is IPv6"},
		"ports without l4":   {s: bind(filter(Rule{Action: Permit, DstPorts: []PortRange{{80, 80}}})), wantErr: "ports need protocol tcp (6), udp (17) or sctp (132), not 0"},
		"ports on icmp":      {s: bind(filter(Rule{Action: Permit, Proto: 1, SrcPorts: []PortRange{{80, 80}}})), wantErr: "ports need protocol"},
		"types without icmp": {s: bind(filter(Rule{Action: Permit, Proto: 6, ICMPTypes: []uint8{8}})), wantErr: "ICMP types need protocol icmp (1) or icmpv6 (58), not 6"},
		"backwards ports":    {s: bind(filter(Rule{Action: Permit, Proto: 6, DstPorts: []PortRange{{90, 80}}})), wantErr: "dst ports: range 90-80 is backwards"},
		"v6 in v4 rule":      {s: bind(filter(Rule{Action: Permit, Family: 4, Src: pfx("2001:db8::/32")})), wantErr: "src: 2001:db8::/32 is IPv6, but the rule is IPv4"},
		"v6 in icmp rule":    {s: bind(filter(Rule{Action: Permit, Proto: 1, Dst: pfx("2001:db8::/32")})), wantErr: "dst: 2001:db8::/32 is IPv6, but the rule is IPv4"},
		"families disjoint":  {s: bind(filter(Rule{Action: Permit, Src: pfx("198.18.0.0/15"), Dst: pfx("2001:db8::/32")})), wantErr: "no address family in common"},
		"mapped v4":          {s: bind(filter(Rule{Action: Permit, Src: pfx("::ffff:198.18.0.0/120")})), wantErr: "IPv4-mapped"},
		"invalid prefix":     {s: bind(filter(Rule{Action: Permit, Src: []netip.Prefix{{}}})), wantErr: "src: invalid prefix"},
		"every error": {s: State{Bindings: []Binding{{Interface: "lo", Direction: In}, {Interface: "eth1", Direction: In, Filter: filter(Rule{}, Rule{Action: "allow"})}}},
			wantErr: "loopback"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Render(tc.s)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
	// Every problem is reported at once.
	_, err := Render(tests["every error"].s)
	require.ErrorContains(t, err, `rule 1: action ""`)
	require.ErrorContains(t, err, `rule 2: action "allow"`)
}
