package compile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// CheckCapabilities refuses an Intent its platform cannot express, naming
// the host, the flow (or the always-on rule) and the missing capability,
// as aerleon refuses a term its generator has no token for. A renderer
// never drops what it cannot say.
func CheckCapabilities(in *intent.Intent, caps drivers.Capabilities, pb *policy.Playbook) error {
	if len(in.Filters) == 0 {
		kind := "a host firewall"
		if caps.NetworkACL && !caps.HostFirewall {
			kind = "interface ACLs, and the host binds none (data.acls)"
		}
		return fmt.Errorf("%s: platform %s enforces with %s: the host would enforce nothing: %w",
			in.Host, in.Platform, kind, fault.ErrUnsupported)
	}
	var missing []string
	need := func(have bool, what string, r *intent.Rule, f *intent.Filter) {
		if have {
			return
		}
		missing = append(missing, fmt.Sprintf("%s needs %s", describeRule(r, f, pb), what))
	}
	for _, f := range in.Filters {
		switch f.Binding.Kind {
		case intent.Input:
			need(caps.HostFirewall, "a host firewall", nil, f)
		case intent.Output:
			need(caps.HostFirewall && caps.Egress, "egress filtering", nil, f)
		case intent.Interface:
			need(caps.NetworkACL, "interface ACLs", nil, f)
		}
		if f.LogDrops {
			need(caps.Logging, "logging", nil, f)
		}
		for _, r := range f.Rules {
			if r.Log {
				need(caps.Logging, "logging", r, f)
			}
			if len(r.ICMP) > 0 {
				need(caps.ICMPTypes, "ICMP type matching", r, f)
			}
			if needsIPv6(in, r) {
				need(caps.IPv6, "IPv6", r, f)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	missing = uniq(missing)
	return fmt.Errorf("%s: platform %s cannot express this policy: %s: %w",
		in.Host, in.Platform, strings.Join(missing, "; "), fault.ErrUnsupported)
}

// needsIPv6 says whether a rule matches IPv6 traffic the device must
// filter: an IPv6-only rule, or a rule over a set holding IPv6 prefixes.
func needsIPv6(in *intent.Intent, r *intent.Rule) bool {
	switch r.Family {
	case 6:
		return true
	case 4:
		return false
	}
	for _, name := range []string{r.Src, r.Dst} {
		if s := in.Set(name); s != nil && len(s.Family(6)) > 0 {
			return true
		}
	}
	return false
}

// describeRule names what a rule came from: its flows, or the always-on
// rule it is.
func describeRule(r *intent.Rule, f *intent.Filter, pb *policy.Playbook) string {
	if r == nil {
		return "filter " + f.Name
	}
	if r.Kind != intent.FlowRule {
		return fmt.Sprintf("filter %s: always-on %s rule", f.Name, r.Kind)
	}
	var names []string
	for _, id := range r.Flows {
		names = append(names, flowName(pb, id))
	}
	return fmt.Sprintf("filter %s: %s", f.Name, strings.Join(names, ", "))
}

// flowName names a flow for people: its number (from 1, as its file
// reads), its name if it has one, and its reason.
func flowName(pb *policy.Playbook, id int) string {
	var f *policy.Flow
	if pb != nil {
		f = pb.Flow(id)
	}
	if f == nil {
		return fmt.Sprintf("flow %d", id)
	}
	return fmt.Sprintf("%s (%q)", f.Label(), f.Why)
}

// silentReject turns the reject rules of a platform that cannot answer a
// denied packet into plain denies, so the Intent says what the device
// will do: drop it. The flow still denies there, which is what matters on
// the path; rejectWarnings names the hosts, as a silent change of
// behaviour is not ours to make quietly. Refusing instead would keep a
// reject flow off every route that crosses a router ACL.
func silentReject(in *intent.Intent, caps drivers.Capabilities) {
	if caps.Reject {
		return
	}
	for _, f := range in.Filters {
		for _, r := range f.Rules {
			r.Reject = false
		}
	}
}

// rejectWarnings names, per reject flow, the hosts whose platform drops
// what the flow rejects (see silentReject).
func rejectWarnings(pb *policy.Playbook, intents map[string]*intent.Intent) []string {
	silent := map[int]map[string]bool{}
	for name, in := range intents {
		for _, f := range in.Filters {
			for _, r := range f.Rules {
				if !r.Deny || r.Reject {
					continue
				}
				for _, id := range r.Flows {
					if fl := pb.Flow(id); fl != nil && fl.Reject {
						if silent[id] == nil {
							silent[id] = map[string]bool{}
						}
						silent[id][in.Platform+"\x00"+name] = true
					}
				}
			}
		}
	}
	var out []string
	for _, fl := range pb.Flows {
		if len(silent[fl.ID]) == 0 {
			continue
		}
		var hosts []string
		for k := range silent[fl.ID] {
			plat, host, _ := strings.Cut(k, "\x00")
			hosts = append(hosts, host+" ("+plat+")")
		}
		sort.Strings(hosts)
		out = append(out, pb.Doc.Errorf(fl.Path("action"),
			"%s rejects, but %s cannot answer a denied packet: there it is dropped silently, as action: deny would",
			fl.Label(), strings.Join(hosts, ", ")).Error())
	}
	return out
}

func uniq(ss []string) []string {
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func sortedNames(m map[string]*intent.Intent) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
