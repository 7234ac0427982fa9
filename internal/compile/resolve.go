package compile

import (
	"fmt"
	"sort"
	"strings"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/internal/endpoint"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// resolver maps endpoint names to hosts and prefixes (through the
// endpoint package, which explain, verify and lint read them with too),
// caching the sets it builds so 5,000 hosts cost one pass per distinct
// endpoint list.
type resolver struct {
	pb   *policy.Playbook
	inv  *inventory.Inventory
	ep   *endpoint.Resolver
	sets map[string]*intent.AddrSet
	// keys maps a set's canonical key (its entries) to its name, and
	// names the other way: a name that two lists would share (a host
	// "a_b" and a host "a" with a role "b") gets a suffix.
	keys  map[string]string
	names map[string]string
}

func newResolver(pb *policy.Playbook, inv *inventory.Inventory) *resolver {
	return &resolver{pb: pb, inv: inv, ep: endpoint.New(pb, inv), sets: map[string]*intent.AddrSet{},
		keys: map[string]string{}, names: map[string]string{}}
}

// kind says what an endpoint name is.
func (r *resolver) kind(name string) endpoint.Kind { return r.ep.Kind(name) }

// hosts returns the managed hosts an endpoint list selects (see
// endpoint.Resolver.Hosts).
func (r *resolver) hosts(names []string) []*inventory.Host {
	sel := r.ep.Hosts(names)
	out := make([]*inventory.Host, len(sel))
	for i, s := range sel {
		out[i] = s.Host
	}
	return out
}

// managed returns the managed hosts an endpoint list selects. The world
// includes every one of them: `to: any` opens every managed host's input,
// as explain and verify read it.
func (r *resolver) managed(names []string) []*inventory.Host { return r.hosts(names) }

// hasAny reports whether the list contains the world.
func hasAny(names []string) bool { return endpoint.IsAny(names) }

// token is an entry as it appears in a set name: role and network names
// as they are ([a-z0-9-]), the others marked with a '.' no role or
// network name holds, so no entry's token is another's.
func token(e string) string {
	ep, err := policy.ParseEndpoint(e)
	if err != nil {
		return e
	}
	switch ep.Kind {
	case policy.EndpointHost:
		return "host." + ep.Name
	case policy.EndpointPrefix:
		return "net." + strings.NewReplacer("/", "-", ":", ".").Replace(ep.Prefix.String())
	case policy.EndpointManagement:
		return policy.Management
	}
	return e
}

// set returns the named address set for an endpoint list (nil for any).
// keep, when non-nil, filters which entries count.
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
	key := strings.Join(members, "\x00")
	if name, ok := r.keys[key]; ok {
		return r.sets[name]
	}
	toks := make([]string, len(members))
	for i, m := range members {
		toks[i] = token(m)
	}
	name := strings.Join(toks, "_")
	for i := 2; r.names[name] != "" || r.sets[name] != nil; i++ {
		name = fmt.Sprintf("%s-%d", strings.Join(toks, "_"), i)
	}
	r.keys[key], r.names[name] = name, key
	s := &intent.AddrSet{Name: name, Members: members, Prefixes: r.ep.Addresses(members).Prefixes()}
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
