package compile

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// Platforms says what each platform can express; the driver registry
// implements it.
type Platforms interface {
	Capabilities(platform string) (drivers.Capabilities, error)
}

// Compile validates the playbook against the inventory and returns one
// Intent per selected host (all hosts when keep is nil), keyed by host name.
// Every Intent is checked against its platform's capabilities: one that
// needs what the platform cannot express is an error naming the host, the
// flow and the capability.
func Compile(pb *policy.Playbook, inv *inventory.Inventory, keep func(*inventory.Host) bool, plats Platforms) (map[string]*intent.Intent, error) {
	if err := Validate(pb, inv); err != nil {
		return nil, err
	}
	c := &compiler{pb: pb, inv: inv, r: newResolver(pb, inv), out: map[string]*intent.Intent{},
		caps: map[string]drivers.Capabilities{}}
	var errs []error
	for _, h := range inv.Select(keep) {
		if _, ok := c.caps[h.Platform]; !ok {
			caps, err := plats.Capabilities(h.Platform)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", h.Name, err))
				continue
			}
			c.caps[h.Platform] = caps
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, h := range inv.Select(keep) {
		in := c.newIntent(h)
		c.out[h.Name] = in
		for _, f := range in.Filters {
			if f.Binding.Kind == intent.Interface {
				c.acls = append(c.acls, struct {
					in *intent.Intent
					f  *intent.Filter
				}{in, f})
			}
		}
	}
	for _, f := range pb.Flows {
		if pb.Enabled(f) {
			c.addFlow(f)
		}
	}
	for _, in := range c.out {
		c.finish(in)
	}
	for _, name := range sortedNames(c.out) {
		in := c.out[name]
		if err := CheckCapabilities(in, c.caps[in.Platform], pb); err != nil {
			errs = append(errs, err)
		}
		if err := CheckManagement(in, inv.Management); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c.out, nil
}

type compiler struct {
	pb  *policy.Playbook
	inv *inventory.Inventory
	r   *resolver
	out map[string]*intent.Intent
	// caps are the capabilities of every selected host's platform.
	caps map[string]drivers.Capabilities
	// open holds, per filter, the merge key → rule of the rules still open
	// for merging; a deny rule closes them so merging never reorders a
	// permit across a deny.
	open map[*intent.Filter]map[string]*intent.Rule
	// acls lists every network ACL filter, sorted by host.
	acls []struct {
		in *intent.Intent
		f  *intent.Filter
	}
}

func (c *compiler) newIntent(h *inventory.Host) *intent.Intent {
	in := &intent.Intent{Host: h.Name, Platform: h.Platform, Playbook: c.pb.Name,
		Addresses: h.Addresses, MgmtPort: uint16(h.Port)}
	if c.networkDevice(h) {
		for _, b := range h.ACLs {
			f := &intent.Filter{Name: aclName(b), LogDrops: c.pb.Options.LogDrops,
				Binding: intent.Binding{Kind: intent.Interface, Interface: b.Interface, Direction: b.Direction, Protects: b.Protects}}
			c.baseACL(in, f, h)
			in.Filters = append(in.Filters, f)
		}
		return in
	}
	input := &intent.Filter{Name: "input", Binding: intent.Binding{Kind: intent.Input}, LogDrops: c.pb.Options.LogDrops}
	c.baseHost(in, input, true)
	in.Filters = append(in.Filters, input)
	if c.pb.Options.Egress {
		output := &intent.Filter{Name: "output", Binding: intent.Binding{Kind: intent.Output}, LogDrops: c.pb.Options.LogDrops}
		c.baseHost(in, output, false)
		in.Filters = append(in.Filters, output)
	}
	return in
}

// networkDevice says whether the host enforces with interface ACLs
// rather than its own input/output filters: its platform only filters
// transit traffic, or it filters both ways and the inventory binds ACLs.
func (c *compiler) networkDevice(h *inventory.Host) bool {
	caps := c.caps[h.Platform]
	return caps.NetworkACL && (!caps.HostFirewall || len(h.ACLs) > 0)
}

// aclName is stable and readable: FWPUSH-<INTERFACE>-<DIR>.
func aclName(b inventory.ACLBinding) string {
	var sb strings.Builder
	for _, r := range strings.ToUpper(b.Interface) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('-')
		}
	}
	return "FWPUSH-" + strings.Trim(sb.String(), "-") + "-" + strings.ToUpper(b.Direction)
}

// icmpv6Always is what IPv6 cannot work without: neighbour discovery, path
// MTU discovery and error reporting, plus echo for diagnostics.
var icmpv6Always = []int{1, 2, 3, 4, 128, 129, 133, 134, 135, 136}

// icmpRules are the always-on ICMP rules. `icmp: []` in a playbook means
// no ICMPv4 at all (an empty type list would mean every type).
func (c *compiler) icmpRules() []*intent.Rule {
	var rs []*intent.Rule
	if len(c.pb.Options.ICMP) > 0 {
		rs = append(rs, &intent.Rule{ID: "icmp", Kind: intent.ICMPBase, Family: 4, Proto: policy.ICMP, ICMP: c.pb.Options.ICMP})
	}
	return append(rs, &intent.Rule{ID: "icmpv6", Kind: intent.ICMPBase, Family: 6, Proto: policy.ICMPv6, ICMP: icmpv6Always})
}

func (c *compiler) baseHost(in *intent.Intent, f *intent.Filter, input bool) {
	f.Rules = append(f.Rules,
		&intent.Rule{ID: "established", Kind: intent.Established, AnyProto: true},
		&intent.Rule{ID: "loopback", Kind: intent.Loopback, AnyProto: true})
	f.Rules = append(f.Rules, c.icmpRules()...)
	if input {
		mg := c.r.mgmtSet()
		c.addSet(in, mg)
		f.Rules = append(f.Rules, &intent.Rule{ID: "management", Kind: intent.Management, Src: mg.Name,
			Proto: policy.TCP, Ports: []policy.PortRange{{Lo: in.MgmtPort, Hi: in.MgmtPort}},
			Why: []string{"fwpush management access (always on)"}})
	}
}

// baseACL opens what a stateless network ACL must: TCP replies, management
// to the device and to every host it protects.
func (c *compiler) baseACL(in *intent.Intent, f *intent.Filter, h *inventory.Host) {
	mg := c.r.mgmtSet()
	c.addSet(in, mg)
	self := hostSet(SelfSet, []*inventory.Host{h})
	c.addSet(in, self)
	f.Rules = append(f.Rules,
		&intent.Rule{ID: "established", Kind: intent.Established, AnyProto: true})
	f.Rules = append(f.Rules, c.icmpRules()...)
	f.Rules = append(f.Rules,
		&intent.Rule{ID: "management", Kind: intent.Management, Src: mg.Name, Dst: self.Name, Proto: policy.TCP,
			Ports: []policy.PortRange{{Lo: in.MgmtPort, Hi: in.MgmtPort}}, Why: []string{"fwpush management access (always on)"}},
	)
	protected := c.r.hosts(f.Binding.Protects)
	byPort := map[uint16][]*inventory.Host{}
	for _, p := range protected {
		byPort[uint16(p.Port)] = append(byPort[uint16(p.Port)], p)
	}
	ports := make([]int, 0, len(byPort))
	for p := range byPort {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	for _, p := range ports {
		set := hostSet(protectedMgmtSet(f.Name, p), byPort[uint16(p)])
		c.addSet(in, set)
		f.Rules = append(f.Rules, &intent.Rule{ID: fmt.Sprintf("management-%d", p), Kind: intent.Management,
			Src: mg.Name, Dst: set.Name, Proto: policy.TCP, Ports: []policy.PortRange{{Lo: uint16(p), Hi: uint16(p)}},
			Why: []string{"fwpush management access to protected hosts (always on)"}})
	}
}

func (c *compiler) addSet(in *intent.Intent, s *intent.AddrSet) {
	if s == nil || in.Set(s.Name) != nil {
		return
	}
	in.Sets = append(in.Sets, s)
}

// addFlow adds the flow's rules to every filter that enforces it.
func (c *compiler) addFlow(f *policy.Flow) {
	src := c.r.set(f.From, nil)
	for _, h := range c.r.managed(f.To) {
		in := c.out[h.Name]
		if in == nil || c.networkDevice(h) {
			continue
		}
		c.addRules(in, in.Filter("input"), f, src, nil)
	}
	if c.pb.Options.Egress {
		dst := c.r.set(f.To, nil)
		for _, h := range c.r.managed(f.From) {
			if in := c.out[h.Name]; in != nil {
				if out := in.Filter("output"); out != nil {
					c.addRules(in, out, f, nil, dst)
				}
			}
		}
	}
	for _, acl := range c.acls {
		prot := map[string]bool{}
		for _, p := range acl.f.Binding.Protects {
			prot[p] = true
		}
		// `any` includes what the ACL protects; its set is then the
		// world, so the rule matches any destination, as the flow says.
		hit := hasAny(f.To)
		for _, t := range f.To {
			hit = hit || prot[t]
		}
		if hit {
			dst := c.r.set(f.To, func(n string) bool { return prot[n] })
			c.addRules(acl.in, acl.f, f, src, dst)
		}
	}
}

func (c *compiler) addRules(in *intent.Intent, flt *intent.Filter, f *policy.Flow, src, dst *intent.AddrSet) {
	c.addSet(in, src)
	c.addSet(in, dst)
	if c.open == nil {
		c.open = map[*intent.Filter]map[string]*intent.Rule{}
	}
	open := c.open[flt]
	if open == nil || f.Deny {
		open = map[string]*intent.Rule{}
		c.open[flt] = open
	}
	for _, m := range f.Matches {
		r := &intent.Rule{Kind: intent.FlowRule, Deny: f.Deny, Src: name(src), Dst: name(dst),
			Proto: m.Proto, Ports: m.Ports, ICMP: m.ICMP, Log: f.Log}
		switch m.Proto {
		case policy.ICMP:
			r.Family = 4
		case policy.ICMPv6:
			r.Family = 6
		}
		key := fmt.Sprintf("%v|%s|%s|%d|%d|%v|%v|%v", r.Deny, r.Src, r.Dst, r.Family, r.Proto, r.Log,
			len(m.Ports) == 0 && m.Proto.HasPorts(), len(m.ICMP) == 0 && m.Proto.IsICMP())
		if prev, ok := open[key]; ok {
			prev.Ports = append(prev.Ports, m.Ports...)
			prev.ICMP = append(prev.ICMP, m.ICMP...)
			appendFlow(prev, f)
			continue
		}
		appendFlow(r, f)
		r.Ports = append([]policy.PortRange(nil), m.Ports...)
		r.ICMP = append([]int(nil), m.ICMP...)
		open[key] = r
		flt.Rules = append(flt.Rules, r)
	}
	if f.Deny {
		c.open[flt] = map[string]*intent.Rule{}
	}
}

func appendFlow(r *intent.Rule, f *policy.Flow) {
	if n := len(r.Flows); n > 0 && r.Flows[n-1] == f.Index {
		return
	}
	r.Flows = append(r.Flows, f.Index)
	r.Why = append(r.Why, f.Why)
}

func name(s *intent.AddrSet) string {
	if s == nil {
		return ""
	}
	return s.Name
}

// finish merges port ranges, sorts ICMP types and sets, and numbers rules.
func (c *compiler) finish(in *intent.Intent) {
	sort.Slice(in.Sets, func(i, j int) bool { return in.Sets[i].Name < in.Sets[j].Name })
	for _, f := range in.Filters {
		n := 0
		for _, r := range f.Rules {
			r.Ports = policy.MergePorts(r.Ports)
			r.ICMP = uniqBytes(r.ICMP)
			if r.Kind == intent.FlowRule {
				n++
				r.ID = fmt.Sprintf("flow-%d", n)
			}
		}
	}
}

func uniqBytes(in []int) []int {
	if len(in) < 2 {
		return in
	}
	seen := map[int]bool{}
	var out []int
	for _, b := range in {
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// CheckManagement proves that the device keeps fwpush's management access:
// from every management network, to every device address, on its management
// port, the first matching rule of every input filter permits. It names the
// rule that would block otherwise.
func CheckManagement(in *intent.Intent, mgmt []netip.Prefix) error {
	for _, f := range in.Filters {
		if f.Binding.Kind == intent.Output {
			continue
		}
		for _, m := range mgmt {
			for _, a := range in.Addresses {
				if a.Is4() != m.Addr().Is4() {
					continue
				}
				p := intent.Packet{Src: m.Addr(), Dst: a, Proto: policy.TCP, Port: in.MgmtPort}
				if f.Binding.Kind == intent.Interface && in.Set(SelfSet) != nil && !in.Set(SelfSet).Contains(a) {
					continue
				}
				v := in.Eval(f, p)
				if !v.Permit {
					blocker := "the default deny"
					if v.Rule != nil {
						blocker = "rule " + v.Rule.ID
					}
					return fmt.Errorf("lock-out guard: %s in filter %s would block management access from %s to %s tcp/%d",
						blocker, f.Name, m, a, in.MgmtPort)
				}
			}
		}
	}
	return nil
}

// CheckOrigin proves that the device, under the policy in, still admits
// fwpush's management connection from origin: the address the device saw
// the connection come from when it was read. CheckManagement proves the
// management networks keep access; this proves the controller is in them.
// Every filter that guards management (a host's input, an ACL's
// management terms for the device itself and the hosts it protects) must
// permit origin, or the error names the filter and the rule that would
// cut it.
func CheckOrigin(in *intent.Intent, origin netip.Addr) error {
	origin = origin.Unmap()
	for _, f := range in.Filters {
		if f.Binding.Kind == intent.Output {
			continue
		}
		for _, r := range f.Rules {
			if r.Kind != intent.Management {
				continue
			}
			for _, dst := range managedAddrs(in, r) {
				if dst.Is4() != origin.Is4() {
					continue
				}
				for _, pr := range r.Ports {
					p := intent.Packet{Src: origin, Dst: dst, Proto: r.Proto, Port: pr.Lo}
					if v := in.Eval(f, p); !v.Permit {
						blocker := "the default deny"
						if v.Rule != nil {
							blocker = "rule " + v.Rule.ID
						}
						return fmt.Errorf("lock-out guard: this controller reaches the device from %s, which is not in the management networks: %s of filter %s would cut its %s/%d connection to %s (add %s to management in networks.yaml)",
							origin, blocker, f.Name, r.Proto, pr.Lo, dst, origin)
					}
				}
			}
		}
	}
	return nil
}

// managedAddrs are the addresses a management rule keeps reachable: its
// destination set's, or the device's own when it has none.
func managedAddrs(in *intent.Intent, r *intent.Rule) []netip.Addr {
	if r.Dst == "" {
		return in.Addresses
	}
	s := in.Set(r.Dst)
	if s == nil {
		return nil
	}
	var out []netip.Addr
	for _, p := range s.Prefixes {
		out = append(out, p.Addr())
	}
	return out
}
