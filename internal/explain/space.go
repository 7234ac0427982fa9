package explain

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
)

// A question over a space (from any, to a network, over a port range) is
// answered for every packet it covers, as Batfish's searchFilters does:
// the sources, destinations and ports are cut into atoms at every boundary
// any device could tell apart (every prefix of every address set, every
// device's and host's own address, every port range of a rule on the
// way), every atom combination is followed through the devices it meets,
// and the combinations treated alike (the same checks, the same rules,
// the same verdicts) form one Part. A sample address cannot stand for the
// whole internet: an address inside a deny made the internet look denied.

// Part is one way the packets of a question over a space are treated:
// every packet of its regions meets the same checks, matching the same
// rules.
type Part struct {
	Permitted bool   `json:"permitted"`
	DecidedBy string `json:"decided_by,omitempty"`
	// Regions are the packets of the part, each every combination of its
	// sources, destinations and ports.
	Regions []Region `json:"regions"`
	// Example is one packet of the part, followed through every check.
	Example Path `json:"example"`
}

// Region is every packet from one of Sources to one of Destinations on
// one of Ports (for tcp, udp and sctp).
type Region struct {
	Sources      []netip.Prefix     `json:"sources"`
	Destinations []netip.Prefix     `json:"destinations"`
	Ports        []policy.PortRange `json:"ports,omitempty"`
	// SourcesText and DestinationsText say the same for a terminal, with
	// host and network names ("any except cacti (198.19.1.0/28)").
	SourcesText      string `json:"-"`
	DestinationsText string `json:"-"`
}

// group collects the atom combinations treated one way.
type group struct {
	path   Path
	best   float64 // weight of the example's combination
	weight float64
	// ports per (source atom, destination atom).
	cells map[[2]int][]policy.PortRange
}

// answerSpace partitions the packets q covers into Parts. A host's
// traffic to itself (loopback, always permitted) is left out: it never
// reaches a network.
func answerSpace(ctx context.Context, p *project.Project, q Query, src, dst side, res *Result) error {
	cuts := cutPoints(p)
	srcSet, dstSet := src.set(), dst.set()
	sAtoms, dAtoms := atoms(srcSet, cuts), atoms(dstSet, cuts)
	groups := map[string]*group{}
	var sEP, dEP []Endpoint
	for _, a := range sAtoms {
		sEP = append(sEP, atomEndpoint(p, src, a))
	}
	for _, a := range dAtoms {
		dEP = append(dEP, atomEndpoint(p, dst, a))
	}
	for si, s := range sEP {
		for di, d := range dEP {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if !samePath(q, s.Addr, d.Addr) || isLoopback(s, d) {
				continue
			}
			hs := hops(p, s, d, false)
			for _, pr := range portAtoms(q, hs) {
				qq := q
				qq.Port = int(pr.Lo)
				path := evalHops(qq, s, d, false, hs)
				if q.Proto.HasPorts() {
					path.Port = int(pr.Lo)
				}
				key := behaviour(path)
				g := groups[key]
				if g == nil {
					g = &group{cells: map[[2]int][]policy.PortRange{}, best: -1}
					groups[key] = g
				}
				w := rangeSize(sAtoms[si]) * rangeSize(dAtoms[di]) * float64(int(pr.Hi)-int(pr.Lo)+1)
				g.weight += w
				if w > g.best {
					g.best, g.path = w, path
				}
				c := [2]int{si, di}
				g.cells[c] = append(g.cells[c], pr)
			}
		}
	}
	if len(groups) == 0 {
		return fmt.Errorf("no path from %q to %q: no addresses of a common family", q.From, q.To)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := groups[keys[i]], groups[keys[j]]
		if a.path.Permitted != b.path.Permitted {
			return a.path.Permitted
		}
		if a.weight != b.weight {
			return a.weight > b.weight
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		g := groups[k]
		part := Part{Permitted: g.path.Permitted, DecidedBy: g.path.DecidedBy, Example: g.path,
			Regions: regions(g, sAtoms, dAtoms, q.Proto.HasPorts())}
		for i := range part.Regions {
			r := &part.Regions[i]
			r.SourcesText = describe(p, srcSet, r.Sources, src.name)
			r.DestinationsText = describe(p, dstSet, r.Destinations, dst.name)
		}
		res.Parts = append(res.Parts, part)
		res.Paths = append(res.Paths, g.path)
	}
	return nil
}

// behaviour is what makes two packets treated alike: the checks they
// meet and how each decides. Host filters count by what they are (the
// source's output, the destination's input) and rules by the flows they
// carry, not by host: a flow permitted on every host of a role is one
// part, not one per host. Network ACLs count by device and name.
func behaviour(p Path) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v", p.Permitted)
	for _, c := range p.Checks {
		where := c.Filter
		if c.Interface != "" {
			where = c.Device + "/" + c.Filter
		}
		rule := c.Rule
		if len(c.Flows) > 0 {
			rule = fmt.Sprint(c.Flows)
		}
		fmt.Fprintf(&b, "|%s:%s:%v", where, rule, c.Permit)
	}
	return b.String()
}

// regions turns a group's atom combinations into products: ports merged
// per combination, then sources per (destination, ports), then
// destinations per (sources, ports).
func regions(g *group, sAtoms, dAtoms []netipx.IPRange, ports bool) []Region {
	type byDst struct {
		di    int
		ports string
	}
	portSets := map[string][]policy.PortRange{}
	srcs := map[byDst][]int{}
	var order []byDst
	for c, prs := range g.cells {
		prs = policy.MergePorts(prs)
		k := byDst{c[1], portsKey(prs)}
		portSets[k.ports] = prs
		if _, ok := srcs[k]; !ok {
			order = append(order, k)
		}
		srcs[k] = append(srcs[k], c[0])
	}
	type bySrc struct{ src, ports string }
	dsts := map[bySrc][]int{}
	srcPrefixes := map[string][]netip.Prefix{}
	var order2 []bySrc
	sort.Slice(order, func(i, j int) bool {
		return order[i].di < order[j].di || order[i].di == order[j].di && order[i].ports < order[j].ports
	})
	for _, k := range order {
		ps := prefixesOf(srcs[k], sAtoms)
		sk := fmt.Sprint(ps)
		srcPrefixes[sk] = ps
		k2 := bySrc{sk, k.ports}
		if _, ok := dsts[k2]; !ok {
			order2 = append(order2, k2)
		}
		dsts[k2] = append(dsts[k2], k.di)
	}
	out := make([]Region, 0, len(order2))
	for _, k := range order2 {
		r := Region{Sources: srcPrefixes[k.src], Destinations: prefixesOf(dsts[k], dAtoms)}
		if ports {
			r.Ports = portSets[k.ports]
		}
		out = append(out, r)
	}
	return out
}

func portsKey(prs []policy.PortRange) string {
	parts := make([]string, len(prs))
	for i, p := range prs {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func prefixesOf(idx []int, atoms []netipx.IPRange) []netip.Prefix {
	var b netipx.IPSetBuilder
	for _, i := range idx {
		b.AddRange(atoms[i])
	}
	s, _ := b.IPSet()
	return s.Prefixes()
}

// set is everything the side covers.
func (sd side) set() *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, e := range sd.points {
		b.Add(e.Addr)
	}
	for _, pr := range sd.nets {
		b.AddPrefix(pr)
	}
	s, _ := b.IPSet()
	return s
}

// cutPoints are the first addresses of the atoms: where a prefix any
// device names starts or ends, and every device's and host's own
// address, alone.
func cutPoints(p *project.Project) []netip.Addr {
	seen := map[netip.Addr]bool{}
	add := func(a netip.Addr) {
		if a.IsValid() {
			seen[a] = true
		}
	}
	addPrefix := func(pr netip.Prefix) {
		pr = pr.Masked()
		add(pr.Addr())
		add(netipx.PrefixLastIP(pr).Next())
	}
	addAddr := func(a netip.Addr) {
		add(a)
		add(a.Next())
	}
	for _, in := range p.Intents {
		for _, s := range in.Sets {
			for _, pr := range s.Prefixes {
				addPrefix(pr)
			}
		}
		for _, a := range in.Addresses {
			addAddr(a)
		}
	}
	for _, h := range p.Inv.Hosts {
		for _, a := range h.Addresses {
			addAddr(a)
		}
	}
	for _, n := range p.Inv.Networks {
		for _, pr := range n.Prefixes {
			addPrefix(pr)
		}
	}
	for _, pr := range p.Inv.Management {
		addPrefix(pr)
	}
	out := make([]netip.Addr, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// atoms cuts set at the cut points: no atom straddles a boundary.
func atoms(set *netipx.IPSet, cuts []netip.Addr) []netipx.IPRange {
	var out []netipx.IPRange
	for _, r := range set.Ranges() {
		from, to := r.From(), r.To()
		i := sort.Search(len(cuts), func(i int) bool { return from.Less(cuts[i]) })
		for ; i < len(cuts) && cuts[i].Is4() == from.Is4() && !to.Less(cuts[i]); i++ {
			out = append(out, netipx.IPRangeFrom(from, cuts[i].Prev()))
			from = cuts[i]
		}
		out = append(out, netipx.IPRangeFrom(from, to))
	}
	return out
}

// atomEndpoint is the address an atom is asked about: the side's own
// endpoint when the atom is one of its addresses, else a world address
// the atom holds, else an address inside it (not a network's first).
func atomEndpoint(p *project.Project, sd side, r netipx.IPRange) Endpoint {
	a := r.From()
	if a == r.To() {
		for _, e := range sd.points {
			if e.Addr == a {
				return e
			}
		}
	} else {
		a = a.Next()
		for _, w := range world {
			if r.Contains(w) {
				a = w
			}
		}
	}
	ep := Endpoint{Addr: a, Host: hostOf(p, a), Name: sd.name}
	if p.Inv.Networks[sd.name] != nil {
		return ep
	}
	// Else the network the address is in, if the inventory names one.
	ep.Name = ""
	if sd.name == policy.Any {
		ep.Name = policy.Any
	}
	for _, n := range sortedNetworks(p) {
		for _, pr := range p.Inv.Networks[n].Prefixes {
			if pr.Contains(a) {
				ep.Name = n
				return ep
			}
		}
	}
	return ep
}

// portAtoms cuts the question's ports at every port range of a rule on
// the way that names the question's protocol; a protocol without ports
// is one atom.
func portAtoms(q Query, hs []hop) []policy.PortRange {
	if !q.Proto.HasPorts() {
		return []policy.PortRange{{}}
	}
	lo, hi := q.Port, q.PortTo
	if hi == 0 {
		hi = lo
	}
	cut := map[int]bool{}
	for _, h := range hs {
		for _, r := range h.f.Rules {
			if r.AnyProto || r.Proto != q.Proto {
				continue
			}
			for _, pr := range r.Ports {
				cut[int(pr.Lo)], cut[int(pr.Hi)+1] = true, true
			}
		}
	}
	var points []int
	for c := range cut {
		if c > lo && c <= hi {
			points = append(points, c)
		}
	}
	sort.Ints(points)
	var out []policy.PortRange
	for _, c := range points {
		out = append(out, policy.PortRange{Lo: uint16(lo), Hi: uint16(c - 1)})
		lo = c
	}
	return append(out, policy.PortRange{Lo: uint16(lo), Hi: uint16(hi)})
}

// rangeSize is how many addresses r holds, as a float (IPv6 ranges
// exceed every integer type).
func rangeSize(r netipx.IPRange) float64 {
	from, to := r.From().AsSlice(), r.To().AsSlice()
	var f, t float64
	for i := range from {
		f = f*256 + float64(from[i])
		t = t*256 + float64(to[i])
	}
	return math.Max(t-f, 0) + 1
}

// describe says which part of whole (named name) ps are: all of it, all
// of it except a few prefixes, or the prefixes themselves, each named.
func describe(p *project.Project, whole *netipx.IPSet, ps []netip.Prefix, name string) string {
	var b netipx.IPSetBuilder
	b.AddSet(whole)
	// A part of one family is told against that family of the whole.
	family := ""
	for _, fam := range []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")} {
		in := false
		for _, pr := range ps {
			in = in || pr.Addr().Is4() == fam.Addr().Is4()
		}
		if !in && whole.OverlapsPrefix(fam) {
			b.RemovePrefix(fam)
			family = " IPv4"
			if fam.Addr().Is4() {
				family = " IPv6"
			}
		}
	}
	for _, pr := range ps {
		b.RemovePrefix(pr)
	}
	rest, _ := b.IPSet()
	restP := rest.Prefixes()
	switch {
	case len(restP) == 0:
		return name + family
	case len(restP) < len(ps):
		return name + family + " except " + namePrefixes(p, restP)
	}
	return namePrefixes(p, ps)
}

// namePrefixes lists prefixes with the host or network each is; a long
// list ends with how many more there are (JSON lists them all).
func namePrefixes(p *project.Project, ps []netip.Prefix) string {
	const most = 6
	var out []string
	for i, pr := range ps {
		if i == most {
			out = append(out, fmt.Sprintf("… %d more", len(ps)-most))
			break
		}
		out = append(out, namePrefix(p, pr))
	}
	return strings.Join(out, ", ")
}

func namePrefix(p *project.Project, pr netip.Prefix) string {
	switch {
	case pr.Bits() == 0 && pr.Addr().Is4():
		return "any IPv4"
	case pr.Bits() == 0:
		return "any IPv6"
	case pr.IsSingleIP():
		if h := hostOf(p, pr.Addr()); h != "" {
			return fmt.Sprintf("%s (%s)", h, pr.Addr())
		}
		return pr.Addr().String()
	}
	for _, name := range sortedNetworks(p) {
		for _, np := range p.Inv.Networks[name].Prefixes {
			if np.Masked() == pr {
				return fmt.Sprintf("%s (%s)", name, pr)
			}
		}
	}
	return pr.String()
}

func sortedNetworks(p *project.Project) []string {
	out := make([]string, 0, len(p.Inv.Networks))
	for n := range p.Inv.Networks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
