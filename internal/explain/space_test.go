package explain

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go4.org/netipx"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
)

// The space example: the network `blocked` holds the addresses explain
// once used to stand for the whole world, and a deny flow for it comes
// before the flow opening the site to everyone.
func spaceProject(t *testing.T) *project.Project {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: "testdata/space/inventory", Playbook: "testdata/space/playbook.yml"})
	require.NoError(t, err)
	return p
}

// TestSpaceAnswers: questions over a space are answered for every packet
// they cover, in parts, each with an example of its own; a question about
// one packet keeps the path answer.
func TestSpaceAnswers(t *testing.T) {
	p := spaceProject(t)
	blocked := netipx.MustParseIPRange("203.0.113.0-203.0.113.127")
	blocked6 := netip.MustParsePrefix("3fff::/64")
	inBlocked := func(a netip.Addr) bool { return blocked.Contains(a) || blocked6.Contains(a) }
	type part struct {
		permitted bool
		decided   string
		rule      string
		ports     string
	}
	cases := map[string]struct {
		q       Query
		verdict string
		parts   []part
		// example checks an example's addresses.
		example func(t *testing.T, permitted bool, from netip.Addr)
	}{
		"the world, a sample address inside a deny": {
			q: Query{From: "any", To: "web", Proto: policy.TCP, Port: 443}, verdict: Partly,
			parts: []part{{true, "", "flow-2", "443"}, {false, "web-1/input", "flow-1", "443"}},
			example: func(t *testing.T, permitted bool, from netip.Addr) {
				assert.Equal(t, !permitted, inBlocked(from), "%s in the blocked network", from)
			},
		},
		"port ranges split by rules": {
			q: Query{From: "partners", To: "web-1", Proto: policy.TCP, Port: 7990, PortTo: 8200}, verdict: Partly,
			parts: []part{{true, "", "flow-3", "8000-8099"}, {false, "web-1/input", "default-deny", "7990-7999,8100-8200"}},
		},
		"every port of a network, one deny": {
			q: Query{From: "blocked", To: "web-2", Proto: policy.TCP, Port: 1, PortTo: 65535}, verdict: Denied,
			parts: []part{{false, "web-2/input", "default-deny", "1-442,444-65535"}, {false, "web-2/input", "flow-1", "443"}},
		},
		"a prefix, all permitted": {
			q: Query{From: "198.51.100.128/25", To: "web", Proto: policy.TCP, Port: 8080}, verdict: Permitted,
			parts: []part{{true, "", "flow-3", "8080"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := Run(p, tc.q)
			require.NoError(t, err)
			assert.Equal(t, tc.verdict, res.Verdict)
			assert.Equal(t, tc.verdict == Permitted, res.Permitted)
			var got []part
			for _, pt := range res.Parts {
				ex := pt.Example
				decisive := ex.Checks[len(ex.Checks)-1]
				for _, c := range ex.Checks {
					if c.Decides {
						decisive = c
					}
				}
				ports := map[string]bool{}
				for _, r := range pt.Regions {
					ports[portsKey(r.Ports)] = true
				}
				require.Len(t, ports, 1, "every region of a part has the same ports here")
				for k := range ports {
					got = append(got, part{pt.Permitted, pt.DecidedBy, decisive.Rule, k})
				}
				if tc.example != nil {
					tc.example(t, pt.Permitted, ex.From.Addr)
				}
				assert.Equal(t, pt.Permitted, ex.Permitted)
				assert.Equal(t, pt.DecidedBy, ex.DecidedBy)
			}
			assert.ElementsMatch(t, tc.parts, got)
			assert.Len(t, res.Paths, len(res.Parts), "the paths are the parts' examples")
		})
	}
}

// TestSpaceBothFamilies: the world is both families; each part covers
// IPv4 and IPv6 sources, and its example is a packet of one of them.
func TestSpaceBothFamilies(t *testing.T) {
	res, err := Run(spaceProject(t), Query{From: "any", To: "web", Proto: policy.TCP, Port: 443})
	require.NoError(t, err)
	require.Len(t, res.Parts, 2)
	for _, pt := range res.Parts {
		fams := map[bool]bool{}
		for _, r := range pt.Regions {
			for _, pr := range append(append([]netip.Prefix(nil), r.Sources...), r.Destinations...) {
				fams[pr.Addr().Is4()] = true
			}
			for _, s := range r.Sources {
				for _, d := range r.Destinations {
					assert.Equal(t, s.Addr().Is4(), d.Addr().Is4(), "a region never mixes families")
				}
			}
		}
		assert.Len(t, fams, 2, "IPv4 and IPv6")
	}
	assert.Contains(t, res.Parts[1].Regions[0].SourcesText, "blocked (")
	assert.Contains(t, res.Parts[0].Regions[0].SourcesText, "any IPv")
	assert.Contains(t, res.Parts[0].Regions[0].SourcesText, " except ")
}

// TestSpaceOnePacket: a question about concrete addresses and one port is
// answered path by path, as before: the address the world used to stand
// for is denied, on its own.
func TestSpaceOnePacket(t *testing.T) {
	p := spaceProject(t)
	res, err := Run(p, Query{From: "203.0.113.10", To: "web-1", Proto: policy.TCP, Port: 443})
	require.NoError(t, err)
	assert.Empty(t, res.Parts)
	require.Len(t, res.Paths, 1)
	assert.Equal(t, Denied, res.Verdict)
	assert.Equal(t, "web-1/input", res.Paths[0].DecidedBy)

	// Between hosts: every path; some permitted and some not is partly.
	res, err = Run(p, Query{From: "web", To: "db-1", Proto: policy.TCP, Port: 5432})
	require.NoError(t, err)
	assert.Empty(t, res.Parts)
	assert.Len(t, res.Paths, 4, "web-1 and web-2, IPv4 and IPv6")
	assert.Equal(t, Permitted, res.Verdict)
	res, err = Run(p, Query{From: "db-1", To: "web", Proto: policy.TCP, Port: 443})
	require.NoError(t, err)
	assert.Equal(t, Permitted, res.Verdict, "the world includes db-1")
}

// TestSpaceAgreesWithEval: every example packet, run through each device's
// filter with intent.Eval, meets the rule its check names, and the verdict
// is the conjunction.
func TestSpaceAgreesWithEval(t *testing.T) {
	projects := map[string]*project.Project{"space": spaceProject(t)}
	for _, sys := range []string{"clearwater", "satellite-junos"} {
		pb := "../../playbooks/" + sys + ".yml"
		if sys == "satellite-junos" {
			pb = "../../playbooks/satellite.yml"
		}
		p, err := project.Load(project.Options{Inventory: "../../inventory/examples/" + sys, Playbook: pb})
		require.NoError(t, err)
		projects[sys] = p
	}
	queries := map[string][]Query{
		"space":           {{From: "any", To: "web", Proto: policy.TCP, Port: 1, PortTo: 65535}, {From: "any", To: "any", Proto: policy.TCP, Port: 443}},
		"clearwater":      {{From: "any", To: "sprout", Proto: policy.TCP, Port: 5000, PortTo: 5100}, {From: "any", To: "homer", Proto: policy.ICMP, ICMPType: 8}},
		"satellite-junos": {{From: "any", To: "capsule", Proto: policy.TCP, Port: 1, PortTo: 10000}, {From: "client", To: "any", Proto: policy.UDP, Port: 53}},
	}
	for sys, qs := range queries {
		p := projects[sys]
		for _, q := range qs {
			res, err := Run(p, q)
			require.NoError(t, err, "%s %v", sys, q)
			require.NotEmpty(t, res.Parts)
			for _, pt := range res.Parts {
				ex := pt.Example
				pkt := intent.Packet{Src: ex.From.Addr, Dst: ex.To.Addr, Proto: q.Proto, Port: uint16(ex.Port), ICMPType: q.ICMPType}
				permitted := true
				for _, c := range ex.Checks {
					in := p.Intents[c.Device]
					require.NotNil(t, in, c.Device)
					v := in.Eval(in.Filter(c.Filter), pkt)
					assert.Equal(t, c.Permit, v.Permit, "%s %s: %s/%s", sys, q, c.Device, c.Filter)
					rule := "default-deny"
					if v.Rule != nil {
						rule = v.Rule.ID
					}
					assert.Equal(t, c.Rule, rule, "%s %s: %s/%s", sys, q, c.Device, c.Filter)
					permitted = permitted && v.Permit
				}
				assert.Equal(t, permitted, pt.Permitted, "%s %s", sys, q)
				assert.True(t, regionsHold(pt.Regions, ex), "%s %s: the example %s → %s lies in its part", sys, q, ex.From.Addr, ex.To.Addr)
			}
		}
	}
}

func regionsHold(rs []Region, ex Path) bool {
	for _, r := range rs {
		if prefixesHold(r.Sources, ex.From.Addr) && prefixesHold(r.Destinations, ex.To.Addr) &&
			(len(r.Ports) == 0 || portIn(r.Ports, ex.Port)) {
			return true
		}
	}
	return false
}

func prefixesHold(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func portIn(rs []policy.PortRange, port int) bool {
	for _, r := range rs {
		if r.Contains(uint16(port)) {
			return true
		}
	}
	return false
}

// TestSpaceExhaustive: on a space small enough to enumerate (a /24
// straddling the blocked network's edge, both web hosts, seven ports),
// every packet is in exactly one region, and the single-packet answer for
// it has the verdict and the deciding device of that region's part.
func TestSpaceExhaustive(t *testing.T) {
	p := spaceProject(t)
	q := Query{From: "203.0.113.0/24", To: "web", Proto: policy.TCP, Port: 440, PortTo: 446}
	res, err := Run(p, q)
	require.NoError(t, err)
	assert.Equal(t, Partly, res.Verdict)
	srcs := netipx.MustParseIPRange("203.0.113.0-203.0.113.255")
	dsts := []string{"198.18.9.11", "198.18.9.12"}
	checked := 0
	for src := srcs.From(); srcs.Contains(src); src = src.Next() {
		for _, dst := range dsts {
			for port := q.Port; port <= q.PortTo; port++ {
				var in []Part
				for _, pt := range res.Parts {
					if regionsHold(pt.Regions, Path{From: Endpoint{Addr: src}, To: Endpoint{Addr: netip.MustParseAddr(dst)}, Port: port}) {
						in = append(in, pt)
					}
				}
				require.Len(t, in, 1, "%s → %s port %d in exactly one part", src, dst, port)
				one, err := Run(p, Query{From: src.String(), To: dst, Proto: policy.TCP, Port: port})
				require.NoError(t, err)
				require.Len(t, one.Paths, 1)
				assert.Equal(t, one.Paths[0].Permitted, in[0].Permitted, "%s → %s port %d", src, dst, port)
				assert.Equal(t, ruleOf(one.Paths[0]), ruleOf(in[0].Example), "%s → %s port %d", src, dst, port)
				checked++
			}
		}
	}
	assert.Equal(t, 256*2*7, checked)
}

// ruleOf is the rule that decides a path, or the last one met.
func ruleOf(p Path) string {
	for _, c := range p.Checks {
		if c.Decides {
			return c.Filter + ":" + c.Rule
		}
	}
	c := p.Checks[len(p.Checks)-1]
	return c.Filter + ":" + c.Rule
}
