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

// Option configures Load.
type Option func(*options) error

type options struct {
	platforms Platforms
}

// WithPlatforms resolves platform names through p: an unknown name is an
// error naming the file and line, aliases become ids, and hosts without a
// port get their platform's. Without it names are kept as written
// (lower-cased), every default port is 22,
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
// registry knows (other tools' names for a platform are its driver's
// aliases).
func (o *options) resolvePlatform(name string) (PlatformInfo, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if o.platforms == nil {
		return PlatformInfo{ID: n, Port: 22, NetworkACL: true, Transport: "ssh"}, true
	}
	return o.platforms.InventoryPlatform(n)
}

// groupPlatform is the platform a group's name is, if any: only names the
// registry knows count, so without one no group names a platform.
func (o *options) groupPlatform(name string) (PlatformInfo, bool) {
	if o.platforms == nil {
		return PlatformInfo{}, false
	}
	return o.resolvePlatform(name)
}

// Platform resolves a platform name the way Load did.
func (inv *Inventory) Platform(name string) (PlatformInfo, bool) {
	return inv.opts.resolvePlatform(name)
}
