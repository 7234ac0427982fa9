package capirca

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/internal/freetext"
	"github.com/fwpush/fwpush/internal/policy"
)

// q quotes a YAML scalar: JSON's double-quoted strings are YAML's too.
func q(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func qlist(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = q(x)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// comment writes text as a YAML comment line (one line, no control
// characters).
func comment(w *strings.Builder, indent, text string) {
	fmt.Fprintf(w, "%s# %s\n", indent, freetext.Line(text))
}

// playbookYAML writes the playbook; it is parsed back before it is
// returned, so what the import writes is what fwpush reads.
func (im *importer) playbookYAML(name string, filters []*Filter) (string, error) {
	var w strings.Builder
	var fnames []string
	for _, f := range filters {
		for _, t := range f.Header.Targets {
			fnames = append(fnames, t.Platform+" "+t.Name)
		}
	}
	comment(&w, "", fmt.Sprintf("Imported by `fwpush import capirca` from %s (targets: %s).", im.pol.File, strings.Join(uniq(fnames), ", ")))
	comment(&w, "", "Each Capirca network token is a role, filled by the networks in the networks.yaml written with this file;")
	comment(&w, "", "put your hosts in inventory groups of the same names for their firewalls to enforce the flows.")
	fmt.Fprintf(&w, "name: %s\n", name)
	if len(im.comments) > 0 {
		fmt.Fprintf(&w, "description: %s\n", q(strings.Join(im.comments, " ")))
	}
	fmt.Fprintf(&w, "source: %s\n", q("Capirca policy "+im.pol.File))
	w.WriteString("options:\n")
	if im.egress {
		w.WriteString("  egress: true\n")
	}
	if im.logDrops {
		w.WriteString("  log_drops: true\n")
	}
	if !im.icmpSet {
		comment(&w, "  ", "the policy has no always-on ICMP: none (flows open what they name)")
	}
	icmp := make([]string, len(im.icmp))
	for i, t := range im.icmp {
		icmp[i] = policy.ICMPTypeName(policy.ICMP, t)
	}
	fmt.Fprintf(&w, "  icmp: [%s]\n", strings.Join(icmp, ", "))
	w.WriteString("roles:\n")
	for _, r := range im.sortedRoles() {
		fmt.Fprintf(&w, "  %s:\n    description: %s\n", r.name, q(r.desc))
	}
	body, services, err := im.flowsYAML()
	if err != nil {
		return "", err
	}
	if len(services) > 0 {
		w.WriteString("services:\n")
		for _, tok := range sortedKeys(services) {
			d := im.defs.Services[tok]
			fmt.Fprintf(&w, "  %s:\n    description: %s\n    ports: %s\n", services[tok], q(fmt.Sprintf("Capirca service %s (%s)", tok, d.Pos)),
				qlist(servicePorts(im.mustService(tok))))
		}
	}
	w.WriteString("flows:\n")
	w.WriteString(body)
	if _, err := policy.Parse(name+".yml", []byte(w.String())); err != nil {
		return "", fmt.Errorf("the playbook written does not read back (a bug of the import): %w", err)
	}
	return w.String(), nil
}

func (im *importer) mustService(tok string) []PortRange {
	s, _ := im.defs.Service(tok)
	return s
}

func servicePorts(prs []PortRange) []string {
	out := make([]string, len(prs))
	for i, pr := range prs {
		out[i] = pr.Proto + "/" + pr.Range.String()
	}
	return out
}

// flowsYAML writes the flows; a flow names its service tokens as
// services when they hold no port the flow does not open (Capirca's
// protocol × port product can open more), and its other matches as
// ports. It returns the services used, token → name.
func (im *importer) flowsYAML() (string, map[string]string, error) {
	var w strings.Builder
	used := map[string]string{}
	for _, f := range im.flows {
		for _, c := range f.comments {
			comment(&w, "  ", c)
		}
		fmt.Fprintf(&w, "  - from: %s\n    to: %s\n", qlist(f.from), qlist(f.to))
		svcs, ports := im.splitPorts(f)
		if len(svcs) > 0 {
			var names []string
			for _, tok := range svcs {
				n := fwpushName(tok)
				if prev, ok := used[tok]; ok {
					n = prev
				} else if !nameRE.MatchString(n) {
					return "", nil, fmt.Errorf("service %s has no usable fwpush name", tok)
				}
				for t, other := range used {
					if other == n && t != tok {
						return "", nil, fmt.Errorf("services %s and %s would both be named %q in fwpush", t, tok, n)
					}
				}
				used[tok] = n
				names = append(names, n)
			}
			fmt.Fprintf(&w, "    services: %s\n", qlist(names))
		}
		if len(ports) > 0 {
			fmt.Fprintf(&w, "    ports: %s\n", qlist(ports))
		}
		fmt.Fprintf(&w, "    why: %s\n", q(f.why))
		if f.log {
			w.WriteString("    log: true\n")
		}
		if f.action != "permit" {
			fmt.Fprintf(&w, "    action: %s\n", f.action)
		}
	}
	return w.String(), used, nil
}

// splitPorts says a flow's matches as service tokens plus port strings
// when the services' ports are all the flow's and the order in which the
// protocols first appear stays (it orders the compiled rules); else as
// port strings alone.
func (im *importer) splitPorts(f *flowOut) ([]string, []string) {
	all := make([]string, len(f.matches))
	for i, m := range f.matches {
		all[i] = matchString(m)
	}
	open := portSets(f.matches)
	var svcs []string
	var svcMatches []policy.Match
	for _, tok := range f.tokens {
		if strings.HasPrefix(tok, "PORTS_") {
			continue // a flow's own ports, as fwpush exports them
		}
		for _, pr := range im.mustService(tok) {
			p, _ := policy.ParseProto(pr.Proto)
			svcMatches = append(svcMatches, policy.Match{Proto: p, Ports: []policy.PortRange{pr.Range}})
		}
		svcs = append(svcs, tok)
	}
	if len(svcs) == 0 {
		return nil, all
	}
	fromSvc := portSets(svcMatches)
	rest := map[policy.Proto][]policy.PortRange{}
	for p, set := range fromSvc {
		if !subset(set, open[p]) {
			return nil, all
		}
	}
	for p, set := range open {
		rest[p] = minus(set, fromSvc[p])
	}
	var extra []policy.Match
	done := map[policy.Proto]bool{}
	for _, m := range f.matches {
		switch {
		case m.Proto.HasPorts() && len(m.Ports) > 0:
			if !done[m.Proto] && len(rest[m.Proto]) > 0 {
				extra = append(extra, policy.Match{Proto: m.Proto, Ports: rest[m.Proto]})
			}
			done[m.Proto] = true
		default:
			extra = append(extra, m)
		}
	}
	if !sameOrder(f.matches, append(svcMatches, extra...)) {
		return nil, all
	}
	out := make([]string, len(extra))
	for i, m := range extra {
		out[i] = matchString(m)
	}
	return svcs, out
}

// sameOrder: the protocols first appear in the same order.
func sameOrder(a, b []policy.Match) bool {
	first := func(ms []policy.Match) []policy.Proto {
		seen := map[policy.Proto]bool{}
		var out []policy.Proto
		for _, m := range ms {
			if !seen[m.Proto] {
				seen[m.Proto] = true
				out = append(out, m.Proto)
			}
		}
		return out
	}
	x, y := first(a), first(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// portSets are the ports of the matches with ports, per protocol.
func portSets(ms []policy.Match) map[policy.Proto][]policy.PortRange {
	out := map[policy.Proto][]policy.PortRange{}
	for _, m := range ms {
		if m.Proto.HasPorts() && len(m.Ports) > 0 {
			out[m.Proto] = policy.MergePorts(append(out[m.Proto], m.Ports...))
		}
	}
	return out
}

func subset(a, b []policy.PortRange) bool { return len(minus(a, b)) == 0 }

// minus is a \ b, as ranges.
func minus(a, b []policy.PortRange) []policy.PortRange {
	var out []policy.PortRange
	for _, r := range a {
		lo := int(r.Lo)
		for _, s := range b {
			if int(s.Hi) < lo || int(s.Lo) > int(r.Hi) {
				continue
			}
			if int(s.Lo) > lo {
				out = append(out, policy.PortRange{Lo: uint16(lo), Hi: s.Lo - 1})
			}
			lo = int(s.Hi) + 1
		}
		if lo <= int(r.Hi) {
			out = append(out, policy.PortRange{Lo: uint16(lo), Hi: r.Hi})
		}
	}
	return out
}

// matchString writes a match as a playbook port string.
func matchString(m policy.Match) string {
	if !m.Proto.HasPorts() && !m.Proto.IsICMP() && m.Proto.String() == strconv.Itoa(int(m.Proto)) {
		return "ip/" + m.Proto.String()
	}
	return m.String()
}

// networksYAML writes the networks: one per token with addresses of its
// own, filling every role whose token holds it; one per derived role;
// and the management networks fwpush's own terms name.
func (im *importer) networksYAML() (string, error) {
	type network struct {
		name, desc string
		prefixes   []netip.Prefix
		roles      []string
	}
	var nets []*network
	byToken := map[string]*network{}
	var visit func(tok, role string) error
	visit = func(tok, role string) error {
		d := im.defs.Networks[tok]
		if d == nil {
			return fmt.Errorf("network %s is not defined", tok)
		}
		n := byToken[tok]
		if n == nil {
			n = &network{desc: fmt.Sprintf("Capirca network %s (%s)", tok, d.Pos)}
			byToken[tok] = n
			for _, it := range d.Items {
				if tokenRE.MatchString(it.Value) {
					continue
				}
				p, err := parseAddr(it.Value)
				if err != nil {
					return it.Pos.Errorf("%v", err)
				}
				if !containsPrefix(n.prefixes, p) {
					n.prefixes = append(n.prefixes, p)
				}
			}
			if len(n.prefixes) > 0 {
				name := fwpushName(tok)
				if _, isRole := im.roles[name]; isRole {
					name += "-net"
				}
				if err := im.claim(name, "network of token "+tok, d.Pos); err != nil {
					return err
				}
				n.name = name
				nets = append(nets, n)
			}
		}
		if n.name != "" && !contains(n.roles, role) {
			n.roles = append(n.roles, role)
		}
		for _, it := range d.Items {
			if tokenRE.MatchString(it.Value) {
				if err := visit(it.Value, role); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, r := range im.sortedRoles() {
		if r.token != "" {
			if err := visit(r.token, r.name); err != nil {
				return "", err
			}
			continue
		}
		name := r.name + "-net"
		if err := im.claim(name, "network of role "+r.name, Pos{File: im.pol.File}); err != nil {
			return "", err
		}
		nets = append(nets, &network{name: name, desc: "addresses of " + r.desc, prefixes: r.prefixes, roles: []string{r.name}})
	}
	sort.Slice(nets, func(i, j int) bool { return nets[i].name < nets[j].name })
	var w strings.Builder
	comment(&w, "", "Networks imported by `fwpush import capirca`: merge them into the inventory's networks.yaml.")
	if len(im.mgmt) > 0 {
		w.WriteString("management:\n")
		for _, p := range im.mgmt {
			fmt.Fprintf(&w, "  - %s\n", q(p.String()))
		}
	} else {
		comment(&w, "", "No management networks: fwpush pushes nothing until networks.yaml names where it connects from.")
	}
	if len(nets) == 0 {
		return w.String(), nil
	}
	w.WriteString("networks:\n")
	for _, n := range nets {
		var b netipx.IPSetBuilder
		for _, p := range n.prefixes {
			b.AddPrefix(p)
		}
		set, _ := b.IPSet()
		ps := make([]string, 0, len(set.Prefixes()))
		for _, p := range set.Prefixes() {
			ps = append(ps, p.String())
		}
		sort.Strings(n.roles)
		fmt.Fprintf(&w, "  %s:\n    description: %s\n    prefixes: %s\n    roles: %s\n", n.name, q(n.desc), qlist(ps), qlist(n.roles))
	}
	return w.String(), nil
}
