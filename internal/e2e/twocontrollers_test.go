package e2e

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/testbed"
)

// TestTwoControllers replays the report on both Linux drivers:
// controller A pushes a policy that locks A out (revert in 20 s, never
// confirmed); controller B, another machine inside the management
// networks with a run store of its own, pushes 3 s later with a 10 s
// revert. Before, B's trial killed A's timer and overwrote its rollback
// file: B's revert restored A's unconfirmed policy and the host stayed
// locked out. Now the device holds the trial lock: B reads each host, sees
// A's lock, and is refused without arming anything; A's own timer
// restores the previous policy at its deadline; then B's push goes
// through.
func TestTwoControllers(t *testing.T) {
	t.Parallel()
	// Controller B: a lab namespace at an address of the management
	// networks, which every policy admits.
	ctlB := testbed.HostSpec{Name: "ctl-b", Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.200/15")}}
	e := newRelEnv(t, "baseline.yml", []testbed.HostSpec{ctlB})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e.push(t, ctx)
	before := map[string]string{}
	for _, h := range e.hostNames() {
		before[h] = e.hash(t, h)
	}

	// A: the lock-out of its own management. The guard would refuse it;
	// A pushes past it, as a controller whose path the policy does not
	// filter would.
	lock := e.with(t, "lockout.yml")
	stA, err := store.Open(filepath.Join(t.TempDir(), "a.db"))
	require.NoError(t, err)
	runA := store.NewRun("apply", "controller A")
	runA.Hostname, runA.Who = "ctl-a", "alice@ctl-a"
	aDone := make(chan *journal.Result, 1)
	go func() {
		res, _ := journal.Apply(ctx, stA, runA, lock.p, nil, lock.opener(),
			apply.Options{ConfirmWithin: 20 * time.Second, Engine: eo(), OutsideManagement: true})
		aDone <- res
	}()
	deadline := time.Now().Add(time.Minute)
	for _, h := range e.hostNames() {
		for !strings.Contains(e.sh(t, h, "cat /var/lib/fwpush/lock/holder 2>/dev/null || true"), runA.ID) {
			require.True(t, time.Now().Before(deadline), "%s: A's trial never took the lock", h)
			time.Sleep(200 * time.Millisecond)
		}
	}
	time.Sleep(3 * time.Second)

	// B: its own store, a shorter timer, dialling from ctl-b.
	next := e.with(t, "disjoint-a.yml")
	openB := plan.DriverOpener(next.reg, next.p.Inv, next.opts, func(ctx context.Context, network, addr string) (net.Conn, error) {
		return e.lab.DialFrom(ctx, "ctl-b", network, addr)
	})
	stB, err := store.Open(filepath.Join(t.TempDir(), "b.db"))
	require.NoError(t, err)
	runB := store.NewRun("apply", "controller B")
	runB.Hostname, runB.Who = "ctl-b", "bob@ctl-b"
	resB, err := journal.Apply(ctx, stB, runB, next.p, nil, openB, apply.Options{ConfirmWithin: 10 * time.Second, Engine: eo()})
	require.Error(t, err)
	assert.True(t, errors.Is(err, fault.ErrLocked), "%v", err)
	for _, d := range resB.Devices {
		assert.Equal(t, apply.Failed, d.Outcome, "%s: %s", d.Host, d.Error)
		assert.Nil(t, d.Armed, "%s: B armed nothing", d.Host)
		require.NotNil(t, d.Lock, "%s: B's read shows A's lock", d.Host)
		assert.Equal(t, runA.ID, d.Lock.Run)
		assert.Contains(t, d.Error, "device locked by run "+runA.ID+" (alice on ctl-a")
	}

	resA := <-aDone
	require.NotNil(t, resA)
	for _, d := range resA.Devices {
		assert.Equal(t, apply.RolledBack, d.Outcome, "%s: A's own timer reverted A: %s", d.Host, d.Error)
	}
	for _, h := range e.hostNames() {
		assert.Equal(t, before[h], e.hash(t, h), "%s: back on the policy before A, by A's timer", h)
		assert.False(t, e.armed(t, h), "%s: no timer left", h)
		assert.Equal(t, 1, strings.Count(e.sh(t, h, "cat /var/lib/fwpush/revert.log"), "reverted"), "%s: one revert: A's", h)
	}

	// With A's trial over, B goes through.
	resB, err = journal.Apply(ctx, stB, store.NewRun("apply", "controller B again"), next.p, nil, openB,
		apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.NoError(t, err)
	for _, d := range resB.Devices {
		assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
	}
}

// TestDeviceLockRefusesReadableController: the device lock itself, where
// the second controller can still reach the device (the first trial's
// policy does not cut it). Controller A arms a harmless change and stalls;
// B reads the device (its plan shows the lock, naming A), and its push is
// refused with ErrLocked on every host without arming anything, nor can it
// confirm or roll back A's trial. A confirms: B then pushes.
func TestDeviceLockRefusesReadableController(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t, "baseline.yml", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e.push(t, ctx)
	a := e.with(t, "disjoint-a.yml")
	b := e.with(t, "disjoint-b.yml")
	ta := drivers.Trial{Run: "run-a", Controller: "ctl-a", User: "alice", Since: time.Now().UTC().Truncate(time.Second)}
	for _, h := range e.hostNames() {
		pd, err := plan.Render(a.p, h)
		require.NoError(t, err)
		d := pd.Desired
		s, err := a.opener()(ctx, h)
		require.NoError(t, err)
		_, err = s.Apply(ctx, d, drivers.ApplyOptions{Trial: ta, ConfirmWithin: 2 * time.Minute})
		require.NoError(t, err, h)
		require.NoError(t, s.Close())
	}
	held := map[string]string{}
	for _, h := range e.hostNames() {
		held[h] = e.hash(t, h)
	}

	st, err := store.Open(filepath.Join(t.TempDir(), "b.db"))
	require.NoError(t, err)
	res, err := journal.Apply(ctx, st, store.NewRun("apply", "controller B"), b.p, nil, b.opener(),
		apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.Error(t, err)
	assert.True(t, errors.Is(err, fault.ErrLocked), "the kind reaches the caller: %v", err)
	for _, d := range res.Devices {
		assert.Equal(t, apply.Failed, d.Outcome, d.Host)
		require.NotNil(t, d.Lock, "%s: the plan read the lock", d.Host)
		assert.Equal(t, "run-a", d.Lock.Run)
		assert.Equal(t, "ctl-a", d.Lock.Controller)
		assert.Equal(t, "alice", d.Lock.User)
		assert.Contains(t, d.Error, "device locked by run run-a (alice on ctl-a")
		assert.Equal(t, held[d.Host], e.hash(t, d.Host), "%s: B changed nothing", d.Host)
	}

	tb := drivers.Trial{Run: "run-b", Controller: "ctl-b", User: "bob"}
	for _, h := range e.hostNames() {
		s, err := b.opener()(ctx, h)
		require.NoError(t, err)
		assert.ErrorIs(t, s.Confirm(ctx, tb), fault.ErrLocked, "%s: B cannot confirm A's trial", h)
		assert.ErrorIs(t, s.Rollback(ctx, drivers.Config{}, tb), fault.ErrLocked, "%s: nor roll it back", h)
		assert.True(t, e.armed(t, h), "%s: A's timer still armed", h)
		require.NoError(t, s.Confirm(ctx, ta), "%s: A confirms its own trial", h)
		require.NoError(t, s.Close())
	}

	res, err = journal.Apply(ctx, st, store.NewRun("apply", "controller B again"), b.p, nil, b.opener(),
		apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.NoError(t, err)
	for _, d := range res.Devices {
		assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
	}
}
