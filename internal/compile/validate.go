package compile

import (
	"errors"
	"fmt"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/yamlsrc"
	"github.com/fwpush/fwpush/inventory"
)

// Validate checks a playbook against an inventory: every host has an
// address; every endpoint names a declared role, a network or any; every
// flow selects something on both sides; no deny flow touches management
// access. It runs before anything could connect, and reports every problem
// with file:line.
func Validate(pb *policy.Playbook, inv *inventory.Inventory) error {
	r := newResolver(pb, inv)
	var errs []error
	for _, h := range inv.Select(nil) {
		if len(h.Addresses) == 0 {
			errs = append(errs, &yamlsrc.Error{File: h.File, Line: h.Line, Col: h.Col, Field: h.Name, Msg: fmt.Sprintf(
				"host has no address: hostname %q is not an IP address and data.addresses lists none; fwpush pushes a firewall to every inventory host and must know its addresses to prove management access, and to match it in flows, ACLs, explain and verify", h.Hostname)})
		}
	}
	for _, f := range pb.Flows {
		if !pb.Enabled(f) {
			continue
		}
		for side, names := range map[string][]string{"from": f.From, "to": f.To} {
			empty := true
			for j, n := range names {
				switch r.kind(n) {
				case "":
					errs = append(errs, pb.Doc.Errorf([]any{"flows", f.Index, side, j},
						"unknown role %s: declare it under roles, or name an inventory network or any", yamlsrc.Quote(n)))
					empty = false
				case "any", "network":
					empty = false
				case "role":
					if len(inv.HostsWithRole(n)) > 0 || len(inv.NetworksWithRole(n)) > 0 {
						empty = false
					}
				}
			}
			if empty {
				errs = append(errs, pb.Doc.Errorf([]any{"flows", f.Index, side},
					"flow selects no host: no host or network in inventory %s has role %v", inv.Dir, names))
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
	targets := r.hosts(f.To)
	if hasAny(f.To) {
		targets = r.inv.Select(nil)
	}
	for _, h := range targets {
		for _, m := range f.Matches {
			if m.Proto != policy.TCP {
				continue
			}
			if len(m.Ports) == 0 || portIn(uint16(h.Port), m) {
				return r.pb.Doc.Errorf([]any{"flows", f.Index},
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
