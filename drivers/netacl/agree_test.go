package netacl_test

import (
	"fmt"
	"math/rand"
	"net/netip"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
)

// kindsIntent is one out ACL protecting web with a rule of every kind the
// compiler gives a stateless network ACL: established (TCP, to the
// protected addresses), return rules with one and several source ports,
// ICMP and ICMPv6 echo replies and a protocol without ports, the protect
// deny and the final pass.
func kindsIntent() *intent.Intent {
	pr := func(lo, hi uint16) policy.PortRange { return policy.PortRange{Lo: lo, Hi: hi} }
	in := intentWith("GigabitEthernet0/1",
		&intent.Rule{ID: "established", Kind: intent.Established, Proto: policy.TCP, Dst: "web"},
		&intent.Rule{ID: "flow-1", Kind: intent.FlowRule, Src: "dns", Dst: "web", Proto: policy.TCP, Ports: []policy.PortRange{pr(80, 80), pr(443, 443)},
			Flows: []int{1}, Why: []string{"DNS reaches the site"}},
		&intent.Rule{ID: "return-1", Kind: intent.Return, Src: "dns", Dst: "web", Proto: policy.UDP, SrcPorts: []policy.PortRange{pr(53, 53)},
			Flows: []int{2}, Why: []string{"web asks DNS"}},
		&intent.Rule{ID: "return-2", Kind: intent.Return, Src: "dns", Dst: "web", Proto: policy.UDP,
			SrcPorts: []policy.PortRange{pr(123, 123), pr(514, 514), pr(5000, 5010)}, Flows: []int{3}, Why: []string{"web syncs time, logs"}},
		&intent.Rule{ID: "return-3", Kind: intent.Return, Src: "dns", Dst: "web", Proto: policy.ICMP, Family: 4, ICMP: []int{0},
			Flows: []int{4}, Why: []string{"web pings DNS"}},
		&intent.Rule{ID: "return-4", Kind: intent.Return, Src: "dns", Dst: "web", Proto: policy.ICMPv6, Family: 6, ICMP: []int{129},
			Flows: []int{4}, Why: []string{"web pings DNS"}},
		&intent.Rule{ID: "return-5", Kind: intent.Return, Src: "dns", Dst: "web", Proto: policy.GRE, Flows: []int{5}, Why: []string{"web tunnels to DNS"}},
		&intent.Rule{ID: "protect", Kind: intent.Protect, Deny: true, AnyProto: true, Dst: "web", Why: []string{"default deny for the protected addresses"}},
		&intent.Rule{ID: "pass", Kind: intent.Pass, AnyProto: true, Why: []string{"not protected by this ACL"}})
	in.Sets[0].Prefixes = append(in.Sets[0].Prefixes, pfx("2001:db8:10::11/128"))
	in.Sets = append(in.Sets, &intent.AddrSet{Name: "dns", Members: []string{"dns"},
		Prefixes: []netip.Prefix{pfx("198.18.20.53/32"), pfx("2001:db8:20::53/128")}})
	in.Filters[0].Binding.Protected = "web"
	return in
}

// seedRouterIntents are the Intents of every router of the seeds' router
// variants, by "system/router".
func seedRouterIntents(tb testing.TB) map[string]*intent.Intent {
	tb.Helper()
	out := map[string]*intent.Intent{}
	for _, s := range seedSystems {
		p, err := project.Load(project.Options{Inventory: filepath.Join("../../inventory/examples", s+"-routers"),
			Playbook: filepath.Join("../../playbooks", s+".yml"), Registry: all.Registry()})
		require.NoError(tb, err)
		for _, h := range p.Inv.Names() {
			drv, err := p.Registry.Get(p.Inv.Hosts[h].Platform)
			require.NoError(tb, err)
			if _, ok := drv.(*netacl.Driver); ok {
				out[s+"/"+h] = p.Intents[h]
			}
		}
	}
	return out
}

// intentPackets are packets a filter is asked about: every edge of its
// sets' prefixes and of its rules' destination and source ports, a few
// outside them, every protocol and ICMP type it names and some it does
// not, new and reply, drawn at random (fixed seed).
func intentPackets(in *intent.Intent, f *intent.Filter, n int) []intent.Packet {
	addrs := map[int][]netip.Addr{4: {netip.MustParseAddr("198.18.99.99"), netip.MustParseAddr("203.0.113.7")},
		6: {netip.MustParseAddr("2001:db8:99::99"), netip.MustParseAddr("3fff::7")}}
	for _, s := range in.Sets {
		for _, p := range s.Prefixes {
			v := 6
			if p.Addr().Is4() {
				v = 4
			}
			for _, a := range []netip.Addr{p.Masked().Addr(), lastAddr(p), p.Masked().Addr().Prev(), lastAddr(p).Next()} {
				if a.IsValid() {
					addrs[v] = append(addrs[v], a)
				}
			}
		}
	}
	ports := []int{0, 22, 53, 67, 80, 123, 443, 1024, 49152, 65535}
	types := []int{0, 3, 8, 11, 128, 129, 135}
	protos := []policy.Proto{policy.TCP, policy.UDP, policy.ICMP, policy.ICMPv6, policy.GRE, policy.SCTP, policy.ESP}
	for _, r := range f.Rules {
		for _, pr := range append(append([]policy.PortRange(nil), r.Ports...), r.SrcPorts...) {
			ports = append(ports, int(pr.Lo), int(pr.Hi), int(pr.Lo)-1, int(pr.Hi)+1)
		}
		types = append(types, r.ICMP...)
		if !r.AnyProto {
			protos = append(protos, r.Proto)
		}
	}
	sort.Ints(ports)
	rng := rand.New(rand.NewSource(1))
	out := make([]intent.Packet, 0, n)
	for len(out) < n {
		v := 4 + 2*rng.Intn(2)
		as := addrs[v]
		p := intent.Packet{Src: as[rng.Intn(len(as))], Dst: as[rng.Intn(len(as))], Proto: protos[rng.Intn(len(protos))],
			Reply: rng.Intn(2) == 0}
		sp, dp := ports[rng.Intn(len(ports))], ports[rng.Intn(len(ports))]
		if sp < 0 || sp > 65535 || dp < 0 || dp > 65535 {
			continue
		}
		switch {
		case p.Proto.HasPorts():
			p.SrcPort, p.Port = uint16(sp), uint16(dp)
		case p.Proto.IsICMP():
			p.ICMPType = types[rng.Intn(len(types))]
		}
		out = append(out, p)
	}
	return out
}

// aclPacket is p as an ACL sees it: a reply of TCP carries ACK.
func aclPacket(p intent.Packet) netacl.Packet {
	return netacl.Packet{Src: p.Src, Dst: p.Dst, Proto: int(p.Proto), SrcPort: int(p.SrcPort), DstPort: int(p.Port),
		ICMPType: p.ICMPType, Ack: p.Reply && p.Proto == policy.TCP}
}

// TestRenderAgreesWithIntent: every router Intent of the seeds' router
// variants, and one holding every rule kind, rendered in each dialect,
// gives the verdict intent.Eval gives on every sampled packet — new and
// reply, any source port: established passes TCP replies only and only
// to what the rule names, a return rule only its source ports and reply
// types, the protect deny and the pass decide the rest.
func TestRenderAgreesWithIntent(t *testing.T) {
	intents := seedRouterIntents(t)
	intents["kinds"] = kindsIntent()
	names := make([]string, 0, len(intents))
	for n := range intents {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, d := range []*netacl.Dialect{ios, nxos, eos} {
		for _, name := range names {
			in := intents[name]
			c, err := d.FromIntent(in)
			require.NoError(t, err, name)
			// Through the device's text: what is typed is what is judged.
			dev, err := d.Parse(d.Text(c))
			require.NoError(t, err, name)
			for _, f := range in.Filters {
				acls := map[bool]*netacl.ACL{false: dev.ACL(f.Name, false), true: dev.ACL(f.Name+netacl.V6Suffix, true)}
				require.NotNil(t, acls[false], "%s %s", name, f.Name)
				require.NotNil(t, acls[true], "%s %s", name, f.Name)
				kinds := map[intent.RuleKind]int{}
				bad := 0
				for _, p := range intentPackets(in, f, 4000) {
					want := in.Eval(f, p)
					got, e := dev.Permits(acls[p.Dst.Is6()], aclPacket(p))
					if want.Rule != nil && want.Permit {
						kinds[want.Rule.Kind]++
					}
					if got != want.Permit {
						if bad++; bad <= 5 {
							line := "the implicit deny"
							if e != nil {
								line = d.RuleText(e.Rule, p.Dst.Is6())
							}
							t.Errorf("%v %s %s: %+v: intent %v (rule %v), ACL %v (%s)", d.Syntax, name, f.Name, p, want.Permit, ruleID(want.Rule), got, line)
						}
					}
				}
				assert.Positive(t, kinds[intent.Pass], "%s %s: the sample reaches the final pass", name, f.Name)
				if name == "kinds" {
					assert.Positive(t, kinds[intent.Established], "the sample holds TCP replies to the protected addresses")
					assert.Positive(t, kinds[intent.Return], "the sample holds replies a return rule passes")
				}
			}
		}
	}
}

func ruleID(r *intent.Rule) string {
	if r == nil {
		return "default deny"
	}
	return fmt.Sprintf("%s %s", r.ID, r.Kind)
}
