package compile

import (
	"errors"
	"fmt"
	"sort"

	"github.com/fwpush/fwpush/internal/endpoint"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/yamlsrc"
	"github.com/fwpush/fwpush/inventory"
)

// Validate checks a playbook against an inventory: every host has an
// address; every endpoint names a declared role, an inventory network or
// host, a prefix, management or any; no deny flow touches management
// access. It runs before anything could connect, and reports every problem
// with file:line. A role or flow that selects nothing in this inventory is
// no error (one playbook serves several environments): Warnings says so.
func Validate(pb *policy.Playbook, inv *inventory.Inventory) error {
	r := newResolver(pb, inv)
	var errs []error
	for _, h := range inv.Select(nil) {
		if len(h.Addresses) == 0 {
			errs = append(errs, &yamlsrc.Error{File: h.File, Line: h.Line, Col: h.Col, Field: h.Name, Msg: fmt.Sprintf(
				"host has no address: hostname %q is not an IP address and data.addresses lists none; fwpush pushes a firewall to every inventory host and must know its addresses to prove management access, and to match it in flows, ACLs, explain and verify", h.Hostname)})
		}
	}
	for _, o := range []struct {
		key  string
		list []string
	}{{"dns", pb.Options.DNS}, {"ntp", pb.Options.NTP}} {
		for j, n := range o.list {
			if err := unknownEntry(r, n); err != "" {
				errs = append(errs, pb.Doc.Errorf([]any{"options", o.key, j}, "%s", err))
			}
		}
	}
	for _, f := range pb.Flows {
		if !pb.Enabled(f) {
			continue
		}
		for _, side := range []struct {
			name  string
			names []string
		}{{"from", f.From}, {"to", f.To}} {
			for j, n := range side.names {
				if err := unknownEntry(r, n); err != "" {
					errs = append(errs, pb.Doc.Errorf(f.Path(side.name, j), "%s", err))
				}
			}
		}
		if f.Deny {
			if err := denyCutsManagement(r, f); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// unknownEntry says what is wrong with an entry that names nothing known
// ("" when it is known).
func unknownEntry(r *resolver, n string) string {
	if r.kind(n) != endpoint.Unknown {
		return ""
	}
	ep, err := policy.ParseEndpoint(n)
	switch {
	case err != nil:
		return err.Error()
	case ep.Kind == policy.EndpointHost:
		return fmt.Sprintf("unknown host %s: no host of inventory %s has that name", yamlsrc.Quote(ep.Name), r.inv.Dir)
	}
	return fmt.Sprintf("unknown role %s: declare it under roles, or name an inventory network, host:NAME, a prefix, management or any", yamlsrc.Quote(n))
}

// Warnings are what the playbook probably does not mean in this
// inventory, each "file:line:col: field: message": a declared role with
// no host and no network, an enabled flow with a side that selects
// nothing (it compiles to no rule), hosts that filter their output
// without a rule for DNS or NTP, and hosts that drop what a reject flow
// rejects.
func Warnings(pb *policy.Playbook, inv *inventory.Inventory, intents map[string]*intent.Intent) []string {
	r := endpoint.New(pb, inv)
	var out []string
	for _, name := range sortedRoles(pb) {
		if len(inv.HostsWithRole(name)) == 0 && len(inv.NetworksWithRole(name)) == 0 {
			out = append(out, pb.Doc.Errorf([]any{"roles", name},
				"role %s has no host and no network in inventory %s: flows naming it select nothing here", yamlsrc.Quote(name), inv.Dir).Error())
		}
	}
	for _, f := range pb.Flows {
		if !pb.Enabled(f) {
			continue
		}
		for _, side := range []struct {
			name, what string
			names      []string
		}{{"from", "source", f.From}, {"to", "destination", f.To}} {
			if r.Empty(side.names) {
				out = append(out, pb.Doc.Errorf(f.Path(side.name),
					"%s has no %s in inventory %s (%v select no host and no network): it compiles to no rule here", f.Label(), side.what, inv.Dir, side.names).Error())
			}
		}
	}
	out = append(out, egressWarnings(pb, intents)...)
	return append(out, rejectWarnings(pb, intents)...)
}

func sortedRoles(pb *policy.Playbook) []string {
	out := make([]string, 0, len(pb.Roles))
	for k := range pb.Roles {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// denyCutsManagement rejects a deny flow that would match fwpush's own
// management connection to any host it targets. The always-on management
// rule would win anyway; a policy that says otherwise is a mistake to report,
// not to silently override.
func denyCutsManagement(r *resolver, f *policy.Flow) error {
	src := r.set(f.From, nil)
	overlaps := src == nil
	if src != nil {
		for _, m := range r.inv.Management {
			for _, p := range src.Prefixes {
				if p.Overlaps(m) {
					overlaps = true
				}
			}
		}
	}
	if !overlaps {
		return nil
	}
	for _, h := range r.managed(f.To) {
		for _, m := range f.Matches {
			if m.Proto != policy.TCP {
				continue
			}
			if len(m.Ports) == 0 || portIn(uint16(h.Port), m) {
				return r.pb.Doc.Errorf(f.Path(),
					"deny flow would cut management access: it denies tcp/%d to %s from the management networks", h.Port, h.Name)
			}
		}
	}
	return nil
}

func portIn(port uint16, m policy.Match) bool {
	for _, pr := range m.Ports {
		if pr.Contains(port) {
			return true
		}
	}
	return false
}
