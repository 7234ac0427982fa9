// Package driverstest has what every driver's tests share: an in-memory
// device with real commit-confirm timing for engine tests, and (later) the
// conformance suite every driver must pass.
package driverstest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fwpush/fwpush/drivers"
)

// Device is an in-memory device that keeps config state and reverts by
// itself when a confirmed apply is not confirmed in time. It is a test
// double for the engine, not a simulator of any vendor.
type Device struct {
	Name string

	mu      sync.Mutex
	running drivers.Config
	before  drivers.Config
	timer   *time.Timer
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
	// Applies and Confirms count calls, for "zero config commands" checks.
	Applies, Confirms, Opens int
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

// Open returns a session, or an unreachable error while locked out.
func (d *Device) Open(ctx context.Context) (drivers.Session, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Opens++
	if d.locked {
		return nil, fmt.Errorf("%s: connect: %w", d.Name, drivers.ErrUnreachable)
	}
	return &session{d: d}, nil
}

type session struct{ d *Device }

func (s *session) Fetch(ctx context.Context) (drivers.Config, error) { return s.d.Running(), nil }

func (s *session) Apply(ctx context.Context, desired drivers.Config, within time.Duration) error {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Applies++
	if d.Reject {
		return fmt.Errorf("%s: line 1: %w", d.Name, drivers.ErrRejected)
	}
	if d.StageFails {
		return fmt.Errorf("%s: stage: connection lost: %w: %w", d.Name, drivers.ErrIndeterminate, drivers.ErrNotApplied)
	}
	d.before, d.running = d.running, desired
	d.locked = d.LockOut
	if within > 0 {
		d.timer = time.AfterFunc(within, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.running, d.locked, d.timer = d.before, false, nil
		})
	}
	return nil
}

func (s *session) Confirm(ctx context.Context) error {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Confirms++
	if d.timer == nil {
		return fmt.Errorf("%s: confirm: nothing armed", d.Name)
	}
	d.timer.Stop()
	d.timer = nil
	return nil
}

func (s *session) Rollback(ctx context.Context, to drivers.Config) error {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.running, d.locked = to, false
	return nil
}

func (s *session) Close() error { return nil }

// Config is a one-part config for tests.
func Config(text string) drivers.Config {
	return drivers.Config{Platform: "linux-nftables", Parts: []drivers.Part{{Name: "nftables", Text: text}}}
}
