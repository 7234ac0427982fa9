package netacl_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/hostiletest"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// TestRemarkIsOneSafeLine: whatever a playbook's why holds, the remark
// typed is one line of printable ASCII a CLI types as it is: no '?'
// (context help), no '|' (an output filter), at most 100 bytes.
func TestRemarkIsOneSafeLine(t *testing.T) {
	for _, p := range hostiletest.NewCanaries(t).Corpus() {
		r := netacl.Remark(p.Text)
		assert.LessOrEqual(t, len(r), 100, p.Name)
		for _, c := range r {
			assert.True(t, c >= 0x20 && c < 0x7f && c != '?' && c != '|', "%s: %q in %q", p.Name, c, r)
		}
		assert.Equal(t, r, netacl.Remark(r), "%s: stable", p.Name)
	}
	assert.Equal(t, "why. a/b caf_", netacl.Remark(" why?  a|b\ncafé "))
	long := netacl.Remark(strings.Repeat("word ", 40))
	assert.True(t, strings.HasSuffix(long, "..."))
	assert.LessOrEqual(t, len(long), 100)
}

func TestSplitGen(t *testing.T) {
	cases := map[string]struct {
		base string
		gen  int
		ok   bool
	}{
		"FWPUSH-GI0-1-OUT-3":    {"FWPUSH-GI0-1-OUT", 3, true},
		"FWPUSH-WEB-22-12":      {"FWPUSH-WEB-22", 12, true},
		"FWPUSH-LOCK":           {"FWPUSH-LOCK", 0, false},
		"FWPUSH-X-0":            {"FWPUSH-X-0", 0, false},
		"FWPUSH-X-07":           {"FWPUSH-X-07", 0, false},
		"FWPUSH-3":              {"FWPUSH-3", 0, false},
		"FWPUSH-OUT-":           {"FWPUSH-OUT-", 0, false},
		"FWPUSH-GI0-1-OUT-V6-5": {"FWPUSH-GI0-1-OUT-V6", 5, true},
	}
	for name, tc := range cases {
		b, g, ok := netacl.SplitGen(name)
		assert.Equal(t, tc, struct {
			base string
			gen  int
			ok   bool
		}{b, g, ok}, name)
	}
	assert.Equal(t, "FWPUSH-WEB-22-4", netacl.Versioned("FWPUSH-WEB-22", 4))
}

// intentWith is an Intent with one interface filter of rules.
func intentWith(iface string, rules ...*intent.Rule) *intent.Intent {
	return &intent.Intent{Host: "r1", Sets: []*intent.AddrSet{
		{Name: "web", Members: []string{"web"}, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.18.10.11/32"), netip.MustParsePrefix("198.18.10.12/32")}},
		{Name: "v6only", Prefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8:10::/64")}},
	}, Filters: []*intent.Filter{{Name: "FWPUSH-GI0-1-OUT", Binding: intent.Binding{Kind: intent.Interface, Interface: iface, Direction: "out"}, Rules: rules}}}
}

func TestFromIntentRefuses(t *testing.T) {
	flow := &intent.Rule{ID: "flow-1", Kind: intent.FlowRule, Dst: "web", Proto: policy.TCP, Ports: []policy.PortRange{{Lo: 80, Hi: 80}}}
	cases := map[string]struct {
		in   *intent.Intent
		want string
		kind error
	}{
		"host filter": {&intent.Intent{Filters: []*intent.Filter{{Name: "input", Binding: intent.Binding{Kind: intent.Input}}}},
			"interface ACLs only", fault.ErrUnsupported},
		"loopback rule":                   {intentWith("Gi0/1", &intent.Rule{ID: "loopback", Kind: intent.Loopback, AnyProto: true}), "loopback", fault.ErrUnsupported},
		"interface name that ends a line": {intentWith("Gi0/1\nhostname pwned", flow), "not an interface name", nil},
		"interface name with a space":     {intentWith("Gi0/1 ; reload", flow), "not an interface name", nil},
		"unknown set":                     {intentWith("Gi0/1", &intent.Rule{ID: "x", Kind: intent.FlowRule, Src: "nope", Proto: policy.TCP}), "not in the Intent", nil},
		"stateful established": {intentWith("Gi0/1", &intent.Rule{ID: "established", Kind: intent.Established, AnyProto: true}),
			"rule established: a stateful established rule", fault.ErrUnsupported},
		"established of udp": {intentWith("Gi0/1", &intent.Rule{ID: "established", Kind: intent.Established, Proto: policy.UDP}),
			"`established` matches TCP only", fault.ErrUnsupported},
		"source ports without ports": {intentWith("Gi0/1", &intent.Rule{ID: "return-1", Kind: intent.Return, Proto: policy.GRE, Flows: []int{6},
			SrcPorts: []policy.PortRange{{Lo: 53, Hi: 53}}}), "rule return-1 (flow 6): ports on protocol 47", fault.ErrUnsupported},
		"reject": {intentWith("Gi0/1", &intent.Rule{ID: "flow-3", Kind: intent.FlowRule, Deny: true, Reject: true, Proto: policy.TCP, Flows: []int{3}}),
			"rule flow-3 (flow 3): a reject (answering the denied packet)", fault.ErrUnsupported},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ios.FromIntent(tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.kind != nil {
				assert.ErrorIs(t, err, tc.kind)
			}
		})
	}
	twice := intentWith("GigabitEthernet0/1", flow)
	twice.Filters = append(twice.Filters, &intent.Filter{Name: "FWPUSH-OTHER", Binding: twice.Filters[0].Binding})
	_, err := ios.FromIntent(twice)
	assert.ErrorContains(t, err, "one filter per interface and direction")
}

// TestFromIntentShapes: object-groups where the dialect has them, every
// prefix where it has not; a family with no rule gets its deny written
// out (an empty IOS ACL would permit everything); the established rule is
// TCP's.
func TestFromIntentShapes(t *testing.T) {
	in := intentWith("GigabitEthernet0/1",
		&intent.Rule{ID: "established", Kind: intent.Established, Proto: policy.TCP},
		&intent.Rule{ID: "flow-1", Kind: intent.FlowRule, Dst: "web", Proto: policy.TCP, Flows: []int{1}, Why: []string{"Users reach the site?"},
			Ports: []policy.PortRange{{Lo: 80, Hi: 80}, {Lo: 443, Hi: 443}, {Lo: 8080, Hi: 8089}}})
	want := map[*netacl.Dialect]string{
		ios: ` 10 remark always on: replies of TCP connections (established)
 10 permit tcp any any established
 20 remark flow 1: Users reach the site.
 20 permit object-group FWPUSH-SVC-TCP-80-443-8080-8089 any object-group FWPUSH-WEB
`,
		nxos: `  20 permit tcp any any established
  30 remark flow 1: Users reach the site.
  40 permit tcp any addrgroup FWPUSH-WEB portgroup FWPUSH-PORTS-80-443-8080-8089
`,
		eos: `   20 permit tcp any any established
   30 remark flow 1: Users reach the site.
   40 permit tcp any host 198.18.10.11 eq 80 443
   50 permit tcp any host 198.18.10.11 range 8080 8089
   60 permit tcp any host 198.18.10.12 eq 80 443
   70 permit tcp any host 198.18.10.12 range 8080 8089
`,
	}
	for d, lines := range want {
		c, err := d.FromIntent(in)
		require.NoError(t, err)
		text := d.Text(c)
		assert.Contains(t, text, lines)
		assert.NotContains(t, text, "deny", "the IPv6 list has a rule (established): its deny stays implicit")
		v4only, err := d.FromIntent(intentWith("GigabitEthernet0/1", in.Filters[0].Rules[1]))
		require.NoError(t, err)
		assert.Contains(t, d.Text(v4only), "deny ipv6 any any", "an IPv6 list with no rule of its own denies in writing")
	}
}

// TestChangeLinesMakeBeforeBreak: the new generation is written whole
// before any interface is re-pointed, bindings move in one command each,
// and only then is anything of the old one removed.
func TestChangeLinesMakeBeforeBreak(t *testing.T) {
	in := intentWith("GigabitEthernet0/1", &intent.Rule{ID: "flow-1", Kind: intent.FlowRule, Dst: "web", Proto: policy.TCP,
		Ports: []policy.PortRange{{Lo: 80, Hi: 80}, {Lo: 443, Hi: 443}}})
	want, err := ios.FromIntent(in)
	require.NoError(t, err)
	dev, err := ios.Parse(`object-group network FWPUSH-WEB-3
 host 198.18.10.11
ip access-list extended FWPUSH-GI0-1-OUT-3
 10 permit ip any any
ipv6 access-list FWPUSH-GI0-1-OUT-V6-3
 sequence 10 permit ipv6 any any
ip access-list extended FWPUSH-STALE-2
 10 deny ip any any
ip access-list extended CUSTOMER
 10 permit ip any any
interface GigabitEthernet0/1
 ip access-group FWPUSH-GI0-1-OUT-3 out
 ipv6 traffic-filter FWPUSH-GI0-1-OUT-V6-3 out
interface GigabitEthernet0/2
 ip access-group FWPUSH-GI0-1-OUT-3 in
 ip access-group CUSTOMER out
`)
	require.NoError(t, err)
	assert.Equal(t, 3, dev.Generation())
	lines := ios.ChangeLines(want, dev, 4)
	index := func(l string) int {
		for i, x := range lines {
			if x == l {
				return i
			}
		}
		t.Fatalf("no line %q in:\n%s", l, strings.Join(lines, "\n"))
		return -1
	}
	bind := index("ip access-group FWPUSH-GI0-1-OUT-4 out")
	for i, l := range lines[:bind] {
		assert.False(t, strings.HasPrefix(l, "no "), "line %d %q: nothing removed before the swap", i, l)
	}
	for _, l := range lines[bind:] {
		assert.False(t, strings.HasPrefix(l, "object-group") || strings.HasPrefix(l, "ip access-list") || strings.HasPrefix(l, "ipv6 access-list"),
			"%q: every list and group is written before the first swap", l)
	}
	assert.Less(t, index("ip access-list extended FWPUSH-GI0-1-OUT-4"), bind)
	assert.Less(t, index("object-group network FWPUSH-WEB-4"), bind)
	assert.Less(t, bind, index("ipv6 traffic-filter FWPUSH-GI0-1-OUT-V6-4 out"))
	unbind := index("no ip access-group FWPUSH-GI0-1-OUT-3 in")
	for _, old := range []string{"no ip access-list extended FWPUSH-GI0-1-OUT-3", "no ipv6 access-list FWPUSH-GI0-1-OUT-V6-3",
		"no ip access-list extended FWPUSH-STALE-2", "no object-group network FWPUSH-WEB-3"} {
		assert.Greater(t, index(old), unbind, old)
	}
	assert.Less(t, index("no ip access-list extended FWPUSH-GI0-1-OUT-3"), index("no object-group network FWPUSH-WEB-3"),
		"lists go before the groups they use")
	for _, l := range lines {
		assert.NotContains(t, l, "CUSTOMER", "nothing of a foreign ACL is touched")
	}
	require.NoError(t, ios.Conflicts(want, dev))
	dev.Iface("GigabitEthernet0/1").Out4 = "CUSTOMER"
	err = ios.Conflicts(want, dev)
	assert.ErrorIs(t, err, fault.ErrNotApplied)
	assert.ErrorContains(t, err, "CUSTOMER")
}

// TestOwnedStripsGenerations: Fetch's canonical form is the bound
// generation under its base names, stale and foreign objects left out.
func TestOwnedStripsGenerations(t *testing.T) {
	dev, err := nxos.Parse(`object-group ip address FWPUSH-WEB-7
  10 host 198.18.10.11
  20 host 198.18.10.12
ip access-list FWPUSH-E1-OUT-7
  statistics per-entry
  10 permit tcp any addrgroup FWPUSH-WEB-7 eq 80
ip access-list FWPUSH-E1-OUT-6
  10 permit ip any any
ip access-list FWPUSH-LOCK
  10 remark fwpush-lock run=r1
ip access-list OTHER
  10 permit ip any any
interface Ethernet1/1
  ip access-group FWPUSH-E1-OUT-7 out
  ip access-group OTHER in
`)
	require.NoError(t, err)
	assert.Equal(t, `object-group ip address FWPUSH-WEB
  10 host 198.18.10.11
  20 host 198.18.10.12
ip access-list FWPUSH-E1-OUT
  statistics per-entry
  10 permit tcp any addrgroup FWPUSH-WEB eq 80
interface Ethernet1/1
  ip access-group FWPUSH-E1-OUT out
`, nxos.Text(dev.Owned()))
}

func TestLockRoundTrip(t *testing.T) {
	tr := drivers.Trial{Run: "20260101T000000Z-ab12", Controller: "ctl host;rm -rf /", User: "ops\nroot", Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, d := range []*netacl.Dialect{ios, nxos, eos} {
		lines := d.LockLines(tr)
		for _, l := range lines {
			assert.NotContains(t, l, "\n")
			assert.NotContains(t, l, ";")
		}
		text := strings.Join(lines[1:len(lines)-1], "\n  ")
		dev, err := d.Parse(text)
		require.NoError(t, err)
		got := dev.Lock()
		require.NotNil(t, got)
		assert.Equal(t, tr.Run, got.Run)
		assert.Equal(t, "ctl_host_rm_-rf__", got.Controller)
		assert.Equal(t, "ops_root", got.User)
		assert.True(t, tr.Since.Equal(got.Since))
	}
}

// TestDesiredRefuses: Apply types only what fwpush itself renders.
func TestDesiredRefuses(t *testing.T) {
	d := netacl.NewDriver(netacl.Spec{ID: "cisco-ios", Dialect: ios})
	cases := map[string]string{
		"raw line":        "ip access-list extended FWPUSH-A\n 10 permit tcp any any dscp ef\n",
		"foreign name":    "ip access-list extended CUSTOMER\n 10 permit ip any any\n",
		"lock":            "ip access-list extended FWPUSH-LOCK\n remark x\n",
		"undefined bound": "interface GigabitEthernet0/1\n ip access-group FWPUSH-A out\n",
		"bad interface":   "ip access-list extended FWPUSH-A\n 10 permit ip any any\ninterface Gi0/1;x\n ip access-group FWPUSH-A out\n",
	}
	for name, text := range cases {
		_, err := d.Desired(drivers.Config{Platform: "cisco-ios", Parts: []drivers.Part{{Name: netacl.PartName, Text: text}}})
		assert.Error(t, err, name)
		assert.True(t, errors.Is(err, fault.ErrNotApplied), "%s: %v", name, err)
	}
	_, err := d.Desired(drivers.Config{Platform: "arista-eos"})
	assert.ErrorIs(t, err, fault.ErrNotApplied, "another platform's config")
}

// TestFromIntentRuleKinds: how each dialect says every kind of rule a
// stateless network ACL gets: established towards the protected
// addresses only, a return rule's source ports on the source side (one
// line per range, an NX-OS port group, an EOS `eq` list; never an IOS-XE
// service group, which carries destination ports), echo-reply by type,
// the protect deny, the pass, and no written-out deny after the pass.
func TestFromIntentRuleKinds(t *testing.T) {
	in := kindsIntent()
	in.Filters[0].LogDrops = true
	want := map[*netacl.Dialect]string{
		ios: `ip access-list extended FWPUSH-GI0-1-OUT
 10 remark always on: replies of TCP connections (established)
 10 permit tcp any object-group FWPUSH-WEB established
 20 remark flow 1: DNS reaches the site
 20 permit object-group FWPUSH-SVC-TCP-80-443 host 198.18.20.53 object-group FWPUSH-WEB
 30 remark replies of flow 2: web asks DNS
 30 permit udp host 198.18.20.53 eq 53 object-group FWPUSH-WEB
 40 remark replies of flow 3: web syncs time, logs
 40 permit udp host 198.18.20.53 eq 123 object-group FWPUSH-WEB
 50 permit udp host 198.18.20.53 eq 514 object-group FWPUSH-WEB
 60 permit udp host 198.18.20.53 range 5000 5010 object-group FWPUSH-WEB
 70 remark replies of flow 4: web pings DNS
 70 permit icmp host 198.18.20.53 object-group FWPUSH-WEB 0
 80 remark replies of flow 5: web tunnels to DNS
 80 permit 47 host 198.18.20.53 object-group FWPUSH-WEB
 90 remark default deny for the protected addresses
 90 deny ip any object-group FWPUSH-WEB
 100 remark not protected by this ACL
 100 permit ip any any
!
ipv6 access-list FWPUSH-GI0-1-OUT-V6
 sequence 10 remark always on: replies of TCP connections (established)
 sequence 20 permit tcp any host 2001:db8:10::11 established
`,
		nxos: `object-group ip port FWPUSH-PORTS-123-514-5000-5010
  10 eq 123
  20 eq 514
  30 range 5000 5010
`,
		eos: `   10 remark always on: replies of TCP connections (established)
   20 permit tcp any host 198.18.10.11 established
   30 permit tcp any host 198.18.10.12 established
`,
	}
	lines := map[*netacl.Dialect][]string{
		nxos: {"  60 permit udp 198.18.20.53/32 eq 53 addrgroup FWPUSH-WEB",
			"  80 permit udp 198.18.20.53/32 portgroup FWPUSH-PORTS-123-514-5000-5010 addrgroup FWPUSH-WEB",
			"  100 permit icmp 198.18.20.53/32 addrgroup FWPUSH-WEB 0", "  120 permit 47 198.18.20.53/32 addrgroup FWPUSH-WEB",
			"  140 deny ip any addrgroup FWPUSH-WEB", "  160 permit ip any any",
			"  100 permit icmp 2001:db8:20::53/128 2001:db8:10::11/128 129"},
		eos: {"   90 permit udp host 198.18.20.53 eq 53 host 198.18.10.12", "   110 permit udp host 198.18.20.53 eq 123 514 host 198.18.10.11",
			"   130 permit udp host 198.18.20.53 range 5000 5010 host 198.18.10.11",
			"   110 permit icmpv6 host 2001:db8:20::53 host 2001:db8:10::11 129", "   250 permit ip any any"},
	}
	for d, block := range want {
		c, err := d.FromIntent(in)
		require.NoError(t, err)
		text := d.Text(c)
		assert.Contains(t, text, block, "%v", d.Syntax)
		for _, l := range lines[d] {
			assert.Contains(t, text, l+"\n", "%v", d.Syntax)
		}
		assert.NotContains(t, text, "deny ip any any", "%v: nothing reaches a deny after the pass", d.Syntax)
		assert.NotContains(t, text, "deny ipv6 any any", "%v", d.Syntax)
	}
}
