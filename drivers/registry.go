package drivers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/inventory"
)

// Transport names how a platform is reached by default.
type Transport string

// Transports.
const (
	SSH     Transport = "ssh"     // exec channels (Linux)
	CLI     Transport = "ssh-cli" // an interactive CLI over SSH
	NETCONF Transport = "netconf" // NETCONF over SSH
	WinRM   Transport = "winrm"
)

// Platform is what a driver registers: its id, the other names inventories
// use for it (Nornir, NAPALM, Netmiko, scrapli, Ansible, containerlab), how
// it is reached, and the driver. It is the one place fwpush learns about a
// platform.
type Platform struct {
	ID        string
	Aliases   []string
	Transport Transport
	// Port is the management port when the inventory names none.
	Port   int
	Driver Driver
}

// Registry maps platform ids and aliases to platforms.
type Registry struct {
	byID   map[string]Platform
	byName map[string]string // lower-case id or alias → id
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byID: map[string]Platform{}, byName: map[string]string{}}
}

// Register adds a platform; a duplicate id or alias is an error.
func (r *Registry) Register(p Platform) error {
	if p.ID == "" || p.Driver == nil || p.Port < 1 || p.Port > 65535 {
		return fmt.Errorf("platform %q: id, driver and a port are required", p.ID)
	}
	names := append([]string{p.ID}, p.Aliases...)
	for _, n := range names {
		if id, dup := r.byName[strings.ToLower(n)]; dup {
			return fmt.Errorf("platform %q: name %q already registered by %q", p.ID, n, id)
		}
	}
	for _, n := range names {
		r.byName[strings.ToLower(n)] = p.ID
	}
	r.byID[p.ID] = p
	return nil
}

// Lookup resolves a platform id or alias, case-insensitively.
func (r *Registry) Lookup(name string) (Platform, bool) {
	id, ok := r.byName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Platform{}, false
	}
	return r.byID[id], true
}

// Get returns the driver for a platform id or alias.
func (r *Registry) Get(name string) (Driver, error) {
	p, ok := r.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("platform %s: no driver: %w", name, fault.ErrUnsupported)
	}
	return p.Driver, nil
}

// Capabilities returns what the named platform can express.
func (r *Registry) Capabilities(name string) (Capabilities, error) {
	d, err := r.Get(name)
	if err != nil {
		return Capabilities{}, err
	}
	return d.Capabilities(), nil
}

// IDs lists the registered platform ids, sorted.
func (r *Registry) IDs() []string {
	ids := make([]string, 0, len(r.byID))
	for id := range r.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Names lists every id and alias, sorted, for error messages.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// InventoryPlatform makes the registry the inventory's platform resolver
// (inventory.WithPlatforms).
func (r *Registry) InventoryPlatform(name string) (inventory.PlatformInfo, bool) {
	p, ok := r.Lookup(name)
	if !ok {
		return inventory.PlatformInfo{}, false
	}
	return inventory.PlatformInfo{ID: p.ID, Port: p.Port, NetworkACL: p.Driver.Capabilities().NetworkACL, Transport: string(p.Transport)}, true
}
