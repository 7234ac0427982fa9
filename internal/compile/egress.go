package compile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// A host that filters its output drops everything no rule permits. What
// it needs to work at all is either implied or warned about, never
// silently dropped:
//   - replies to connections made to it (fwpush's own management
//     sessions included) leave through the always-on established rule;
//   - DNS to the resolvers options.dns declares, and NTP to the servers
//     options.ntp declares, are implied (essential rules, before the
//     flows, like management access on input);
//   - a host left without any rule for DNS (udp/53) or NTP (udp/123) is a
//     warning naming it (see egressWarnings).

// essential is one service a host that filters its output needs.
type essential struct {
	id, what, option string
	matches          []policy.Match
}

func essentials(o policy.Options) []struct {
	essential
	to []string
} {
	dns := essential{id: "dns", what: "name resolution", option: "dns", matches: []policy.Match{
		{Proto: policy.UDP, Ports: []policy.PortRange{{Lo: 53, Hi: 53}}},
		{Proto: policy.TCP, Ports: []policy.PortRange{{Lo: 53, Hi: 53}}}}}
	ntp := essential{id: "ntp", what: "time synchronisation", option: "ntp", matches: []policy.Match{
		{Proto: policy.UDP, Ports: []policy.PortRange{{Lo: 123, Hi: 123}}}}}
	return []struct {
		essential
		to []string
	}{{dns, o.DNS}, {ntp, o.NTP}}
}

// essentialEgress adds the declared essential services to an output
// filter.
func (c *compiler) essentialEgress(in *intent.Intent, out *intent.Filter) {
	for _, e := range essentials(c.pb.Options) {
		if len(e.to) == 0 {
			continue
		}
		dst := c.r.set(e.to, nil)
		c.addSet(in, dst)
		for _, m := range e.matches {
			out.Rules = append(out.Rules, &intent.Rule{ID: e.id, Kind: intent.Essential, Dst: name(dst), Proto: m.Proto,
				Ports: append([]policy.PortRange(nil), m.Ports...),
				Why:   []string{fmt.Sprintf("essential egress: %s (options.%s)", e.what, e.option)}})
		}
	}
}

// egressWarnings names the hosts that filter their output but have no
// rule permitting DNS or NTP out: with egress filtering on, their
// resolver and time queries are dropped, which nobody asks for.
func egressWarnings(pb *policy.Playbook, intents map[string]*intent.Intent) []string {
	var out []string
	for _, e := range essentials(pb.Options) {
		var hosts []string
		for name, in := range intents {
			f := in.Filter("output")
			if f == nil {
				continue
			}
			if !permitsPort(f, e.matches[0].Proto, e.matches[0].Ports[0].Lo) {
				hosts = append(hosts, name)
			}
		}
		if len(hosts) == 0 {
			continue
		}
		sort.Strings(hosts)
		out = append(out, pb.Doc.Errorf([]any{"options", "egress"},
			"%s filter their output (options.egress) and no rule lets them out for %s (%s/%d): it will be dropped; declare the servers in options.%s, or add a flow from them",
			hostList(hosts), e.what, e.matches[0].Proto, e.matches[0].Ports[0].Lo, e.option).Error())
	}
	return out
}

// permitsPort says whether some permit rule of f lets proto/port out to
// some address.
func permitsPort(f *intent.Filter, proto policy.Proto, port uint16) bool {
	for _, r := range f.Rules {
		if r.Deny || r.Kind == intent.Established || r.Kind == intent.Loopback {
			continue
		}
		if r.AnyProto {
			return true
		}
		if r.Proto != proto {
			continue
		}
		if len(r.Ports) == 0 {
			return true
		}
		for _, p := range r.Ports {
			if p.Contains(port) {
				return true
			}
		}
	}
	return false
}

// hostList shows up to five names and how many more.
func hostList(hosts []string) string {
	const shown = 5
	if len(hosts) <= shown {
		return "hosts " + strings.Join(hosts, ", ")
	}
	return fmt.Sprintf("hosts %s and %d more", strings.Join(hosts[:shown], ", "), len(hosts)-shown)
}
