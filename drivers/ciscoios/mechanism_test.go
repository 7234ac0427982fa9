package ciscoios_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/ciscoios"
	"github.com/fwpush/fwpush/drivers/driverstest/routerlab"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

const base = "hostname sim-1\n!\ninterface GigabitEthernet0/1\n ip address 198.18.10.1 255.255.255.0\n!\n"
const archive = "archive\n path flash:archive\n maximum 14\n!\n"

func desired(t *testing.T) drivers.Config {
	t.Helper()
	in := &intent.Intent{Host: "sim-1", Sets: []*intent.AddrSet{{Name: "web", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.18.10.11/32")}}},
		Filters: []*intent.Filter{{Name: "FWPUSH-GI0-1-OUT", Binding: intent.Binding{Kind: intent.Interface, Interface: "GigabitEthernet0/1", Direction: "out"},
			Rules: []*intent.Rule{{ID: "flow-1", Kind: intent.FlowRule, Dst: "web", Proto: policy.TCP, Ports: []policy.PortRange{{Lo: 80, Hi: 80}}}}}}}
	c, err := ciscoios.New().Render(in)
	require.NoError(t, err)
	return c
}

var trial = drivers.Trial{Run: "r1", Controller: "ctl", User: "test", Since: time.Unix(0, 0).UTC()}

// TestNoArchiveRefused: without the configuration archive IOS-XE has no
// revert timer; plan says so and apply refuses before typing anything.
func TestNoArchiveRefused(t *testing.T) {
	lb := routerlab.StartLoopback(t, ciscoios.Platform(), "GigabitEthernet0/1", base)
	ctx := context.Background()
	s := lb.Open(t)
	warnings, err := s.(drivers.ForeignReporter).Foreign(ctx)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(warnings, "\n"), "configuration archive is off")
	_, err = s.Apply(ctx, desired(t), drivers.ApplyOptions{Trial: trial, ConfirmWithin: time.Minute})
	require.Error(t, err)
	assert.ErrorIs(t, err, fault.ErrNotApplied)
	assert.ErrorContains(t, err, "archive")
	assert.Zero(t, lb.Device.ConfigModeCommands(), "nothing typed")
}

// TestForeignRevertTimerHolds: a Rollback Confirmed Change someone else
// armed by hand holds the device as a trial fwpush did not make.
func TestForeignRevertTimerHolds(t *testing.T) {
	lb := routerlab.StartLoopback(t, ciscoios.Platform(), "GigabitEthernet0/1", base+archive)
	ctx := context.Background()
	lb.Device.Exec("configure terminal revert timer 30")
	s := lb.Open(t)
	_, err := s.Apply(ctx, desired(t), drivers.ApplyOptions{Trial: trial, ConfirmWithin: time.Minute})
	var locked *drivers.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Contains(t, locked.Holder.Run, "did not arm")
	assert.Equal(t, "admin", locked.Holder.User)
}

// TestNoConfirmPushSaves: a push without a trial still types under a
// revert timer (a refused line is rolled back at once), confirms it at
// once and saves.
func TestNoConfirmPushSaves(t *testing.T) {
	lb := routerlab.StartLoopback(t, ciscoios.Platform(), "GigabitEthernet0/1", base+archive)
	ctx := context.Background()
	s := lb.Open(t)
	armed, err := s.Apply(ctx, desired(t), drivers.ApplyOptions{Trial: trial})
	require.NoError(t, err)
	assert.Zero(t, armed)
	assert.Empty(t, lb.Device.PendingTimers())
	assert.Contains(t, lb.Device.StartupConfig(), "FWPUSH-GI0-1-OUT-1")
	got, err := lb.Open(t).Fetch(ctx)
	require.NoError(t, err)
	assert.Equal(t, desired(t).String(), got.String())
}
