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
// (lower-cased), every default port is 22, and acls are not checked
// against the platform.
func WithPlatforms(p Platforms) Option {
	return func(o *options) error {
		if p == nil {
			return fmt.Errorf("inventory: WithPlatforms(nil)")
		}
		o.platforms = p
		return nil
	}
}

// resolvePlatform returns the platform info for name.
func (o *options) resolvePlatform(name string) (PlatformInfo, bool) {
	if o.platforms == nil {
		return PlatformInfo{ID: strings.ToLower(strings.TrimSpace(name)), Port: 22, NetworkACL: true, Transport: "ssh"}, true
	}
	return o.platforms.InventoryPlatform(name)
}

// Platform resolves a platform name the way Load did.
func (inv *Inventory) Platform(name string) (PlatformInfo, bool) {
	return inv.opts.resolvePlatform(name)
}
