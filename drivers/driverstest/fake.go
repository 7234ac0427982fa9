// Package driverstest has what every driver's tests share: an in-memory
// device with real commit-confirm timing and a trial lock for engine
// tests, and the conformance suite every driver must pass.
package driverstest

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
)

// Device is an in-memory device that keeps config state, holds a trial
// lock while a confirmed apply is pending, and reverts by itself when it
// is not confirmed in time. It is a test double for the engine, not a
// simulator of any vendor.
type Device struct {
	Name string

	mu      sync.Mutex
	running drivers.Config
	before  drivers.Config
	timer   *time.Timer
	holder  *drivers.Trial
	// Reject makes Apply fail before changing anything.
	Reject bool
	// StageFails makes Apply fail while staging, as a real session does
	// when the connection drops before anything is armed: the transport
	// cannot tell (indeterminate), the session can (not applied).
	StageFails bool
	// LockOut makes every new connection fail while an unconfirmed change
	// is in place (a policy that drops new management connections).
	LockOut bool
	locked  bool
	// From is the address the device sees connections come from (Origin).
	From netip.Addr
	// Granularity is the unit of the device's revert timer: a confirm
	// delay is rounded up to it, as a CLI timer counts whole minutes.
	Granularity time.Duration
	// Refuses makes Validate and Apply refuse a config that contains it,
	// as a device's commit check, and its load, refuse a line.
	Refuses string
	// Applies and Confirms count calls, for "zero config commands" checks.
	Applies, Confirms, Opens, Validates int
}

// Running returns the device's current config.
func (d *Device) Running() drivers.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running
}

// SetRunning replaces the device's config (a manual change: drift).
func (d *Device) SetRunning(c drivers.Config) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running = c
}

// Holder returns the trial holding the device's lock, or nil.
func (d *Device) Holder() *drivers.Trial {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.holder
}

// Open returns a session, or an unreachable error while locked out.
func (d *Device) Open(ctx context.Context) (drivers.Session, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Opens++
	if d.locked {
		return nil, fmt.Errorf("connect: %w", fault.ErrUnreachable)
	}
	return &session{d: d}, nil
}

type session struct{ d *Device }

func (s *session) Fetch(ctx context.Context) (drivers.Config, error) { return s.d.Running(), nil }

func (s *session) Origin(ctx context.Context) (netip.Addr, error) { return s.d.From, nil }

func (s *session) DeviceLock(ctx context.Context) (*drivers.Trial, error) { return s.d.Holder(), nil }

func (s *session) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Applies++
	if d.holder != nil && d.holder.Run != o.Trial.Run {
		return drivers.Armed{}, &drivers.LockedError{Holder: *d.holder}
	}
	if d.Reject {
		return drivers.Armed{}, fmt.Errorf("line 1: %w", fault.ErrRejected)
	}
	if d.Refuses != "" && strings.Contains(desired.String(), d.Refuses) {
		return drivers.Armed{}, fmt.Errorf("load: %q: syntax error: %w", d.Refuses, fault.ErrRejected)
	}
	if d.StageFails {
		return drivers.Armed{}, fmt.Errorf("stage: connection lost: %w: %w", fault.ErrIndeterminate, fault.ErrNotApplied)
	}
	d.before, d.running = d.running, desired
	d.locked = d.LockOut
	armed := drivers.ArmedFor(o.ConfirmWithin, d.Granularity, time.Now())
	if o.ConfirmWithin > 0 {
		t := o.Trial
		d.holder = &t
		d.timer = time.AfterFunc(armed.Within, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.running, d.locked, d.timer, d.holder = d.before, false, nil, nil
		})
	}
	return armed, nil
}

func (s *session) Confirm(ctx context.Context, t drivers.Trial) error {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Confirms++
	if d.timer == nil || d.holder == nil {
		return fmt.Errorf("confirm: nothing armed")
	}
	if d.holder.Run != t.Run {
		return &drivers.LockedError{Holder: *d.holder}
	}
	d.timer.Stop()
	d.timer, d.holder = nil, nil
	return nil
}

func (s *session) Rollback(ctx context.Context, to drivers.Config, t drivers.Trial) error {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.holder != nil && d.holder.Run != t.Run {
		return &drivers.LockedError{Holder: *d.holder}
	}
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.running, d.locked, d.holder = to, false, nil
	return nil
}

// Validate checks desired without applying it (drivers.Validator).
func (s *session) Validate(ctx context.Context, desired drivers.Config) error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	s.d.Validates++
	if s.d.Refuses != "" && strings.Contains(desired.String(), s.d.Refuses) {
		return fmt.Errorf("commit check: %q: syntax error: %w", s.d.Refuses, fault.ErrRejected)
	}
	return nil
}

func (s *session) Close() error { return nil }

// Config is a one-part config for tests.
func Config(text string) drivers.Config {
	return drivers.Config{Platform: "linux-nftables", Parts: []drivers.Part{{Name: "nftables", Text: text}}}
}
