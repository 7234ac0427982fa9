// Package checktest has what tests of compliance checks share: the
// webapp example on in-memory devices whose state a test sets (changed
// by hand, down, with foreign rules).
package checktest

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
)

// Fleet is the webapp example on in-memory devices, each in a state a
// compliance check must tell apart.
type Fleet struct {
	P    *project.Project
	Devs map[string]*driverstest.Device
	// Foreign are the foreign-rule warnings a device reports.
	Foreign map[string][]string
	// Down are the hosts that cannot be reached.
	Down map[string]bool
}

// NewFleet loads the webapp example from root (the repository) onto
// in-memory devices that all have the policy.
func NewFleet(t *testing.T, root string) *Fleet {
	t.Helper()
	return NewFleetOf(t, root+"/inventory/examples/webapp", root+"/playbooks/examples/webapp.yml")
}

// NewFleetOf loads any inventory and playbook onto in-memory devices
// that all have the policy.
func NewFleetOf(t *testing.T, inventory, playbook string) *Fleet {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: inventory, Playbook: playbook})
	require.NoError(t, err)
	f := &Fleet{P: p, Devs: map[string]*driverstest.Device{}, Foreign: map[string][]string{}, Down: map[string]bool{}}
	for _, h := range p.Selected {
		d, err := plan.Render(p, h.Name)
		require.NoError(t, err)
		dev := &driverstest.Device{Name: h.Name}
		dev.SetRunning(d.Desired) // compliant until a case says otherwise
		f.Devs[h.Name] = dev
	}
	return f
}

// Opener opens sessions to the fleet's devices.
func (f *Fleet) Opener() plan.Opener {
	return func(ctx context.Context, host string) (drivers.Session, error) {
		if f.Down[host] {
			return nil, fmt.Errorf("dial %s: %w", host, fault.ErrUnreachable)
		}
		s, err := f.Devs[host].Open(ctx)
		if err != nil {
			return nil, err
		}
		return &foreignSession{Session: s, warnings: f.Foreign[host]}, nil
	}
}

// foreignSession adds foreign-rule warnings to a fake device's session,
// keeping its lock and origin reports.
type foreignSession struct {
	drivers.Session
	warnings []string
}

func (s *foreignSession) Foreign(ctx context.Context) ([]string, error) { return s.warnings, nil }

func (s *foreignSession) DeviceLock(ctx context.Context) (*drivers.Trial, error) {
	return s.Session.(drivers.LockReporter).DeviceLock(ctx)
}

func (s *foreignSession) Origin(ctx context.Context) (netip.Addr, error) {
	return s.Session.(drivers.OriginReporter).Origin(ctx)
}

// Edit changes one line of a device's running config by hand.
func Edit(t *testing.T, d *driverstest.Device, old, new string) {
	t.Helper()
	c := d.Running()
	require.Contains(t, c.Parts[0].Text, old)
	c.Parts = append([]drivers.Part(nil), c.Parts...)
	c.Parts[0].Text = strings.Replace(c.Parts[0].Text, old, new, 1)
	d.SetRunning(c)
}

// Scenario puts the fleet in one state of each kind: web-1 changed by
// hand (MySQL opened, the IPv4 monitoring scrape gone), web-2 without
// fwpush's chains, app-1 with a foreign chain that drops, db-1 under
// another run's pending trial, db-2 down.
func (f *Fleet) Scenario(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	Edit(t, f.Devs["web-1"], "\t\tip saddr @monitoring_v4 tcp dport 9100 accept comment \"flow 5: Prometheus scrapes every host\"\n",
		"\t\ttcp dport 3306 accept\n")
	f.Devs["web-2"].SetRunning(drivers.Config{Platform: "linux-iptables", Parts: []drivers.Part{{Name: "iptables", Text: ""}, {Name: "ip6tables", Text: ""}}})
	f.Foreign["app-1"] = []string{"foreign chain inet filter input (hook input) has policy drop: it can block traffic this policy permits"}
	s, err := f.Devs["db-1"].Open(ctx)
	require.NoError(t, err)
	trial := drivers.Trial{Run: "run-of-bob", Controller: "ctl-b", User: "bob", Since: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	_, err = s.Apply(ctx, f.Devs["db-1"].Running(), drivers.ApplyOptions{Trial: trial, ConfirmWithin: time.Hour})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Rollback(ctx, f.Devs["db-1"].Running(), trial) })
	f.Down["db-2"] = true
}
