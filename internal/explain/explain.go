package explain

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/internal/endpoint"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
)

// Query is the packet question. From and To take a role, a host, a network
// name, an address, a prefix or any; a role means every host and network
// of the role. Port is for the protocols that carry ports (tcp, udp, sctp)
// and required there; PortTo, when set, makes it the range Port-PortTo.
// ICMPType is for icmp and icmpv6 (0-255, echo-request is 8 and 128);
// other protocols take neither.
type Query struct {
	From, To string
	Proto    policy.Proto
	Port     int
	PortTo   int
	ICMPType int
}

// Validate refuses a query whose printed form would not be what is
// evaluated: a port on a protocol without ports (ICMP has types, not
// ports), a missing or out-of-range port, an out-of-range ICMP type.
func (q Query) Validate() error {
	switch {
	case q.From == "" || q.To == "":
		return errors.New("--from and --to are required")
	case q.Proto.HasPorts() && (q.Port < 1 || q.Port > 65535):
		return fmt.Errorf("--port: %d is outside 1-65535 (required for %s)", q.Port, q.Proto)
	case q.PortTo != 0 && !q.Proto.HasPorts():
		return fmt.Errorf("--port: %s has no ports", q.Proto)
	case q.PortTo != 0 && (q.PortTo < q.Port || q.PortTo > 65535):
		return fmt.Errorf("--port: range %d-%d: want low-high within 1-65535", q.Port, q.PortTo)
	case q.Proto.IsICMP() && q.Port != 0:
		hint := "a type name such as echo-request, or a number 0-255"
		if q.Port > 0 && q.Port <= 255 {
			hint = fmt.Sprintf("--icmp-type %s is type %d", policy.ICMPTypeName(q.Proto, q.Port), q.Port)
		}
		return fmt.Errorf("--port: %s has no ports, it has types: give the type with --icmp-type (%s)", q.Proto, hint)
	case q.Proto.IsICMP() && (q.ICMPType < 0 || q.ICMPType > 255):
		return fmt.Errorf("--icmp-type: %d is outside 0-255", q.ICMPType)
	case !q.Proto.HasPorts() && q.Port != 0:
		return fmt.Errorf("--port: %s has no ports", q.Proto)
	case !q.Proto.IsICMP() && q.ICMPType != 0:
		return fmt.Errorf("--icmp-type: only for icmp and icmpv6, not %s", q.Proto)
	}
	return nil
}

// String is the flow as evaluated: tcp/5054, tcp/1-1024, icmp/echo-request, gre.
func (q Query) String() string {
	switch {
	case q.Proto.HasPorts() && q.PortTo != 0 && q.PortTo != q.Port:
		return fmt.Sprintf("%s/%d-%d", q.Proto, q.Port, q.PortTo)
	case q.Proto.HasPorts():
		return fmt.Sprintf("%s/%d", q.Proto, q.Port)
	case q.Proto.IsICMP():
		return q.Proto.String() + "/" + policy.ICMPTypeName(q.Proto, q.ICMPType)
	}
	return q.Proto.String()
}

// Verdicts of a Result.
const (
	Permitted = "permitted"
	Denied    = "denied"
	// Partly: some packets the question covers are permitted, others not.
	Partly = "partly"
)

// Result is the answer; Permitted is true only when every packet the
// question covers is. A question about concrete addresses and one port
// is answered path by path (Paths: every source address to every
// destination address); a question over a space (any, a network, a
// prefix, a port range) is answered in Parts, one per distinct way its
// packets are treated, and Paths then holds each part's example.
type Result struct {
	Query     QueryJSON `json:"query"`
	Permitted bool      `json:"permitted"`
	Verdict   string    `json:"verdict"`
	Paths     []Path    `json:"paths"`
	Parts     []Part    `json:"parts,omitempty"`
}

// QueryJSON is the query as printed. ICMPType is set for icmp and icmpv6
// only (so echo-reply, type 0, still shows).
type QueryJSON struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Proto    string `json:"proto"`
	Port     int    `json:"port,omitempty"`
	PortTo   int    `json:"port_to,omitempty"`
	ICMPType *int   `json:"icmp_type,omitempty"`
}

// Path is one source address to one destination address.
type Path struct {
	From      Endpoint `json:"from"`
	To        Endpoint `json:"to"`
	Permitted bool     `json:"permitted"`
	// Port is the destination port evaluated, for a question over a port
	// range (the query's port otherwise).
	Port int `json:"port,omitempty"`
	// Checks are the filters on the way, in the order the packet meets
	// them; none means no fwpush device filters this path.
	Checks []Check `json:"checks"`
	// DecidedBy names the device and filter that drop the packet, the
	// first on the way that denies it ("" when every one permits).
	DecidedBy string `json:"decided_by,omitempty"`
}

// Endpoint is one concrete address and what it belongs to.
type Endpoint struct {
	Addr netip.Addr `json:"addr"`
	Host string     `json:"host,omitempty"`
	Name string     `json:"name,omitempty"`
}

// Check is one filter's verdict.
type Check struct {
	Device  string   `json:"device"`
	Filter  string   `json:"filter"`
	Permit  bool     `json:"permit"`
	Rule    string   `json:"rule"`
	Why     []string `json:"why,omitempty"`
	Flows   []int    `json:"flows,omitempty"`
	Default bool     `json:"default_deny,omitempty"`
	// Reject: the rule denies and answers the sender (action: reject on
	// a platform that can), so the sender sees a refusal, not silence.
	Reject bool `json:"reject,omitempty"`
	// Interface and Direction place a network ACL on its device.
	Interface string `json:"interface,omitempty"`
	Direction string `json:"direction,omitempty"`
	// Decides marks the check that drops the packet.
	Decides bool `json:"decides,omitempty"`
}

// Run answers q over the project's compiled Intents.
func Run(p *project.Project, q Query) (*Result, error) {
	return RunContext(context.Background(), p, q)
}

// RunContext is Run that stops when ctx is done: a role of thousands of
// hosts to another is millions of paths.
func RunContext(ctx context.Context, p *project.Project, q Query) (*Result, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	src, err := resolve(p, q.From)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	dst, err := resolve(p, q.To)
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	res := &Result{Query: QueryJSON{From: q.From, To: q.To, Proto: q.Proto.String(), Port: q.Port}}
	if q.PortTo != q.Port {
		res.Query.PortTo = q.PortTo
	}
	if q.Proto.IsICMP() {
		t := q.ICMPType
		res.Query.ICMPType = &t
	}
	if len(src.nets) > 0 || len(dst.nets) > 0 || q.PortTo != 0 && q.PortTo != q.Port {
		err = answerSpace(ctx, p, q, src, dst, res)
	} else {
		err = answerPaths(ctx, p, q, src.points, dst.points, res)
	}
	if err != nil {
		return nil, err
	}
	res.Permitted = true
	denied := false
	for _, path := range res.Paths {
		res.Permitted = res.Permitted && path.Permitted
		denied = denied || !path.Permitted
	}
	switch {
	case res.Permitted:
		res.Verdict = Permitted
	case len(res.Parts) > 0 && res.Parts[0].Permitted:
		res.Verdict = Partly
	case len(res.Parts) == 0 && denied && somePermitted(res.Paths):
		res.Verdict = Partly
	default:
		res.Verdict = Denied
	}
	return res, nil
}

func somePermitted(ps []Path) bool {
	for _, p := range ps {
		if p.Permitted {
			return true
		}
	}
	return false
}

// answerPaths is the answer for concrete endpoints: every path.
func answerPaths(ctx context.Context, p *project.Project, q Query, srcs, dsts []Endpoint, res *Result) error {
	for _, s := range srcs {
		for _, d := range dsts {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if !samePath(q, s.Addr, d.Addr) {
				continue
			}
			res.Paths = append(res.Paths, evalPath(p, q, s, d))
		}
	}
	if len(res.Paths) == 0 {
		return fmt.Errorf("no path from %q to %q: no addresses of a common family", q.From, q.To)
	}
	return nil
}

// samePath says whether a packet of q can go from s to d: both of one
// family, and ICMP is IPv4's, ICMPv6 IPv6's.
func samePath(q Query, s, d netip.Addr) bool {
	if s.Is4() != d.Is4() {
		return false
	}
	return !(q.Proto == policy.ICMP && !d.Is4() || q.Proto == policy.ICMPv6 && d.Is4())
}

// hop is one filter a packet meets.
type hop struct {
	in *intent.Intent
	f  *intent.Filter
}

// hops are the filters a packet from s to d meets, in order: the source
// host's output filter, then every network ACL on its way (those
// filtering what comes in from behind an interface, then those filtering
// what goes out to it; see intent.Intent.OnPath), then the destination
// host's input filter.
func hops(p *project.Project, s, d Endpoint, loopback bool) []hop {
	var out []hop
	if s.Host != "" {
		if in := p.Intents[s.Host]; in != nil {
			if f := in.Filter("output"); f != nil {
				out = append(out, hop{in, f})
			}
		}
	}
	if !loopback {
		for _, dir := range []string{"in", "out"} {
			for _, name := range sortedHosts(p.Intents) {
				in := p.Intents[name]
				for _, f := range in.Filters {
					if f.Binding.Direction == dir && in.OnPath(f, s.Addr, d.Addr) {
						out = append(out, hop{in, f})
					}
				}
			}
		}
	}
	if d.Host != "" {
		if in := p.Intents[d.Host]; in != nil {
			if f := in.Filter("input"); f != nil {
				out = append(out, hop{in, f})
			}
		}
	}
	return out
}

// isLoopback: a host talking to itself does so over loopback.
func isLoopback(s, d Endpoint) bool {
	return s.Addr == d.Addr || s.Host != "" && s.Host == d.Host
}

// evalPath follows one packet from s to d through every filter on its
// way. Every device is asked, so the answer shows them all; the first
// that denies decides.
func evalPath(p *project.Project, q Query, s, d Endpoint) Path {
	loop := isLoopback(s, d)
	return evalHops(q, s, d, loop, hops(p, s, d, loop))
}

func evalHops(q Query, s, d Endpoint, loop bool, hs []hop) Path {
	pkt := intent.Packet{Src: s.Addr, Dst: d.Addr, Proto: q.Proto, Port: uint16(q.Port), ICMPType: q.ICMPType, Loopback: loop}
	path := Path{From: s, To: d, Permitted: true}
	for _, h := range hs {
		v := h.in.Eval(h.f, pkt)
		c := Check{Device: h.in.Host, Filter: h.f.Name, Permit: v.Permit, Rule: "default-deny", Default: v.Rule == nil}
		if v.Rule != nil {
			c.Rule, c.Why, c.Flows, c.Reject = v.Rule.ID, v.Rule.Why, v.Rule.Flows, v.Rule.Reject
		}
		if h.f.Binding.Kind == intent.Interface {
			c.Interface, c.Direction = h.f.Binding.Interface, h.f.Binding.Direction
		}
		if !v.Permit && path.Permitted {
			c.Decides = true
			path.DecidedBy = h.in.Host + "/" + h.f.Name
		}
		path.Permitted = path.Permitted && v.Permit
		path.Checks = append(path.Checks, c)
	}
	return path
}

func sortedHosts(m map[string]*intent.Intent) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// World addresses stand for `any` in examples where the part holds them:
// documentation ranges outside the lab, used only for evaluation, never
// sent to.
var world = []netip.Addr{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("3fff::10")}

// side is what a --from or --to value covers: concrete addresses (hosts'
// and literal ones) and, for any, networks and prefixes, whole prefixes.
type side struct {
	name   string
	points []Endpoint
	nets   []netip.Prefix
}

// resolve reads a --from/--to value.
func resolve(p *project.Project, name string) (side, error) {
	sd := side{name: name}
	addHosts := func(hs []*inventory.Host) {
		for _, h := range hs {
			for _, a := range h.Addresses {
				sd.points = append(sd.points, Endpoint{Addr: a, Host: h.Name})
			}
		}
	}
	addNet := func(label string, ps []netip.Prefix) {
		for _, pr := range ps {
			if pr.IsSingleIP() {
				sd.points = append(sd.points, Endpoint{Addr: pr.Addr(), Host: hostOf(p, pr.Addr()), Name: label})
			} else {
				sd.nets = append(sd.nets, pr.Masked())
			}
		}
	}
	// The playbook's own forms (host:NAME, a prefix, management) mean
	// what they mean in a flow (see package endpoint).
	switch endpoint.New(p.Playbook, p.Inv).Kind(name) {
	case endpoint.Host:
		addHosts([]*inventory.Host{p.Inv.Hosts[strings.TrimPrefix(name, policy.HostPrefix)]})
		return sd, nil
	case endpoint.Management:
		if len(p.Inv.Management) == 0 {
			return sd, errors.New("the inventory declares no management networks")
		}
		addNet(name, p.Inv.Management)
		return sd, nil
	}
	switch {
	case name == policy.Any:
		sd.nets = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
		return sd, nil
	case p.Inv.Hosts[name] != nil:
		addHosts([]*inventory.Host{p.Inv.Hosts[name]})
		return sd, nil
	case p.Inv.Networks[name] != nil:
		addNet(name, p.Inv.Networks[name].Prefixes)
		return sd, nil
	}
	if _, isRole := p.Playbook.Roles[name]; isRole || p.Inv.Groups[name] != nil {
		addHosts(p.Inv.HostsWithRole(name))
		for _, n := range p.Inv.NetworksWithRole(name) {
			addNet(n.Name, n.Prefixes)
		}
		if len(sd.points)+len(sd.nets) == 0 {
			return sd, fmt.Errorf("role %q has no host or network in the inventory", name)
		}
		return sd, nil
	}
	if a, err := netip.ParseAddr(name); err == nil {
		a = a.Unmap()
		sd.points = []Endpoint{{Addr: a, Host: hostOf(p, a)}}
		return sd, nil
	}
	if pr, err := netip.ParsePrefix(name); err == nil {
		if pr.Addr().Is4In6() && pr.Bits() >= 96 {
			pr = netip.PrefixFrom(pr.Addr().Unmap(), pr.Bits()-96)
		}
		addNet("", []netip.Prefix{pr})
		return sd, nil
	}
	return sd, fmt.Errorf("%q is not a role, host, network, address, prefix or any", name)
}

// hostOf names the inventory host owning a, if any.
func hostOf(p *project.Project, a netip.Addr) string {
	for _, name := range p.Inv.Names() {
		for _, ha := range p.Inv.Hosts[name].Addresses {
			if ha == a {
				return name
			}
		}
	}
	return ""
}
