package explain

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/internal/endpoint"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
)

// Query is the packet question. From and To take a role, a host (by name
// or host:NAME), a network name, an address or prefix, management or any,
// as a flow's from and to do; a role means every host of the role. Port is
// for the protocols that carry ports (tcp, udp, sctp) and required there;
// ICMPType is for icmp and icmpv6 (0-255, echo-request is 8 and 128);
// other protocols take neither.
type Query struct {
	From, To string
	Proto    policy.Proto
	Port     int
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

// String is the flow as evaluated: tcp/5054, icmp/echo-request, gre.
func (q Query) String() string {
	switch {
	case q.Proto.HasPorts():
		return fmt.Sprintf("%s/%d", q.Proto, q.Port)
	case q.Proto.IsICMP():
		return q.Proto.String() + "/" + policy.ICMPTypeName(q.Proto, q.ICMPType)
	}
	return q.Proto.String()
}

// Result is the answer; Permitted is true only when every path is.
type Result struct {
	Query     QueryJSON `json:"query"`
	Permitted bool      `json:"permitted"`
	Paths     []Path    `json:"paths"`
}

// QueryJSON is the query as printed. ICMPType is set for icmp and icmpv6
// only (so echo-reply, type 0, still shows).
type QueryJSON struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Proto    string `json:"proto"`
	Port     int    `json:"port,omitempty"`
	ICMPType *int   `json:"icmp_type,omitempty"`
}

// Path is one source address to one destination address.
type Path struct {
	From      Endpoint `json:"from"`
	To        Endpoint `json:"to"`
	Permitted bool     `json:"permitted"`
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
	srcs, err := endpoints(p, q.From)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	dsts, err := endpoints(p, q.To)
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	res := &Result{Permitted: true, Query: QueryJSON{From: q.From, To: q.To, Proto: q.Proto.String(), Port: q.Port}}
	if q.Proto.IsICMP() {
		t := q.ICMPType
		res.Query.ICMPType = &t
	}
	for _, s := range srcs {
		for _, d := range dsts {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			if s.Addr.Is4() != d.Addr.Is4() {
				continue
			}
			// ICMP is IPv4's and ICMPv6 is IPv6's: no cross-family paths.
			if q.Proto == policy.ICMP && !d.Addr.Is4() || q.Proto == policy.ICMPv6 && d.Addr.Is4() {
				continue
			}
			path := evalPath(p, q, s, d)
			res.Permitted = res.Permitted && path.Permitted
			res.Paths = append(res.Paths, path)
		}
	}
	if len(res.Paths) == 0 {
		return nil, fmt.Errorf("no path from %q to %q: no addresses of a common family", q.From, q.To)
	}
	return res, nil
}

// evalPath follows one packet from s to d: the source host's output
// filter, then every network ACL on its way (those filtering what comes in
// from behind an interface, then those filtering what goes out to it; see
// intent.Intent.OnPath), then the destination host's input filter. Every
// device is asked, so the answer shows them all; the first that denies
// decides.
func evalPath(p *project.Project, q Query, s, d Endpoint) Path {
	pkt := intent.Packet{Src: s.Addr, Dst: d.Addr, Proto: q.Proto, Port: uint16(q.Port), ICMPType: q.ICMPType,
		// A host talking to itself does so over loopback.
		Loopback: s.Addr == d.Addr || s.Host != "" && s.Host == d.Host}
	path := Path{From: s, To: d, Permitted: true}
	check := func(in *intent.Intent, f *intent.Filter) {
		v := in.Eval(f, pkt)
		c := Check{Device: in.Host, Filter: f.Name, Permit: v.Permit, Rule: "default-deny", Default: v.Rule == nil}
		if v.Rule != nil {
			c.Rule, c.Why, c.Flows, c.Reject = v.Rule.ID, v.Rule.Why, v.Rule.Flows, v.Rule.Reject
		}
		if f.Binding.Kind == intent.Interface {
			c.Interface, c.Direction = f.Binding.Interface, f.Binding.Direction
		}
		if !v.Permit && path.Permitted {
			c.Decides = true
			path.DecidedBy = in.Host + "/" + f.Name
		}
		path.Permitted = path.Permitted && v.Permit
		path.Checks = append(path.Checks, c)
	}
	if s.Host != "" {
		if in := p.Intents[s.Host]; in != nil {
			if f := in.Filter("output"); f != nil {
				check(in, f)
			}
		}
	}
	if !pkt.Loopback {
		for _, dir := range []string{"in", "out"} {
			for _, name := range sortedHosts(p.Intents) {
				in := p.Intents[name]
				for _, f := range in.Filters {
					if f.Binding.Direction == dir && in.OnPath(f, s.Addr, d.Addr) {
						check(in, f)
					}
				}
			}
		}
	}
	if d.Host != "" {
		if in := p.Intents[d.Host]; in != nil {
			if f := in.Filter("input"); f != nil {
				check(in, f)
			}
		}
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

// World addresses stand for `any`: documentation ranges outside the lab,
// used only for evaluation, never sent to.
var world = []netip.Addr{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("3fff::10")}

// endpoints resolves a --from/--to value to concrete addresses.
func endpoints(p *project.Project, name string) ([]Endpoint, error) {
	hostEPs := func(hs []*inventory.Host) []Endpoint {
		var out []Endpoint
		for _, h := range hs {
			for _, a := range h.Addresses {
				out = append(out, Endpoint{Addr: a, Host: h.Name})
			}
		}
		return out
	}
	netEPs := func(label string, ps []netip.Prefix) []Endpoint {
		var out []Endpoint
		for _, pr := range ps {
			a := pr.Addr()
			if pr.Bits() < a.BitLen() {
				a = a.Next() // a usable address inside the network, not its network address
			}
			out = append(out, Endpoint{Addr: a, Name: label})
		}
		return out
	}
	// The playbook's own forms (host:NAME, a prefix, management) mean
	// what they mean in a flow (see package endpoint).
	switch endpoint.New(p.Playbook, p.Inv).Kind(name) {
	case endpoint.Host:
		return hostEPs([]*inventory.Host{p.Inv.Hosts[strings.TrimPrefix(name, policy.HostPrefix)]}), nil
	case endpoint.Management:
		if len(p.Inv.Management) == 0 {
			return nil, errors.New("the inventory declares no management networks")
		}
		return owned(p, netEPs(name, p.Inv.Management)), nil
	case endpoint.Prefix:
		ep, _ := policy.ParseEndpoint(name)
		if ep.Prefix.IsSingleIP() {
			return owned(p, []Endpoint{{Addr: ep.Prefix.Addr()}}), nil
		}
		return owned(p, netEPs(name, []netip.Prefix{ep.Prefix})), nil
	}
	switch {
	case name == policy.Any:
		return []Endpoint{{Addr: world[0], Name: "any"}, {Addr: world[1], Name: "any"}}, nil
	case p.Inv.Hosts[name] != nil:
		return hostEPs([]*inventory.Host{p.Inv.Hosts[name]}), nil
	case p.Inv.Networks[name] != nil:
		return netEPs(name, p.Inv.Networks[name].Prefixes), nil
	}
	if _, isRole := p.Playbook.Roles[name]; isRole || p.Inv.Groups[name] != nil {
		out := hostEPs(p.Inv.HostsWithRole(name))
		for _, n := range p.Inv.NetworksWithRole(name) {
			out = append(out, netEPs(n.Name, n.Prefixes)...)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("role %q has no host or network in the inventory", name)
		}
		return out, nil
	}
	if a, err := netip.ParseAddr(name); err == nil {
		a = a.Unmap()
		ep := Endpoint{Addr: a}
		for _, h := range p.Inv.Hosts {
			for _, ha := range h.Addresses {
				if ha == a {
					ep.Host = h.Name
				}
			}
		}
		return []Endpoint{ep}, nil
	}
	return nil, fmt.Errorf("%q is not a role, host, network, address or any", name)
}

// owned marks each sampled address a managed host owns with that host,
// so its own filters are asked, as for an address query.
func owned(p *project.Project, eps []Endpoint) []Endpoint {
	for i := range eps {
		for _, h := range p.Inv.Select(nil) {
			if slices.Contains(h.Addresses, eps[i].Addr) {
				eps[i].Host = h.Name
			}
		}
	}
	return eps
}
