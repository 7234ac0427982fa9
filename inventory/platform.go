package inventory

import (
	"fmt"
	"strings"
)

// PlatformInfo is what loading an inventory needs to know of a platform:
// its canonical id, its default management port, and whether it filters
// transit traffic with interface ACLs (so a host of it may bind acls).
type PlatformInfo struct {
	ID         string
	Port       int
	NetworkACL bool
	// Transport is how the platform is reached by default ("ssh" for
	// exec channels, "ssh-cli", "netconf", "winrm").
	Transport string
}

// Platforms resolves the platform names an inventory uses (ids and the
// aliases of Nornir, NAPALM, scrapli, Ansible, containerlab). The driver
// registry implements it: the inventory keeps no list of its own.
type Platforms interface {
	InventoryPlatform(name string) (PlatformInfo, bool)
}

// formatNames are the names other tools' inventories give fwpush's
// platforms and the registry does not (yet) know: Ansible's
// collection-qualified ansible_network_os values (the short ios, nxos, eos,
// junos are the drivers' own aliases) and containerlab's kinds (current
// and older). They are keyed by the fwpush
// platform id and resolved through the registry like any other name, so an
// id with no driver stays unknown.
//
// They belong with each driver's Platform().Aliases, the one place that
// knows a platform (the CLI routers' are there); Junos's are here until
// its driver lands.
var formatNames = map[string][]string{
	"juniper-junos": {"junipernetworks.junos.junos", "juniper_crpd", "crpd", "juniper_vmx", "vr-vmx", "juniper_vqfx", "vr-vqfx", "juniper_vsrx", "vr-vsrx", "juniper_vjunosrouter", "juniper_vjunosswitch", "juniper_vjunosevolved", "juniper_cjunosevolved"},
}

// formatAlias maps each of formatNames to its id.
var formatAlias = func() map[string]string {
	m := map[string]string{}
	for id, names := range formatNames {
		for _, n := range names {
			m[n] = id
		}
	}
	return m
}()

// Option configures Load.
type Option func(*options) error

type options struct {
	platforms Platforms
}

// WithPlatforms resolves platform names through p: an unknown name is an
// error naming the file and line, aliases become ids, and hosts without a
// port get their platform's. Without it names are kept as written
// (lower-cased; formatNames become their ids), every default port is 22,
// and acls are not checked against the platform.
func WithPlatforms(p Platforms) Option {
	return func(o *options) error {
		if p == nil {
			return fmt.Errorf("inventory: WithPlatforms(nil)")
		}
		o.platforms = p
		return nil
	}
}

// resolvePlatform returns the platform info for name: an id or alias the
// registry knows, else one of formatNames through its id.
func (o *options) resolvePlatform(name string) (PlatformInfo, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if o.platforms == nil {
		if id, ok := formatAlias[n]; ok {
			n = id
		}
		return PlatformInfo{ID: n, Port: 22, NetworkACL: true, Transport: "ssh"}, true
	}
	if info, ok := o.platforms.InventoryPlatform(n); ok {
		return info, true
	}
	if id, ok := formatAlias[n]; ok {
		return o.platforms.InventoryPlatform(id)
	}
	return PlatformInfo{}, false
}

// groupPlatform is the platform a group's name is, if any: only names the
// registry or formatNames know count (without a registry, formatNames).
func (o *options) groupPlatform(name string) (PlatformInfo, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if o.platforms == nil {
		if _, ok := formatAlias[n]; !ok {
			return PlatformInfo{}, false
		}
	}
	return o.resolvePlatform(n)
}

// Platform resolves a platform name the way Load did.
func (inv *Inventory) Platform(name string) (PlatformInfo, bool) {
	return inv.opts.resolvePlatform(name)
}
