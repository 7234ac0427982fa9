package aristaeos_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/aristaeos"
	"github.com/fwpush/fwpush/drivers/driverstest/routerlab"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

const base = "hostname sim-1\n!\ninterface Ethernet1\n   ip address 198.18.10.1/24\n!\n"

func desired(t *testing.T) drivers.Config {
	t.Helper()
	in := &intent.Intent{Host: "sim-1", Sets: []*intent.AddrSet{{Name: "web", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.18.10.11/32")}}},
		Filters: []*intent.Filter{{Name: "FWPUSH-ETHERNET1-OUT", Binding: intent.Binding{Kind: intent.Interface, Interface: "Ethernet1", Direction: "out"},
			Rules: []*intent.Rule{{ID: "flow-1", Kind: intent.FlowRule, Dst: "web", Proto: policy.TCP, Ports: []policy.PortRange{{Lo: 80, Hi: 80}}}}}}}
	c, err := aristaeos.New().Render(in)
	require.NoError(t, err)
	return c
}

var trial = drivers.Trial{Run: "r1", Controller: "ctl", User: "test", Since: time.Unix(0, 0).UTC()}

// TestForeignCommitTimerHolds: a session someone committed with a timer
// by hand holds the device (EOS keeps one pending commit timer at a time).
func TestForeignCommitTimerHolds(t *testing.T) {
	lb := routerlab.StartLoopback(t, aristaeos.Platform(), "Ethernet1", base)
	lb.Device.Exec("configure session by-hand")
	lb.Device.Exec("configure session by-hand commit timer 00:10:00")
	ctx := context.Background()
	_, err := lb.Open(t).Apply(ctx, desired(t), drivers.ApplyOptions{Trial: trial, ConfirmWithin: time.Minute})
	var locked *drivers.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Contains(t, locked.Holder.Run, "by-hand")
	assert.Len(t, lb.Device.PendingTimers(), 1, "the other change is left alone")
}

// TestSessionNames: a trial's session is fwpush-<run>; a run id whose
// session name is taken (EOS never re-enters a completed session) gets a
// fresh one, and the trial still confirms from a new connection.
func TestSessionNames(t *testing.T) {
	lb := routerlab.StartLoopback(t, aristaeos.Platform(), "Ethernet1", base)
	lb.Device.Exec("configure session fwpush-r1")
	lb.Device.Exec("configure session fwpush-r1 commit")
	ctx := context.Background()
	armed, err := lb.Open(t).Apply(ctx, desired(t), drivers.ApplyOptions{Trial: trial, ConfirmWithin: 90 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, armed.Within)
	timers := lb.Device.PendingTimers()
	require.Len(t, timers, 1)
	assert.Regexp(t, `^fwpush-r1-[0-9a-f]{6}$`, timers[0].Name)
	require.NoError(t, lb.Open(t).Confirm(ctx, trial))
	assert.Empty(t, lb.Device.PendingTimers())
	assert.NotContains(t, lb.Device.RunningConfig(), "FWPUSH-LOCK")
	assert.Contains(t, lb.Device.StartupConfig(), "FWPUSH-ETHERNET1-OUT-1")
}
