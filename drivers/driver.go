// Package drivers defines what every platform driver provides: a pure
// renderer from Intent to device-native config, and a session that fetches,
// applies (commit-confirmed), confirms and rolls back. One sub-package per
// platform; drivers/all lists them.
package drivers

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/inventory"
)

// Driver is one platform.
type Driver interface {
	// Render turns an Intent into the device's own config. It is pure and
	// deterministic: same Intent, same bytes.
	Render(in *intent.Intent) (Config, error)
	// Open connects to the device.
	Open(ctx context.Context, t Target) (Session, error)
	// Capabilities says what the platform can express.
	Capabilities() Capabilities
}

// Session is one connection to one device. Fetch returns only the part
// fwpush owns, in the same canonical form Render produces.
type Session interface {
	Fetch(ctx context.Context) (Config, error)
	// Apply installs desired atomically. With confirmWithin > 0 it first
	// arms a device-side revert that fires unless Confirm is called in time.
	Apply(ctx context.Context, desired Config, confirmWithin time.Duration) error
	Confirm(ctx context.Context) error
	// Rollback restores a previously fetched config.
	Rollback(ctx context.Context, to Config) error
	Close() error
}

// Validator is implemented by sessions that can check a config on the
// device without applying it (nft -c, commit check).
type Validator interface {
	Validate(ctx context.Context, desired Config) error
}

// Capabilities is what a platform supports; the engine refuses an Intent
// that needs more.
type Capabilities struct {
	IPv6          bool `json:"ipv6"`
	Logging       bool `json:"logging"`
	AddressSets   bool `json:"address_sets"`
	CommitConfirm bool `json:"commit_confirm"`
	HostFirewall  bool `json:"host_firewall"`
	NetworkACL    bool `json:"network_acl"`
}

// Target is what Open needs: the host and how to reach it.
type Target struct {
	Host *inventory.Host
	// Dial, when set, replaces the network dialer (the lab dials from
	// inside a network namespace).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Options carries transport settings (known_hosts, keys, timeouts).
	Options TransportOptions
}

// Config is device-native configuration in canonical form, in one or more
// named parts (nftables has one; iptables has an IPv4 and an IPv6 part).
type Config struct {
	Platform string `json:"platform"`
	Parts    []Part `json:"parts"`
}

// Part is one named piece of config text.
type Part struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// Part returns the text of the named part ("" when absent).
func (c Config) Part(name string) string {
	for _, p := range c.Parts {
		if p.Name == name {
			return p.Text
		}
	}
	return ""
}

// String joins the parts, each under a "# === name" header when there are
// several, for display and diffs.
func (c Config) String() string {
	if len(c.Parts) == 1 {
		return c.Parts[0].Text
	}
	var b strings.Builder
	for _, p := range c.Parts {
		fmt.Fprintf(&b, "# === %s\n%s", p.Name, p.Text)
		if !strings.HasSuffix(p.Text, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Registry maps platform ids to drivers.
type Registry struct{ m map[string]Driver }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Driver{}} }

// Register adds a driver; a duplicate id is an error.
func (r *Registry) Register(id string, d Driver) error {
	if _, dup := r.m[id]; dup {
		return fmt.Errorf("driver %q registered twice", id)
	}
	r.m[id] = d
	return nil
}

// Get returns the driver for a platform id.
func (r *Registry) Get(id string) (Driver, error) {
	d, ok := r.m[id]
	if !ok {
		return nil, fmt.Errorf("platform %s: no driver: %w", id, ErrUnsupported)
	}
	return d, nil
}

// IDs lists the registered platform ids, sorted.
func (r *Registry) IDs() []string {
	ids := make([]string, 0, len(r.m))
	for id := range r.m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
