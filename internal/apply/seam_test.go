package apply

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/plan"
)

// TestGateRefusesBeforeAnyChange: the controller reaches one device from
// an address outside the management networks; the new policy would cut
// that connection, so the whole run is refused and no device changes.
func TestGateRefusesBeforeAnyChange(t *testing.T) {
	p, devs, open := setup(t)
	for _, d := range devs {
		d.From = netip.MustParseAddr("198.18.0.1") // inside webapp's management network
	}
	devs["db-2"].From = netip.MustParseAddr("203.0.113.50")
	rep, err := Run(context.Background(), p, open, Options{ConfirmWithin: time.Minute, Engine: engine.Options{MaxFailPercentage: -1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was pushed")
	assert.Contains(t, err.Error(), "db-2: lock-out guard: this controller reaches the device from 203.0.113.50")
	for h, d := range devs {
		assert.Equal(t, 0, d.Applies, "%s: nothing applied", h)
	}
	for _, d := range rep.Devices {
		assert.Equal(t, Failed, d.Outcome, d.Host)
		assert.Equal(t, "gate", d.Phase, d.Host)
	}
}

// TestDeviceLockRefusesSecondController: controller A's trial is pending
// on a device; controller B (another run, its own store) is refused on
// that device with A named, pushes the others, and cannot confirm A's
// trial. A's own confirm still works.
func TestDeviceLockRefusesSecondController(t *testing.T) {
	p, devs, open := setup(t)
	web1 := devs["web-1"]
	s, err := web1.Open(context.Background())
	require.NoError(t, err)
	a := drivers.Trial{Run: "run-a", Controller: "ctl-a", User: "alice", Since: time.Now()}
	_, err = s.Apply(context.Background(), driverstest.Config("a's policy\n"), drivers.ApplyOptions{Trial: a, ConfirmWithin: time.Minute})
	require.NoError(t, err)

	b := drivers.Trial{Run: "run-b", Controller: "ctl-b", User: "bob"}
	rep, err := Run(context.Background(), p, open, Options{ConfirmWithin: time.Minute, Trial: b, Engine: engine.Options{MaxFailPercentage: -1}})
	require.Error(t, err)
	assert.ErrorIs(t, err, fault.ErrLocked, "the kind survives the engine")
	assert.Contains(t, err.Error(), "web-1: apply: device locked by run run-a (alice on ctl-a")
	oc := outcomes(rep)
	assert.Equal(t, Failed, oc["web-1"])
	assert.Equal(t, "a's policy\n", web1.Running().String(), "B never touched A's trial")
	assert.Equal(t, "run-a", web1.Holder().Run)
	for _, h := range []string{"app-1", "db-1", "db-2", "web-2"} {
		assert.Equal(t, Confirmed, oc[h], h)
	}
	var locked *drivers.LockedError
	require.ErrorAs(t, s.Confirm(context.Background(), b), &locked, "B cannot confirm A's trial")
	assert.Equal(t, "run-a", locked.Holder.Run)
	require.NoError(t, s.Confirm(context.Background(), a))
	assert.Nil(t, web1.Holder())
}

// TestStaleReviewedPlanRefusesChangedDevice: a device changed between the
// plan a person approved and the push is refused; the others are pushed.
func TestStaleReviewedPlanRefusesChangedDevice(t *testing.T) {
	p, devs, open := setup(t)
	reviewed, _, err := plan.Live(context.Background(), p, open, engine.Options{MaxFailPercentage: -1})
	require.NoError(t, err)
	devs["db-1"].SetRunning(driverstest.Config("changed by hand\n"))
	rep, err := Push(context.Background(), p, reviewed, open, Options{ConfirmWithin: time.Minute, Engine: engine.Options{MaxFailPercentage: -1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "db-1: not pushed: its config changed since the reviewed plan")
	oc := outcomes(rep)
	assert.Equal(t, Failed, oc["db-1"])
	assert.Equal(t, 0, devs["db-1"].Applies)
	for _, h := range []string{"app-1", "db-2", "web-1", "web-2"} {
		assert.Equal(t, Confirmed, oc[h], h)
	}
}

// TestArmedDeadlineIsWaitedFor: a device whose timer counts in coarse
// units arms more than was asked; a push that cannot confirm waits for the
// armed deadline, so it reads the revert back instead of calling the
// device indeterminate.
func TestArmedDeadlineIsWaitedFor(t *testing.T) {
	p, devs, open := setup(t)
	for _, d := range devs {
		d.Granularity = 2 * time.Second
	}
	devs["db-1"].LockOut = true
	o := Options{ConfirmWithin: 300 * time.Millisecond, Settle: 200 * time.Millisecond, Engine: engine.Options{MaxFailPercentage: -1}}
	t0 := time.Now()
	rep, err := Run(context.Background(), p, open, o)
	require.Error(t, err)
	for _, d := range rep.Devices {
		if d.Host == "db-1" {
			assert.Equal(t, RolledBack, d.Outcome)
			require.NotNil(t, d.Armed)
			assert.Equal(t, 2*time.Second, d.Armed.Within, "300ms rounded up to the device's 2s unit")
		}
	}
	assert.GreaterOrEqual(t, time.Since(t0), 2*time.Second)
}
