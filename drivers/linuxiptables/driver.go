package linuxiptables

import (
	"context"
	"fmt"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/intent"
)

// ID is the platform id inventories use.
const ID = "linux-iptables"

// Platform registers the driver: Linux hosts reached over SSH exec
// channels.
func Platform() drivers.Platform {
	return drivers.Platform{ID: ID, Aliases: []string{"iptables"}, Transport: drivers.SSH, Port: 22, Driver: New()}
}

// The config parts: iptables-restore input for IPv4 and for IPv6.
const (
	PartIPv4 = "iptables"
	PartIPv6 = "ip6tables"
)

// Our chains. fwpush owns every filter-table chain named FWPUSH-* and
// nothing else; the builtin chains only get one jump each (see HookRules).
const (
	ChainPrefix = "FWPUSH-"
	InputChain  = "FWPUSH-INPUT"
	OutputChain = "FWPUSH-OUTPUT"
)

// Driver renders Intents for Linux hosts filtered with iptables.
type Driver struct{}

// New returns the iptables driver.
func New() *Driver { return &Driver{} }

// Capabilities: iptables has no native address sets (we do not depend on
// ipset), so sets are expanded into one rule per prefix; there is no
// native commit-confirm, the session arms a host-side revert timer.
func (*Driver) Capabilities() drivers.Capabilities {
	return drivers.Capabilities{HostFirewall: true, Egress: true, IPv6: true, Stateful: true,
		Logging: true, ICMPTypes: true, Reject: true,
		CommitConfirm: true, TimerGranularity: time.Second, ProbeSource: true}
}

// Open connects over SSH; the session fetches iptables-save through
// Canonicalize, validates with Check and iptables-restore --test, arms a
// host-side revert timer when asked to confirm, then restores with
// --noflush and fixes the hook jumps.
func (*Driver) Open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	return open(ctx, t)
}

// Render returns the IPv4 and IPv6 parts in canonical form: byte for byte
// what Canonicalize makes of iptables-save (1.8.9) after loading them.
func (*Driver) Render(in *intent.Intent) (drivers.Config, error) {
	c := drivers.Config{Platform: ID}
	for _, p := range []struct {
		name string
		fam  int
	}{{PartIPv4, 4}, {PartIPv6, 6}} {
		text, err := render(in, p.fam)
		if err != nil {
			return drivers.Config{}, fmt.Errorf("%s: %w", p.name, err)
		}
		c.Parts = append(c.Parts, drivers.Part{Name: p.name, Text: text})
	}
	return c, nil
}
