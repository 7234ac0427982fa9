package compile

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go4.org/netipx"

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
	c, err := build(pb, inv, keep, plats)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, name := range sortedNames(c.out) {
		in := c.out[name]
		silentReject(in, c.caps[in.Platform])
		if err := CheckCapabilities(in, c.caps[in.Platform], pb); err != nil {
			errs = append(errs, err)
		}
		if err := CheckManagement(in, inv.Management); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if len(errs) == 0 {
		errs = c.checkPaths()
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c.out, nil
}

// build validates and compiles, without the checks of the result.
func build(pb *policy.Playbook, inv *inventory.Inventory, keep func(*inventory.Host) bool, plats Platforms) (*compiler, error) {
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
	}
	for _, f := range pb.Flows {
		if pb.Enabled(f) {
			c.addFlow(f)
		}
	}
	for _, a := range c.acls {
		c.closeACL(a)
	}
	for _, in := range c.out {
		c.finish(in)
	}
	return c, nil
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
	acls []*acl
	// ipsets caches address sets as IP sets (see ipset).
	ipsets map[*intent.AddrSet]*netipx.IPSet
}

func (c *compiler) newIntent(h *inventory.Host) *intent.Intent {
	in := &intent.Intent{Host: h.Name, Platform: h.Platform, Playbook: c.pb.Name,
		Addresses: h.Addresses, MgmtPort: uint16(h.Port)}
	if c.networkDevice(h) {
		for _, b := range h.ACLs {
			c.acls = append(c.acls, c.newACL(in, h, b))
		}
		return in
	}
	input := &intent.Filter{Name: "input", Binding: intent.Binding{Kind: intent.Input}, LogDrops: c.pb.Options.LogDrops}
	c.baseHost(in, input, true)
	in.Filters = append(in.Filters, input)
	if filtersEgress(c.pb, h) {
		output := &intent.Filter{Name: "output", Binding: intent.Binding{Kind: intent.Output}, LogDrops: c.pb.Options.LogDrops}
		c.baseHost(in, output, false)
		c.essentialEgress(in, output)
		in.Filters = append(in.Filters, output)
	}
	return in
}

// filtersEgress says whether host h filters its output: options.egress
// is true, or names one of h's roles.
func filtersEgress(pb *policy.Playbook, h *inventory.Host) bool {
	if pb.Options.Egress.All {
		return true
	}
	for _, r := range pb.Options.Egress.Roles {
		if h.HasRole(r) {
			return true
		}
	}
	return false
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

func (c *compiler) addSet(in *intent.Intent, s *intent.AddrSet) {
	if s == nil || in.Set(s.Name) != nil {
		return
	}
	in.Sets = append(in.Sets, s)
}

// addFlow adds the flow's rules to every filter that enforces it: the
// input of every host its to selects, the output of every host its from
// selects that filters its output, and every network ACL it crosses. A
// host selected by address (a prefix, a network) with addresses outside
// them gets a rule that also matches its own address, so naming
// 198.18.5.0/24 never opens the host's IPv6 address.
func (c *compiler) addFlow(f *policy.Flow) {
	src := c.r.set(f.From, nil)
	dst := c.r.set(f.To, nil)
	for _, sel := range c.r.ep.Hosts(f.To) {
		in := c.out[sel.Host.Name]
		if in == nil || c.networkDevice(sel.Host) {
			continue
		}
		var self *intent.AddrSet
		if sel.Partly {
			self = dst
		}
		c.addRules(in, in.Filter("input"), f, src, self)
	}
	for _, sel := range c.r.ep.Hosts(f.From) {
		in := c.out[sel.Host.Name]
		if in == nil {
			continue
		}
		if out := in.Filter("output"); out != nil {
			var self *intent.AddrSet
			if sel.Partly {
				self = src
			}
			c.addRules(in, out, f, self, dst)
		}
	}
	for _, a := range c.acls {
		c.placeFlow(a, f, src)
	}
}

func (c *compiler) addRules(in *intent.Intent, flt *intent.Filter, f *policy.Flow, src, dst *intent.AddrSet) {
	var rs []*intent.Rule
	for _, m := range f.Matches {
		r := &intent.Rule{Kind: intent.FlowRule, Deny: f.Deny, Reject: f.Reject, Proto: m.Proto, Ports: m.Ports, ICMP: m.ICMP, Log: f.Log}
		switch m.Proto {
		case policy.ICMP:
			r.Family = 4
		case policy.ICMPv6:
			r.Family = 6
		}
		rs = append(rs, r)
	}
	c.add(in, flt, f, src, dst, rs)
}

// add appends rules made for flow f from src to dst to flt, merging each
// into an open rule that differs only in its ports or ICMP types. A deny
// flow closes every open rule, so merging never moves a permit across a
// deny.
func (c *compiler) add(in *intent.Intent, flt *intent.Filter, f *policy.Flow, src, dst *intent.AddrSet, rs []*intent.Rule) {
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
	for _, r := range rs {
		r.Src, r.Dst = name(src), name(dst)
		// Rules merge on their ports when everything else is equal; a
		// return rule's ports are its source ports.
		key := fmt.Sprintf("%s|%v|%v|%s|%s|%d|%d|%v|%v|%v|%v", r.Kind, r.Deny, r.Reject, r.Src, r.Dst, r.Family, r.Proto, r.Log,
			len(r.Ports) == 0 && r.Proto.HasPorts(), len(r.ICMP) == 0 && r.Proto.IsICMP(), len(r.SrcPorts) == 0)
		if prev, ok := open[key]; ok {
			prev.Ports = append(prev.Ports, r.Ports...)
			prev.SrcPorts = append(prev.SrcPorts, r.SrcPorts...)
			prev.ICMP = append(prev.ICMP, r.ICMP...)
			appendFlow(prev, f)
			continue
		}
		appendFlow(r, f)
		r.Ports = append([]policy.PortRange(nil), r.Ports...)
		r.SrcPorts = append([]policy.PortRange(nil), r.SrcPorts...)
		r.ICMP = append([]int(nil), r.ICMP...)
		open[key] = r
		flt.Rules = append(flt.Rules, r)
	}
	if f.Deny {
		c.open[flt] = map[string]*intent.Rule{}
	}
}

func appendFlow(r *intent.Rule, f *policy.Flow) {
	if n := len(r.Flows); n > 0 && r.Flows[n-1] == f.ID {
		return
	}
	r.Flows = append(r.Flows, f.ID)
	r.Why = append(r.Why, f.Why)
}

func name(s *intent.AddrSet) string {
	if s == nil {
		return ""
	}
	return s.Name
}

// finish merges port ranges, sorts ICMP types and sets, and names rules
// after the flows they serve: "flow-3" is flow 3's rule (every one of
// them: a flow over tcp and udp is two rules and one flow), "flow-3+5" a
// rule flows 3 and 5 share, "return-3" the replies of flow 3 on a
// stateless ACL. Every output (comments, log prefixes, explain, plan)
// numbers flows this one way: from 1, in the playbook's order.
func (c *compiler) finish(in *intent.Intent) {
	sort.Slice(in.Sets, func(i, j int) bool { return in.Sets[i].Name < in.Sets[j].Name })
	for _, f := range in.Filters {
		for _, r := range f.Rules {
			r.Ports = policy.MergePorts(r.Ports)
			r.SrcPorts = policy.MergePorts(r.SrcPorts)
			r.ICMP = uniqBytes(r.ICMP)
			switch r.Kind {
			case intent.FlowRule:
				r.ID = "flow-" + flowIDs(r.Flows)
			case intent.Return:
				r.ID = "return-" + flowIDs(r.Flows)
			}
		}
	}
}

// flowIDs joins flow numbers with '+' ("3+5").
func flowIDs(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, "+")
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
