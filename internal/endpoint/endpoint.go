// Package endpoint reads a playbook's from/to entries against an
// inventory: the one reading compile, explain, verify and lint share, so
// a name means the same hosts and addresses everywhere.
package endpoint

import (
	"net/netip"
	"sort"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// Kind says what an entry names.
type Kind string

// Kinds. Unknown is a name that is no declared role, no inventory
// network and no inventory host.
const (
	Unknown    Kind = ""
	Any        Kind = "any"
	Management Kind = "management"
	Role       Kind = "role"
	Network    Kind = "network"
	Host       Kind = "host"
	Prefix     Kind = "prefix"
)

// Resolver resolves entries of one playbook against one inventory.
type Resolver struct {
	pb  *policy.Playbook
	inv *inventory.Inventory
}

// New returns a resolver of pb's entries over inv.
func New(pb *policy.Playbook, inv *inventory.Inventory) *Resolver {
	return &Resolver{pb: pb, inv: inv}
}

// Kind says what entry names. An inventory network wins over a role of
// the same name, as it always has; the reserved words any and management
// win over both.
func (r *Resolver) Kind(entry string) Kind {
	e, err := policy.ParseEndpoint(entry)
	if err != nil {
		return Unknown
	}
	switch e.Kind {
	case policy.EndpointAny:
		return Any
	case policy.EndpointManagement:
		return Management
	case policy.EndpointPrefix:
		return Prefix
	case policy.EndpointHost:
		if r.inv.Hosts[e.Name] != nil {
			return Host
		}
		return Unknown
	}
	if r.inv.Networks[entry] != nil {
		return Network
	}
	if _, ok := r.pb.Roles[entry]; ok {
		return Role
	}
	return Unknown
}

// IsAny reports whether the list holds the world.
func IsAny(entries []string) bool {
	for _, e := range entries {
		if e == policy.Any {
			return true
		}
	}
	return false
}

// Addresses is every address the entries stand for, as an IP set: a
// role's hosts' addresses and its networks' prefixes, a host's
// addresses, a network's prefixes, the management networks, a prefix.
// The world (any) is 0.0.0.0/0 and ::/0. Unknown entries add nothing.
func (r *Resolver) Addresses(entries []string) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, e := range entries {
		r.add(&b, e)
	}
	s, _ := b.IPSet()
	return s
}

func (r *Resolver) add(b *netipx.IPSetBuilder, entry string) {
	switch r.Kind(entry) {
	case Any:
		b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
		b.AddPrefix(netip.MustParsePrefix("::/0"))
	case Management:
		for _, p := range r.inv.Management {
			b.AddPrefix(p)
		}
	case Prefix:
		e, _ := policy.ParseEndpoint(entry)
		b.AddPrefix(e.Prefix)
	case Host:
		e, _ := policy.ParseEndpoint(entry)
		for _, a := range r.inv.Hosts[e.Name].Addresses {
			b.Add(a)
		}
	case Network:
		for _, p := range r.inv.Networks[entry].Prefixes {
			b.AddPrefix(p)
		}
	case Role:
		for _, h := range r.inv.HostsWithRole(entry) {
			for _, a := range h.Addresses {
				b.Add(a)
			}
		}
		for _, nw := range r.inv.NetworksWithRole(entry) {
			for _, p := range nw.Prefixes {
				b.AddPrefix(p)
			}
		}
	}
}

// Selected is a managed host an entry list selects, and how.
type Selected struct {
	Host *inventory.Host
	// Partly: the host was selected by address (a prefix, a network,
	// management) and some of its addresses lie outside the entries'
	// addresses, so a rule on it must also match the address.
	Partly bool
}

// Hosts returns the managed hosts the entries select, sorted by name: a
// role's hosts, host:NAME, and every host with an address in what an
// entry names by address (any, management, a prefix, a network, a role's
// networks). `any` selects every host of the inventory.
func (r *Resolver) Hosts(entries []string) []Selected {
	byName := map[string]*Selected{}
	var addrs netipx.IPSetBuilder
	byAddr := false
	for _, e := range entries {
		switch r.Kind(e) {
		case Role:
			for _, h := range r.inv.HostsWithRole(e) {
				byName[h.Name] = &Selected{Host: h}
			}
			for _, nw := range r.inv.NetworksWithRole(e) {
				for _, p := range nw.Prefixes {
					addrs.AddPrefix(p)
				}
				byAddr = true
			}
		case Host:
			ep, _ := policy.ParseEndpoint(e)
			h := r.inv.Hosts[ep.Name]
			byName[h.Name] = &Selected{Host: h}
		case Any, Management, Prefix, Network:
			r.add(&addrs, e)
			byAddr = true
		}
	}
	if byAddr {
		set, _ := addrs.IPSet()
		for _, h := range r.inv.Select(nil) {
			if byName[h.Name] != nil {
				continue
			}
			in, out := 0, 0
			for _, a := range h.Addresses {
				if set.Contains(a) {
					in++
				} else {
					out++
				}
			}
			if in > 0 {
				byName[h.Name] = &Selected{Host: h, Partly: out > 0}
			}
		}
	}
	out := make([]Selected, 0, len(byName))
	for _, s := range byName {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host.Name < out[j].Host.Name })
	return out
}

// Empty reports whether entries stand for no address at all (roles with
// neither hosts nor networks): a flow with such a side can never match.
func (r *Resolver) Empty(entries []string) bool {
	for _, e := range entries {
		switch r.Kind(e) {
		case Any, Prefix, Host, Network:
			return false
		case Management:
			if len(r.inv.Management) > 0 {
				return false
			}
		case Role:
			if len(r.inv.HostsWithRole(e)) > 0 || len(r.inv.NetworksWithRole(e)) > 0 {
				return false
			}
		}
	}
	return true
}
