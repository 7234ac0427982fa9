package cisconxos_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/cisconxos"
	"github.com/fwpush/fwpush/drivers/driverstest/routerlab"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

const base = "hostname sim-1\n\ninterface Ethernet1/1\n  ip address 198.18.10.1/24\n"

func desired(t *testing.T) drivers.Config {
	t.Helper()
	in := &intent.Intent{Host: "sim-1", Sets: []*intent.AddrSet{{Name: "web", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.18.10.11/32")}}},
		Filters: []*intent.Filter{{Name: "FWPUSH-ETHERNET1-1-OUT", Binding: intent.Binding{Kind: intent.Interface, Interface: "Ethernet1/1", Direction: "out"},
			Rules: []*intent.Rule{{ID: "flow-1", Kind: intent.FlowRule, Dst: "web", Proto: policy.TCP, Ports: []policy.PortRange{{Lo: 80, Hi: 80}}}}}}}
	c, err := cisconxos.New().Render(in)
	require.NoError(t, err)
	return c
}

var trial = drivers.Trial{Run: "r1", Controller: "ctl", User: "test", Since: time.Unix(0, 0).UTC()}

// TestStaleCheckpointReplaced: the checkpoint a reverted trial leaves
// (its applet gone with the rollback) holds nothing: the next trial
// replaces it, arms, and confirms.
func TestStaleCheckpointReplaced(t *testing.T) {
	lb := routerlab.StartLoopback(t, cisconxos.Platform(), "Ethernet1/1", base)
	lb.Device.Exec("checkpoint fwpush-trial")
	ctx := context.Background()
	armed, err := lb.Open(t).Apply(ctx, desired(t), drivers.ApplyOptions{Trial: trial, ConfirmWithin: 45 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 45*time.Second, armed.Within)
	require.Len(t, lb.Device.PendingTimers(), 1)
	require.NoError(t, lb.Open(t).Confirm(ctx, trial))
	assert.Empty(t, lb.Device.PendingTimers())
	assert.NotContains(t, lb.Device.Exec("show checkpoint summary"), "fwpush-trial", "confirm removes the checkpoint")
	assert.NotContains(t, lb.Device.RunningConfig(), "FWPUSH-REVERT")
}

// TestArmedAppletWithoutLockHolds: an applet FWPUSH-REVERT without a lock
// is a trial being armed (or one fwpush did not make): it holds the
// device.
func TestArmedAppletWithoutLockHolds(t *testing.T) {
	lb := routerlab.StartLoopback(t, cisconxos.Platform(), "Ethernet1/1", base+
		"\nevent manager applet FWPUSH-REVERT\n  event timer countdown time 600\n  action 1 cli command \"show version\"\n")
	_, err := lb.Open(t).Apply(context.Background(), desired(t), drivers.ApplyOptions{Trial: trial, ConfirmWithin: time.Minute})
	var locked *drivers.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Contains(t, locked.Holder.Run, "without a lock")
}

// TestFailedCommitUndone: a session commit the device refuses applies
// nothing, and the trial is undone: no applet, lock or checkpoint left.
func TestFailedCommitUndone(t *testing.T) {
	lb := routerlab.StartLoopback(t, cisconxos.Platform(), "Ethernet1/1", base)
	before := lb.Device.Exec("show running-config aclmgr")
	lb.Device.FailNextCommit()
	_, err := lb.Open(t).Apply(context.Background(), desired(t), drivers.ApplyOptions{Trial: trial, ConfirmWithin: time.Minute})
	require.Error(t, err)
	assert.ErrorContains(t, err, "Commit Failed")
	assert.Empty(t, lb.Device.PendingTimers())
	assert.Equal(t, stripTime(before), stripTime(lb.Device.Exec("show running-config aclmgr")))
	assert.NotContains(t, lb.Device.Exec("show checkpoint summary"), "fwpush-trial")
}

func stripTime(s string) string {
	var out []byte
	for _, l := range splitLines(s) {
		if len(l) > 0 && l[0] == '!' {
			continue
		}
		out = append(out, l+"\n"...)
	}
	return string(out)
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// TestCountdownFiredBeforeCommit: had the revert countdown fired around
// the commit (the device rolls back to the checkpoint as the commit
// lands), the device could hold the change with no revert armed: Apply
// sees the trial gone, undoes whatever the commit left, and fails.
func TestCountdownFiredBeforeCommit(t *testing.T) {
	lb := routerlab.StartLoopback(t, cisconxos.Platform(), "Ethernet1/1", base)
	before := stripTime(lb.Device.Exec("show running-config aclmgr"))
	// The countdown fires as the commit arrives, after the arming.
	lb.Device.OnConfigLine(func(line string) bool {
		if line != "commit" {
			return false
		}
		go lb.Clock.Advance(10 * time.Minute)
		return true
	})
	_, err := lb.Open(t).Apply(context.Background(), desired(t), drivers.ApplyOptions{Trial: trial, ConfirmWithin: time.Minute})
	require.Error(t, err)
	assert.ErrorContains(t, err, "fired before the change was committed")
	assert.Empty(t, lb.Device.PendingTimers())
	assert.Equal(t, before, stripTime(lb.Device.Exec("show running-config aclmgr")), "the late commit was undone")
	assert.NotContains(t, lb.Device.RunningConfig(), "FWPUSH-REVERT")
}
