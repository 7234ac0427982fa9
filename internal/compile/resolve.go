package compile

import (
	"fmt"
	"sort"
	"strings"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// resolver maps endpoint names to hosts and prefixes, caching the sets it
// builds so 5,000 hosts cost one pass per distinct endpoint list.
type resolver struct {
	pb   *policy.Playbook
	inv  *inventory.Inventory
	sets map[string]*intent.AddrSet
}

func newResolver(pb *policy.Playbook, inv *inventory.Inventory) *resolver {
	return &resolver{pb: pb, inv: inv, sets: map[string]*intent.AddrSet{}}
}

// kind says what an endpoint name is: "any", "role", "network" or "".
func (r *resolver) kind(name string) string {
	switch {
	case name == policy.Any:
		return "any"
	case r.inv.Networks[name] != nil:
		return "network"
	}
	if _, ok := r.pb.Roles[name]; ok {
		return "role"
	}
	return ""
}

// hosts returns the managed hosts an endpoint list selects.
func (r *resolver) hosts(names []string) []*inventory.Host {
	seen := map[string]bool{}
	var out []*inventory.Host
	for _, n := range names {
		if r.kind(n) != "role" {
			continue
		}
		for _, h := range r.inv.HostsWithRole(n) {
			if !seen[h.Name] {
				seen[h.Name] = true
				out = append(out, h)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// managed returns the managed hosts an endpoint list selects. The world
// includes every one of them: `to: any` opens every managed host's input,
// as explain and verify read it.
func (r *resolver) managed(names []string) []*inventory.Host {
	if hasAny(names) {
		return r.inv.Select(nil)
	}
	return r.hosts(names)
}

// hasAny reports whether the list contains the world.
func hasAny(names []string) bool {
	for _, n := range names {
		if n == policy.Any {
			return true
		}
	}
	return false
}

// set returns the named address set for an endpoint list ("" for any).
// keep, when non-nil, filters which role hosts and networks count.
func (r *resolver) set(names []string, keep func(string) bool) *intent.AddrSet {
	if hasAny(names) {
		return nil
	}
	var members []string
	for _, n := range names {
		if keep == nil || keep(n) {
			members = append(members, n)
		}
	}
	members = uniqSorted(members)
	name := strings.Join(members, "_")
	if s, ok := r.sets[name]; ok {
		return s
	}
	var b netipx.IPSetBuilder
	for _, n := range members {
		switch r.kind(n) {
		case "network":
			for _, p := range r.inv.Networks[n].Prefixes {
				b.AddPrefix(p)
			}
		case "role":
			for _, h := range r.inv.HostsWithRole(n) {
				for _, a := range h.Addresses {
					b.Add(a)
				}
			}
			for _, nw := range r.inv.NetworksWithRole(n) {
				for _, p := range nw.Prefixes {
					b.AddPrefix(p)
				}
			}
		}
	}
	ipset, _ := b.IPSet()
	s := &intent.AddrSet{Name: name, Members: members, Prefixes: ipset.Prefixes()}
	r.sets[name] = s
	return s
}

// Names of the sets compile makes for itself. They start with '_', which
// no set named after a playbook's roles and networks can: those names
// match ^[a-z0-9][a-z0-9-]*$ and a set of several joins them with '_'. So
// a role called "fwpush-mgmt" or "self" stays a role, and never becomes
// the management networks or a router's own address.
const (
	// MgmtSet holds the inventory's management networks.
	MgmtSet = "_mgmt"
	// SelfSet holds a network device's own addresses.
	SelfSet = "_self"
)

// protectedMgmtSet names the set of hosts an ACL protects whose management
// port is port.
func protectedMgmtSet(acl string, port int) string {
	return fmt.Sprintf("_%s-mgmt-%d", strings.ToLower(acl), port)
}

// mgmtSet is the always-on management source set.
func (r *resolver) mgmtSet() *intent.AddrSet {
	const name = MgmtSet
	if s, ok := r.sets[name]; ok {
		return s
	}
	var b netipx.IPSetBuilder
	for _, p := range r.inv.Management {
		b.AddPrefix(p)
	}
	ipset, _ := b.IPSet()
	s := &intent.AddrSet{Name: name, Members: []string{"management"}, Prefixes: ipset.Prefixes()}
	r.sets[name] = s
	return s
}

// hostSet is a set of exactly the given hosts' addresses.
func hostSet(name string, hosts []*inventory.Host) *intent.AddrSet {
	var b netipx.IPSetBuilder
	var members []string
	for _, h := range hosts {
		members = append(members, h.Name)
		for _, a := range h.Addresses {
			b.Add(a)
		}
	}
	ipset, _ := b.IPSet()
	return &intent.AddrSet{Name: name, Members: members, Prefixes: ipset.Prefixes()}
}

func uniqSorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	j := 0
	for i, s := range out {
		if i == 0 || s != out[j-1] {
			out[j] = s
			j++
		}
	}
	return out[:j]
}
