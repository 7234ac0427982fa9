package verify

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/fwpush/fwpush/internal/endpoint"
	"github.com/fwpush/fwpush/internal/explain"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
)

// Probe is one connection attempt and what the policy says it should do.
type Probe struct {
	From   string       `json:"from"` // inventory host the probe runs on
	To     string       `json:"to"`   // destination host
	Src    netip.Addr   `json:"src"`
	Dst    netip.Addr   `json:"dst"`
	Proto  policy.Proto `json:"proto"`
	Port   uint16       `json:"port"`
	Expect bool         `json:"expect_permit"`
	// Flow is the number (from 1, as everywhere) of the playbook flow a
	// positive probe exercises, 0 for negatives; Why its reason or what
	// the negative probe tests.
	Flow int    `json:"flow,omitempty"`
	Why  string `json:"why"`
}

func (p Probe) String() string {
	want := "permit"
	if !p.Expect {
		want = "deny"
	}
	return fmt.Sprintf("%s → %s %s/%d (%s → %s) want %s", p.From, p.To, p.Proto, p.Port, p.Src, p.Dst, want)
}

// Options bound the generated probes.
type Options struct {
	// PerFlow caps positive probes per flow (destination hosts × ports).
	PerFlow int
	// Negatives is how many negative probes to add per destination host.
	Negatives int
}

// negativePorts are tried for negative probes, first denied one wins.
var negativePorts = []uint16{9, 2323, 31337, 4444, 6666}

// Generate derives probes from the project. Only TCP and UDP flows between
// managed hosts can be probed from inventory hosts; each probe's
// expectation is what explain says for that exact address pair, so
// overlapping flows and deny rules are accounted for.
func Generate(p *project.Project, o Options) ([]Probe, error) {
	if o.PerFlow <= 0 {
		o.PerFlow = 4
	}
	if o.Negatives < 0 {
		o.Negatives = 0
	}
	selected := map[string]bool{}
	for _, h := range p.Selected {
		selected[h.Name] = true
	}
	pick := newPicker(p)
	var out []Probe
	seen := map[string]bool{}
	add := func(pr Probe) error {
		key := fmt.Sprintf("%s|%s|%d|%d", pr.Src, pr.Dst, pr.Proto, pr.Port)
		if seen[key] {
			return nil
		}
		res, err := explain.Run(p, explain.Query{From: pr.Src.String(), To: pr.Dst.String(), Proto: pr.Proto, Port: int(pr.Port)})
		if err != nil {
			return err
		}
		seen[key] = true
		if !res.Permitted && rejected(res) {
			// The firewall answers with a refusal, which a probe cannot
			// tell from a closed port on a reachable host: no verdict.
			return nil
		}
		pr.Expect = res.Permitted
		out = append(out, pr)
		return nil
	}
	for _, f := range p.Playbook.Flows {
		if !p.Playbook.Enabled(f) || f.Deny {
			continue
		}
		dsts := managed(p, f.To, selected, false)
		srcs := managed(p, f.From, nil, true)
		n := 0
		for _, dst := range dsts {
			src := pick.source(srcs, dst)
			if src == nil {
				continue
			}
			for _, m := range f.Matches {
				if !m.Proto.HasPorts() || m.Proto == policy.SCTP || n >= o.PerFlow {
					continue
				}
				port := uint16(22222)
				if len(m.Ports) > 0 {
					port = m.Ports[0].Lo
				}
				s, d, ok := pair(src, dst)
				if !ok {
					continue
				}
				n++
				if err := add(Probe{From: src.Name, To: dst.Name, Src: s, Dst: d, Proto: m.Proto, Port: port, Flow: f.ID, Why: f.Why}); err != nil {
					return nil, err
				}
			}
		}
	}
	if o.Negatives > 0 {
		hosts := p.Inv.Select(nil)
		for _, dst := range p.Selected {
			src := pick.source(hosts, dst)
			if src == nil {
				continue
			}
			s, d, ok := pair(src, dst)
			if !ok {
				continue
			}
			added := 0
			for _, port := range negativePorts {
				if added >= o.Negatives {
					break
				}
				before := len(out)
				if err := add(Probe{From: src.Name, To: dst.Name, Src: s, Dst: d, Proto: policy.TCP, Port: port,
					Why: "unlisted port must be blocked"}); err != nil {
					return nil, err
				}
				if len(out) > before && !out[len(out)-1].Expect {
					added++
				} else if len(out) > before {
					out = out[:len(out)-1] // permitted by some flow: not a negative probe
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From < out[j].From })
	return out, nil
}

// managed returns the inventory hosts an endpoint list selects, as
// compile reads it (endpoint.Resolver.Hosts: `any` selects every host):
// probe-capable ones for sources; any host for destinations, which only
// need to be reachable (a Windows host enforces its rules on what probes
// send it).
func managed(p *project.Project, names []string, keep map[string]bool, sources bool) []*inventory.Host {
	var out []*inventory.Host
	for _, sel := range endpoint.New(p.Playbook, p.Inv).Hosts(names) {
		h := sel.Host
		if sources && !probeSource(p, h) {
			continue
		}
		if keep != nil && !keep[h.Name] {
			continue
		}
		out = append(out, h)
	}
	return out
}

// probeSource says whether probes can run on h (a shell over SSH exec).
func probeSource(p *project.Project, h *inventory.Host) bool {
	caps, err := p.Registry.Capabilities(h.Platform)
	return err == nil && caps.ProbeSource
}

// picker chooses probe sources. A probe that crosses a router's ACL
// tests the router as well as the destination, so when the project has
// network ACLs it prefers, for each destination, a source whose path to
// it crosses one; else the first source other than the destination.
type picker struct {
	p    *project.Project
	acls []acl
}

type acl struct {
	in *intent.Intent
	f  *intent.Filter
}

func newPicker(p *project.Project) *picker {
	pk := &picker{p: p}
	for _, name := range p.Inv.Names() {
		in := p.Intents[name]
		if in == nil {
			continue
		}
		for _, f := range in.Filters {
			if f.Binding.Kind == intent.Interface {
				pk.acls = append(pk.acls, acl{in, f})
			}
		}
	}
	return pk
}

func (pk *picker) source(srcs []*inventory.Host, dst *inventory.Host) *inventory.Host {
	var first *inventory.Host
	for _, s := range srcs {
		if s.Name == dst.Name || !probeSource(pk.p, s) {
			continue
		}
		if first == nil {
			first = s
			if len(pk.acls) == 0 {
				return s
			}
		}
		if pk.crosses(s, dst) {
			return s
		}
	}
	return first
}

// crosses reports whether the probe pair from s to d crosses a network
// ACL.
func (pk *picker) crosses(s, d *inventory.Host) bool {
	a, b, ok := pair(s, d)
	if !ok {
		return false
	}
	for _, x := range pk.acls {
		if x.in.OnPath(x.f, a, b) {
			return true
		}
	}
	return false
}

// pair picks an IPv4 pair, else IPv6.
func pair(src, dst *inventory.Host) (netip.Addr, netip.Addr, bool) {
	for _, want4 := range []bool{true, false} {
		var s, d netip.Addr
		for _, a := range src.Addresses {
			if a.Is4() == want4 {
				s = a
				break
			}
		}
		for _, a := range dst.Addresses {
			if a.Is4() == want4 {
				d = a
				break
			}
		}
		if s.IsValid() && d.IsValid() {
			return s, d, true
		}
	}
	return netip.Addr{}, netip.Addr{}, false
}

// rejected says whether a denied packet is denied by a reject rule (on
// some path, the deciding check).
func rejected(res *explain.Result) bool {
	for _, p := range res.Paths {
		for _, c := range p.Checks {
			if c.Decides && c.Reject {
				return true
			}
		}
	}
	return false
}
