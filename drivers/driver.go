// Package drivers defines what every platform driver provides: a pure
// renderer from Intent to device-native config, and a session that fetches,
// applies (commit-confirmed), confirms and rolls back. One sub-package per
// platform; drivers/all lists them.
package drivers

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/fwpush/fwpush/internal/intent"
)

// Driver is one platform.
type Driver interface {
	// Render turns an Intent into the device's own config. It is pure and
	// deterministic: same Intent, same bytes.
	Render(in *intent.Intent) (Config, error)
	// Open connects to the device.
	Open(ctx context.Context, t Target) (Session, error)
	// Capabilities says what the platform can express; the compiler
	// refuses an Intent that needs more.
	Capabilities() Capabilities
}

// Session is one connection to one device. Fetch returns only the part
// fwpush owns, in the same canonical form Render produces.
//
// A change is a trial until it is confirmed: Apply takes the device's own
// lock for the trial (refusing with a *LockedError while another trial is
// pending, from any controller), arms the device-side revert when asked,
// and applies. Confirm and Rollback end the trial and release the lock;
// they act only on the trial they are given, so a late controller can
// never confirm or undo another's change.
type Session interface {
	Fetch(ctx context.Context) (Config, error)
	// Apply installs desired atomically (as far as the platform allows).
	// It returns what it armed: the deadline is the platform's, after
	// rounding the asked delay up to its timer granularity.
	Apply(ctx context.Context, desired Config, o ApplyOptions) (Armed, error)
	// Confirm keeps the trial's change for good (and persists it).
	Confirm(ctx context.Context, t Trial) error
	// Rollback ends the trial by restoring to (a config fetched earlier)
	// and persisting it.
	Rollback(ctx context.Context, to Config, t Trial) error
	Close() error
}

// Trial identifies one change on one device: the run that made it and
// who ran it. Devices record it with their lock, so any controller can
// tell who holds a device and since when.
type Trial struct {
	Run        string    `json:"run"`
	Controller string    `json:"controller"`
	User       string    `json:"user"`
	Since      time.Time `json:"since"`
}

func (t Trial) String() string {
	return fmt.Sprintf("run %s (%s on %s, since %s)", t.Run, t.User, t.Controller, t.Since.UTC().Format(time.RFC3339))
}

// ApplyOptions say how to apply.
type ApplyOptions struct {
	Trial Trial
	// ConfirmWithin > 0 arms a device-side revert that fires unless the
	// trial is confirmed in time. 0 applies for good (persisted at once).
	ConfirmWithin time.Duration
}

// Armed is the revert a session armed.
type Armed struct {
	// Within is the delay armed (ConfirmWithin rounded up to the
	// platform's timer granularity); Deadline when it fires, by the
	// controller's clock. Both are zero when nothing was armed.
	Within   time.Duration `json:"within_ns,omitempty"`
	Deadline time.Time     `json:"deadline,omitempty"`
}

// ArmedFor returns what arming within from now amounts to on a platform
// whose timer counts in units of granularity (0: exact).
func ArmedFor(within, granularity time.Duration, now time.Time) Armed {
	if within <= 0 {
		return Armed{}
	}
	if granularity > 0 {
		within = (within + granularity - 1) / granularity * granularity
	}
	return Armed{Within: within, Deadline: now.Add(within)}
}

// Validator is implemented by sessions that can check a config on the
// device without applying it (nft -c, commit check).
type Validator interface {
	Validate(ctx context.Context, desired Config) error
}

// ForeignReporter is implemented by sessions that can tell which rules
// outside fwpush's part can block what the policy permits.
type ForeignReporter interface {
	Foreign(ctx context.Context) ([]string, error)
}

// LockReporter is implemented by sessions that can read the device's
// trial lock without taking it: the trial holding it, or nil.
type LockReporter interface {
	DeviceLock(ctx context.Context) (*Trial, error)
}

// OriginReporter is implemented by sessions that can tell the address
// the device sees fwpush's management connection come from (after jump
// hosts and NAT): the lock-out guard proves the new policy admits it.
type OriginReporter interface {
	Origin(ctx context.Context) (netip.Addr, error)
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
