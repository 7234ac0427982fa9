package capirca

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/internal/freetext"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
)

// ExportOptions choose what aclgen renders the exported policy for.
type ExportOptions struct {
	// Targets are Capirca platforms; each gets a dual-stack filter.
	// None means DefaultTargets.
	Targets []string
}

// DefaultTargets are the platforms an export renders for unless told.
var DefaultTargets = []string{"cisco", "juniper", "arista"}

// mixedTargets are the Capirca platforms whose `mixed` filter option
// renders IPv4 and IPv6 from one header.
var mixedTargets = map[string]bool{"cisco": true, "cisconx": true, "ciscoxr": true, "arista": true, "brocade": true, "juniper": true}

// Export is a playbook written as Capirca files: the policy (pol/NAME.pol
// under aclgen's base directory) and the definitions (def/NETWORK.net,
// def/SERVICES.svc).
type Export struct {
	Name     string
	Policy   string
	Networks string
	Services string
	// Left are the flows not exported (their feature is off), each
	// "flow N: feature F is off".
	Left []string
}

// Term names fwpush writes for its always-on rules; import reads them
// back as what they are rather than as flows.
const (
	termEstablished = "fwpush-established"
	termICMP        = "fwpush-icmp"
	termICMPv6      = "fwpush-icmpv6"
	termManagement  = "fwpush-management" // + "-PORT"
	termDefaultDeny = "fwpush-default-deny"
	// optionsComment is the header comment carrying the playbook
	// options Capirca has no keyword for.
	optionsComment = "fwpush options:"
	// Tokens of fwpush's own.
	tokenManagement = "FWPUSH_MANAGEMENT"
	tokenManaged    = "FWPUSH_MANAGED_" // + PORT: the hosts managed on it
)

// ExportProject writes the project's playbook, over its inventory, as
// one Capirca filter: fwpush's always-on rules, then one term per flow
// (several when Capirca's protocol × port product would widen it), in
// order, then the default deny. A role becomes a network token of its
// hosts' addresses and its networks' tokens; a service a service token.
func ExportProject(p *project.Project, o ExportOptions) (*Export, error) {
	targets := o.Targets
	if len(targets) == 0 {
		targets = DefaultTargets
	}
	for _, t := range targets {
		if !mixedTargets[t] {
			return nil, fmt.Errorf("--target %s: fwpush writes dual-stack (mixed) filters for %s; write the header for %s yourself",
				t, strings.Join(sortedKeys(mixedTargets), ", "), t)
		}
	}
	e := &exporter{p: p, pb: p.Playbook, inv: p.Inv, nets: map[string]*tokenDef{}, svcs: map[string]*tokenDef{}}
	var terms strings.Builder
	if err := e.baseTerms(&terms); err != nil {
		return nil, err
	}
	for _, f := range e.pb.Flows {
		if !e.pb.Enabled(f) {
			e.left = append(e.left, fmt.Sprintf("flow %d (line %d): feature %s is off", f.ID, f.Line, f.Feature))
			continue
		}
		if err := e.flow(&terms, f); err != nil {
			return nil, err
		}
	}
	// A Capirca header filters output for every host or none.
	if o := e.pb.Options; !o.Egress.All && len(o.Egress.Roles) > 0 {
		e.left = append(e.left, fmt.Sprintf("options.egress: output filtering of roles %s only", strings.Join(o.Egress.Roles, ", ")))
	}
	if o := e.pb.Options; o.Egress.On() && len(o.DNS)+len(o.NTP) > 0 {
		e.left = append(e.left, "options.dns and options.ntp (the essential output rules)")
	}
	if e.pb.Options.LogDrops {
		writeTerm(&terms, termDefaultDeny, []string{"log what the default deny drops (options.log_drops)"}, [][2]string{{"logging", "true"}, {"action", "deny"}})
	}
	var pol strings.Builder
	fmt.Fprintf(&pol, "# fwpush playbook %s, written by `fwpush export capirca`.\n", e.pb.Name)
	pol.WriteString("# Terms fwpush-* are fwpush's always-on rules; flow-N is the playbook's Nth flow.\n")
	for _, l := range e.left {
		fmt.Fprintf(&pol, "# Left out: %s.\n", l)
	}
	pol.WriteString("header {\n")
	if d := freetext.Line(e.pb.Description); d != "" {
		fmt.Fprintf(&pol, "  comment:: %s\n", quote(d))
	}
	if e.pb.Options.Egress.All {
		fmt.Fprintf(&pol, "  comment:: %s\n", quote(optionsComment+" egress"))
	}
	for _, t := range targets {
		fmt.Fprintf(&pol, "  target:: %s %s mixed\n", t, e.pb.Name)
	}
	pol.WriteString("}\n\n")
	pol.WriteString(terms.String())
	out := &Export{Name: e.pb.Name, Policy: pol.String(), Left: e.left}
	out.Networks, out.Services = e.defs()
	return out, nil
}

// tokenDef is one definition the export writes.
type tokenDef struct {
	owner string // what the token stands for, to catch two names on one token
	lines []string
}

type exporter struct {
	p          *project.Project
	pb         *policy.Playbook
	inv        *inventory.Inventory
	nets, svcs map[string]*tokenDef
	left       []string
}

// token is a fwpush name as a Capirca token: upper case, '_' for '-'.
func token(name string) string { return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) }

// define adds a definition unless the token already stands for owner;
// one token for two things is an error.
func define(into map[string]*tokenDef, tok, owner string, lines func() ([]string, error)) error {
	if d, ok := into[tok]; ok {
		if d.owner != owner {
			return fmt.Errorf("token %s would stand for both %s and %s: rename one", tok, d.owner, owner)
		}
		return nil
	}
	d := &tokenDef{owner: owner}
	into[tok] = d
	ls, err := lines()
	if err != nil {
		return err
	}
	d.lines = ls
	return nil
}

// endpoint defines the token of a flow endpoint (a role or a network) and
// returns it, or "" when it holds no address.
func (e *exporter) endpoint(name string) (string, error) {
	if n := e.inv.Networks[name]; n != nil {
		return e.network(n)
	}
	// The playbook's own forms: one host, the management networks, a
	// prefix, each a token of its own.
	if ep, err := policy.ParseEndpoint(name); err == nil && ep.Kind != policy.EndpointName {
		var lines []string
		var tok string
		switch ep.Kind {
		case policy.EndpointHost:
			h := e.inv.Hosts[ep.Name]
			if h == nil {
				return "", fmt.Errorf("unknown host %q", ep.Name)
			}
			tok = "HOST_" + token(ep.Name)
			for _, a := range h.Addresses {
				lines = append(lines, defLine(netip.PrefixFrom(a, a.BitLen()).String(), h.Name))
			}
		case policy.EndpointManagement:
			if len(e.inv.Management) == 0 {
				return "", nil
			}
			// The token the always-on management terms define.
			return tokenManagement, nil
		case policy.EndpointPrefix:
			tok = "NET_" + strings.NewReplacer(".", "_", ":", "_", "/", "_").Replace(strings.ToUpper(ep.Prefix.String()))
			lines = append(lines, defLine(ep.Prefix.String(), ""))
		}
		if len(lines) == 0 {
			return "", nil
		}
		return tok, define(e.nets, tok, name, func() ([]string, error) { return lines, nil })
	}
	tok := token(name)
	var lines []string
	for _, h := range e.inv.HostsWithRole(name) {
		for _, a := range h.Addresses {
			lines = append(lines, defLine(netip.PrefixFrom(a, a.BitLen()).String(), h.Name))
		}
	}
	nets := e.inv.NetworksWithRole(name)
	sort.Slice(nets, func(i, j int) bool { return nets[i].Name < nets[j].Name })
	for _, n := range nets {
		nt, err := e.network(n)
		if err != nil {
			return "", err
		}
		if nt != "" {
			lines = append(lines, defLine(nt, "network "+n.Name))
		}
	}
	if len(lines) == 0 {
		return "", nil
	}
	return tok, define(e.nets, tok, "role "+name, func() ([]string, error) { return lines, nil })
}

// network defines an inventory network's token.
func (e *exporter) network(n *inventory.Network) (string, error) {
	if len(n.Prefixes) == 0 {
		return "", nil
	}
	tok := token(n.Name)
	return tok, define(e.nets, tok, "network "+n.Name, func() ([]string, error) {
		var lines []string
		for i, pr := range n.Prefixes {
			c := ""
			if i == 0 {
				c = n.Description
			}
			lines = append(lines, defLine(pr.Masked().String(), c))
		}
		return lines, nil
	})
}

func defLine(value, comment string) string {
	if c := freetext.Line(comment); c != "" {
		return fmt.Sprintf("%-24s # %s", value, c)
	}
	return value
}

// baseTerms writes fwpush's always-on rules as terms, from the compiled
// Intents so they say exactly what the devices get: replies (TCP, by
// ACK/RST, as a stateless ACL can), the ICMP of options.icmp, the ICMPv6
// IPv6 needs, and management access from the management networks to
// every device on its management port.
func (e *exporter) baseTerms(w *strings.Builder) error {
	writeTerm(w, termEstablished, []string{"replies of permitted connections (fwpush's established rule)"},
		[][2]string{{"protocol", "tcp"}, {"option", "tcp-established"}, {"action", "accept"}})
	if len(e.pb.Options.ICMP) > 0 {
		names, err := icmpNames(policy.ICMP, e.pb.Options.ICMP)
		if err != nil {
			return fmt.Errorf("options.icmp: %w", err)
		}
		writeTerm(w, termICMP, []string{"ICMP every device accepts (options.icmp)"},
			[][2]string{{"protocol", "icmp"}, {"icmp-type", names}, {"action", "accept"}})
	}
	if v6 := e.icmpv6(); len(v6) > 0 {
		names, err := icmpNames(policy.ICMPv6, v6)
		if err != nil {
			return err
		}
		writeTerm(w, termICMPv6, []string{"ICMPv6 IPv6 needs (always on)"},
			[][2]string{{"protocol", "icmpv6"}, {"icmp-type", names}, {"action", "accept"}})
	}
	if len(e.inv.Management) == 0 {
		return nil
	}
	if err := define(e.nets, tokenManagement, "the management networks", func() ([]string, error) {
		var lines []string
		for _, pr := range e.inv.Management {
			lines = append(lines, pr.Masked().String())
		}
		return lines, nil
	}); err != nil {
		return err
	}
	byPort := map[int][]*inventory.Host{}
	for _, h := range e.inv.Select(nil) {
		byPort[h.Port] = append(byPort[h.Port], h)
	}
	ports := make([]int, 0, len(byPort))
	for port := range byPort {
		ports = append(ports, port)
	}
	sort.Ints(ports)
	for _, port := range ports {
		hosts := tokenManaged + strconv.Itoa(port)
		if err := define(e.nets, hosts, "the devices managed on port "+strconv.Itoa(port), func() ([]string, error) {
			var lines []string
			for _, h := range byPort[port] {
				for _, a := range h.Addresses {
					lines = append(lines, defLine(netip.PrefixFrom(a, a.BitLen()).String(), h.Name))
				}
			}
			return lines, nil
		}); err != nil {
			return err
		}
		svc := "FWPUSH_MANAGEMENT_" + strconv.Itoa(port)
		if err := define(e.svcs, svc, "management port "+strconv.Itoa(port), func() ([]string, error) {
			return []string{fmt.Sprintf("%d/tcp", port)}, nil
		}); err != nil {
			return err
		}
		writeTerm(w, termManagement+"-"+strconv.Itoa(port), []string{"fwpush management access (always on)"},
			[][2]string{{"source-address", tokenManagement}, {"destination-address", hosts}, {"protocol", "tcp"},
				{"destination-port", svc}, {"action", "accept"}})
	}
	return nil
}

// icmpv6 are the always-on ICMPv6 types, as the compiler put them on a
// host's input.
func (e *exporter) icmpv6() []int {
	for _, name := range e.inv.Names() {
		if in := e.p.Intents[name]; in != nil {
			for _, f := range in.Filters {
				for _, r := range f.Rules {
					if r.Kind == intent.ICMPBase && r.Proto == policy.ICMPv6 {
						return r.ICMP
					}
				}
			}
		}
	}
	return nil
}

// protoGroup is what one term of a flow matches: protocols sharing the
// same ports from the same service tokens, or (ports nil) protocols
// matched whole, or one ICMP protocol's types.
type protoGroup struct {
	protos []policy.Proto
	ports  []policy.PortRange
	tokens []string
	icmp   []int
	whole  bool
}

// flow writes one flow as one term, or one per protocol group when a
// single term's protocol × port product would open more than the flow.
func (e *exporter) flow(w *strings.Builder, f *policy.Flow) error {
	src, err := e.side(f.From)
	if err != nil {
		return fmt.Errorf("flow %d (line %d): from: %w", f.ID, f.Line, err)
	}
	dst, err := e.side(f.To)
	if err != nil {
		return fmt.Errorf("flow %d (line %d): to: %w", f.ID, f.Line, err)
	}
	groups, err := e.groups(f)
	if err != nil {
		return fmt.Errorf("flow %d (line %d): %w", f.ID, f.Line, err)
	}
	for _, g := range groups {
		name := fmt.Sprintf("flow-%d", f.ID)
		if len(groups) > 1 {
			name += "-" + g.protos[0].String()
		}
		var fields [][2]string
		if src != "" {
			fields = append(fields, [2]string{"source-address", src})
		}
		if dst != "" {
			fields = append(fields, [2]string{"destination-address", dst})
		}
		ps := make([]string, len(g.protos))
		for i, p := range g.protos {
			ps[i] = capircaProto(p)
		}
		fields = append(fields, [2]string{"protocol", strings.Join(ps, " ")})
		if len(g.tokens) > 0 {
			fields = append(fields, [2]string{"destination-port", strings.Join(g.tokens, " ")})
		}
		if len(g.icmp) > 0 {
			names, err := icmpNames(g.protos[0], g.icmp)
			if err != nil {
				return fmt.Errorf("flow %d (line %d): %w", f.ID, f.Line, err)
			}
			fields = append(fields, [2]string{"icmp-type", names})
		}
		if f.Log {
			fields = append(fields, [2]string{"logging", "true"})
		}
		action := "accept"
		switch {
		case f.Reject:
			action = "reject"
		case f.Deny:
			action = "deny"
		}
		fields = append(fields, [2]string{"action", action})
		writeTerm(w, name, []string{f.Why}, fields)
	}
	return nil
}

// side is the address tokens of a flow side, "" for any.
func (e *exporter) side(names []string) (string, error) {
	var toks []string
	for _, n := range names {
		if n == policy.Any {
			return "", nil
		}
		tok, err := e.endpoint(n)
		if err != nil {
			return "", err
		}
		if tok != "" {
			toks = append(toks, tok)
		}
	}
	if len(toks) == 0 {
		return "", errors.New("no address: a Capirca term without one would match any")
	}
	return strings.Join(toks, " "), nil
}

// groups splits a flow's matches into terms, in the order their
// protocols first appear (so an import compiles them in the same order).
func (e *exporter) groups(f *policy.Flow) ([]*protoGroup, error) {
	type portsOf struct {
		ports  []policy.PortRange
		tokens []string
		whole  bool
		icmp   []int
	}
	var order []policy.Proto
	by := map[policy.Proto]*portsOf{}
	add := func(m policy.Match, tok string) {
		po := by[m.Proto]
		if po == nil {
			po = &portsOf{}
			by[m.Proto] = po
			order = append(order, m.Proto)
		}
		switch {
		case m.Proto.HasPorts() && len(m.Ports) > 0:
			po.ports = append(po.ports, m.Ports...)
			if !contains(po.tokens, tok) {
				po.tokens = append(po.tokens, tok)
			}
		case m.Proto.IsICMP() && len(m.ICMP) > 0:
			po.icmp = append(po.icmp, m.ICMP...)
		default:
			po.whole = true
		}
	}
	n := 0
	for _, s := range f.Services {
		svc := e.pb.Services[s]
		tok := token(s)
		if err := e.service(tok, "service "+s, svc.Matches); err != nil {
			return nil, err
		}
		for _, m := range svc.Matches {
			add(m, tok)
		}
		n += len(svc.Matches)
	}
	for _, m := range f.Matches[n:] {
		tok := inlineToken(m)
		if err := e.service(tok, "ports "+m.String(), []policy.Match{m}); err != nil {
			return nil, err
		}
		add(m, tok)
	}
	var out []*protoGroup
	var whole *protoGroup
	for _, p := range order {
		po := by[p]
		switch {
		case po.whole:
			if whole == nil {
				whole = &protoGroup{whole: true}
				out = append(out, whole)
			}
			whole.protos = append(whole.protos, p)
		case p.IsICMP():
			out = append(out, &protoGroup{protos: []policy.Proto{p}, icmp: po.icmp})
		default:
			merged := policy.MergePorts(po.ports)
			var same *protoGroup
			for _, g := range out {
				if !g.whole && g.icmp == nil && equalPorts(g.ports, merged) && equalStrings(g.tokens, po.tokens) {
					same = g
				}
			}
			if same != nil {
				same.protos = append(same.protos, p)
				continue
			}
			out = append(out, &protoGroup{protos: []policy.Proto{p}, ports: merged, tokens: po.tokens})
		}
	}
	return out, nil
}

// service defines a service token for matches with ports; the others
// need none (a term names their protocol and ICMP types).
func (e *exporter) service(tok, owner string, ms []policy.Match) error {
	var lines []string
	for _, m := range ms {
		if !m.Proto.HasPorts() {
			continue
		}
		for _, pr := range m.Ports {
			lines = append(lines, fmt.Sprintf("%s/%s", pr, m.Proto))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return define(e.svcs, tok, owner, func() ([]string, error) { return lines, nil })
}

// inlineToken names a flow's own ports: PORTS_TCP_8080_8081.
func inlineToken(m policy.Match) string {
	parts := []string{"PORTS", strings.ToUpper(m.Proto.String())}
	for _, pr := range m.Ports {
		parts = append(parts, strconv.Itoa(int(pr.Lo)))
		if pr.Hi != pr.Lo {
			parts[len(parts)-1] += "_" + strconv.Itoa(int(pr.Hi))
		}
	}
	return strings.Join(parts, "_")
}

// capircaProto is the protocol as Capirca names it.
func capircaProto(p policy.Proto) string {
	if p == policy.ICMPv6 {
		return "icmpv6"
	}
	if n := p.String(); n != strconv.Itoa(int(p)) {
		return n
	}
	return strconv.Itoa(int(p))
}

// writeTerm writes one term; comments are free text, one line each, with
// '"' as "'" (Capirca's comments have no escape for it).
func writeTerm(w *strings.Builder, name string, comments []string, fields [][2]string) {
	fmt.Fprintf(w, "term %s {\n", name)
	for _, c := range comments {
		if c = freetext.Line(c); c != "" {
			fmt.Fprintf(w, "  comment:: %s\n", quote(c))
		}
	}
	for _, f := range fields {
		fmt.Fprintf(w, "  %s:: %s\n", f[0], f[1])
	}
	w.WriteString("}\n\n")
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, "'") + `"` }

// defs writes NETWORK.net and SERVICES.svc, tokens sorted.
func (e *exporter) defs() (string, string) {
	write := func(head string, m map[string]*tokenDef) string {
		var b strings.Builder
		b.WriteString(head)
		for _, tok := range sortedKeys(m) {
			d := m[tok]
			fmt.Fprintf(&b, "\n# %s\n", d.owner)
			for i, l := range d.lines {
				if i == 0 {
					fmt.Fprintf(&b, "%s = %s\n", tok, l)
				} else {
					fmt.Fprintf(&b, "%s   %s\n", strings.Repeat(" ", len(tok)), l)
				}
			}
		}
		return b.String()
	}
	return write("# Networks of fwpush playbook "+e.pb.Name+": roles (their hosts' addresses and networks) and networks.\n", e.nets),
		write("# Services of fwpush playbook "+e.pb.Name+": its services and its flows' own ports.\n", e.svcs)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalPorts(a, b []policy.PortRange) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
