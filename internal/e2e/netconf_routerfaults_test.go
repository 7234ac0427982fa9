package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/transport/netconf"
	"github.com/fwpush/fwpush/testbed/netconflab"
)

// The RELIABILITY.md faults that apply to network devices, on a router
// between the controller's segment and a web host's (testdata/
// routerfaults), for each NETCONF platform. Timers are short: a trial that
// must revert waits for the device's own timer.
const (
	rf         = "testdata/routerfaults/"
	rtr        = "rtr-1"
	routerWait = 6 * time.Second
)

// running reads the router's whole running configuration through a
// session of the test's own over the router's loopback, which no filter
// touches (so it works when the controller is locked out).
func (e *routedEnv) running(t *testing.T, ctx context.Context) string {
	t.Helper()
	addr := e.p.Inv.Hosts[rtr].Hostname
	s, err := netconflab.Dial(ctx, e.lab, rtr, addr)
	require.NoError(t, err)
	defer s.Close()
	got, err := s.GetConfig(ctx, netconf.Running, "")
	require.NoError(t, err)
	return got
}

// edits counts the configuration changes netconfd has logged (each
// edit-config and commit writes an edit-transaction).
func (e *routedEnv) edits(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(e.nds[rtr].Log)
	require.NoError(t, err)
	return strings.Count(string(b), "edit-transaction")
}

func (e *routedEnv) render(t *testing.T, playbook string) drivers.Config {
	t.Helper()
	d, err := plan.Render(e.under(t, rf+playbook, rtr).p, rtr)
	require.NoError(t, err)
	return d.Desired
}

func (e *routedEnv) session(t *testing.T, ctx context.Context) drivers.Session {
	t.Helper()
	s, err := e.opener(t)(ctx, rtr)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// noTrial checks the router holds no trial and its candidate is free.
func (e *routedEnv) noTrial(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	lr, ok := e.session(t, ctx).(drivers.LockReporter)
	require.True(t, ok)
	holder, err := lr.DeviceLock(ctx)
	require.NoError(t, err)
	assert.Nil(t, holder, "%s: no trial marker left", what)
	s, err := netconflab.Dial(ctx, e.lab, rtr, e.p.Inv.Hosts[rtr].Hostname)
	require.NoError(t, err)
	defer s.Close()
	assert.NoError(t, s.Lock(ctx, netconf.Candidate), "%s: no lock left", what)
	assert.NoError(t, s.Unlock(ctx, netconf.Candidate))
}

// TestRouterFaults runs the network-device faults in sequence on one
// router per platform.
func TestRouterFaults(t *testing.T) {
	for _, platform := range []string{"junos", "openconfig"} {
		t.Run(platform, func(t *testing.T) {
			t.Parallel()
			e := newRoutedEnv(t, rf+platform, rf+"baseline.yml")
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			rep, err := apply.Run(ctx, e.p, e.opener(t), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
			require.NoError(t, err)
			for _, d := range rep.Devices {
				require.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
			}
			change := e.under(t, rf+"change.yml", rtr)

			t.Run("A12 dry run", func(t *testing.T) { routerDryRun(t, ctx, e, change) })
			t.Run("A7 device rejects", func(t *testing.T) { routerRejects(t, ctx, e) })
			t.Run("A8 A15 candidate locked", func(t *testing.T) { routerLocked(t, ctx, e) })
			t.Run("A4 link cut after arming", func(t *testing.T) { routerLinkCut(t, ctx, e) })
			t.Run("A15 reboot during the trial", func(t *testing.T) { routerReboot(t, ctx, e) })
			t.Run("A1 A2 lockout reverted by the device", func(t *testing.T) { routerLockout(t, ctx, e) })
			t.Run("A6 timer units", func(t *testing.T) { routerTimer(t, ctx, e, 10*time.Second) })
			t.Run("A14 controller killed", func(t *testing.T) { routerControllerKilled(t, ctx, e) })
		})
	}
}

// routerDryRun is A12 then A11: a plan reads and changes nothing (no
// edit, no commit, no lock left, running byte-identical); the push then
// applies exactly the planned diff; pushing again changes nothing.
func routerDryRun(t *testing.T, ctx context.Context, e, change *routedEnv) {
	before, edits := e.running(t, ctx), e.edits(t)
	pl, _, err := plan.Live(ctx, change.p, e.opener(t), eo())
	require.NoError(t, err)
	require.True(t, pl.Changes())
	assert.Equal(t, before, e.running(t, ctx), "A12: running byte-identical after a dry run")
	assert.Equal(t, edits, e.edits(t), "A12: no edit or commit sent")
	e.noTrial(t, ctx, "A12")

	rep, err := apply.Run(ctx, change.p, e.opener(t), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.NoError(t, err)
	require.Equal(t, apply.Confirmed, rep.Devices[0].Outcome, rep.Devices[0].Error)
	assert.Equal(t, pl.Devices[0].Diff.Unified, rep.Devices[0].Diff.Unified, "A12: the dry run's diff is the one applied")

	edits = e.edits(t)
	rep, err = apply.Run(ctx, change.p, e.opener(t), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.NoError(t, err)
	assert.Equal(t, apply.Unchanged, rep.Devices[0].Outcome, "A11: a second push changes nothing")
	assert.Equal(t, edits, e.edits(t), "A11: and sends no configuration")
}

// routerRejects is A7 for NETCONF: a config the device's schema refuses is
// rejected at load; running stays byte-identical, nothing is committed,
// no trial or lock is left, and the error carries the device's own
// message (the engine, not the driver, names the host).
func routerRejects(t *testing.T, ctx context.Context, e *routedEnv) {
	good := e.render(t, "change.yml")
	bad := good
	bad.Parts = []drivers.Part{{Name: good.Parts[0].Name, Text: rejectable(good)}}
	before := e.running(t, ctx)
	_, err := e.session(t, ctx).Apply(ctx, bad, drivers.ApplyOptions{Trial: testTrial, ConfirmWithin: okTimer})
	require.Error(t, err)
	t.Logf("rejected: %v", err)
	assert.ErrorIs(t, err, fault.ErrRejected)
	assert.NotContains(t, err.Error(), rtr, "the engine names the host once")
	var re *netconf.RPCError
	assert.True(t, errors.As(err, &re), "the device's rpc-error is kept")
	assert.Equal(t, before, e.running(t, ctx), "running byte-identical")
	e.noTrial(t, ctx, "A7")
}

// rejectable breaks a rendered config in a way only the device's schema
// can tell: an action the model does not have.
func rejectable(c drivers.Config) string {
	text := c.Parts[0].Text
	switch c.Platform {
	case "juniper-junos":
		return strings.Replace(text, "then accept;", "then bounce;", 1)
	default:
		return strings.Replace(text, "<forwarding-action>ACCEPT</forwarding-action>", "<forwarding-action>BOUNCE</forwarding-action>", 1)
	}
}

// routerLocked is A15's lock half and A8: while another session holds the
// candidate, the router is refused at once, naming the holder, and the
// other device of the run is pushed as usual.
func routerLocked(t *testing.T, ctx context.Context, e *routedEnv) {
	s, err := netconflab.Dial(ctx, e.lab, rtr, e.p.Inv.Hosts[rtr].Hostname)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Lock(ctx, netconf.Candidate))
	t0 := time.Now()
	rep, err := apply.Run(ctx, e.p, e.opener(t), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.Error(t, err, "a run with a failed device fails")
	for _, d := range rep.Devices {
		switch d.Host {
		case rtr:
			assert.Equal(t, apply.Failed, d.Outcome)
			assert.ErrorIs(t, d.Err, fault.ErrLocked)
			assert.Contains(t, d.Error, "NETCONF session", "names the holder")
		default:
			assert.Contains(t, []apply.Outcome{apply.Confirmed, apply.Unchanged}, d.Outcome, "%s: %s", d.Host, d.Error)
		}
	}
	assert.Less(t, time.Since(t0), 30*time.Second, "lock contention fails fast")
	require.NoError(t, s.Unlock(ctx, netconf.Candidate))
}

// routerLinkCut is A4 after arming: the router's links go down once the
// trial is committed; the device reverts by itself at its deadline, and
// once the links are back it holds the old policy and no trial.
func routerLinkCut(t *testing.T, ctx context.Context, e *routedEnv) {
	old := e.render(t, "change.yml")
	s := e.session(t, ctx)
	cur, err := s.Fetch(ctx)
	require.NoError(t, err)
	require.Equal(t, old.String(), cur.String())
	armed, err := s.Apply(ctx, e.render(t, "baseline.yml"), drivers.ApplyOptions{Trial: testTrial, ConfirmWithin: routerWait})
	require.NoError(t, err)
	require.NoError(t, e.lab.SetLink(ctx, rtr, false))
	// netconfd checks its deadline when idle: the agent waits too.
	e.agents[rtr].Pause(true)
	time.Sleep(time.Until(armed.Deadline) + 4*time.Second)
	e.agents[rtr].Pause(false)
	require.NoError(t, e.lab.SetLink(ctx, rtr, true))
	got, err := e.session(t, ctx).Fetch(ctx)
	require.NoError(t, err)
	assert.Equal(t, old.String(), got.String(), "A4: the old policy, whole")
	e.noTrial(t, ctx, "A4")
}

// routerReboot is A15: a reboot during the trial brings the old policy
// back (only a confirmed commit is saved) and leaves no trial.
func routerReboot(t *testing.T, ctx context.Context, e *routedEnv) {
	old := e.render(t, "change.yml")
	_, err := e.session(t, ctx).Apply(ctx, e.render(t, "baseline.yml"), drivers.ApplyOptions{Trial: testTrial, ConfirmWithin: time.Minute})
	require.NoError(t, err)
	require.NoError(t, e.nds[rtr].Restart(ctx))
	got, err := e.session(t, ctx).Fetch(ctx)
	require.NoError(t, err)
	assert.Equal(t, old.String(), got.String(), "A15: the saved policy after the reboot")
	e.noTrial(t, ctx, "A15")
}

// routerLockout is A1 and A2: a policy whose router ACL drops the
// controller's new sessions is refused by the lock-out guard; pushed
// anyway, it keeps the controller's established session alive (the
// stateless filter passes ACK segments) but is never confirmed over it:
// the check over a new session fails, and the device's own confirmed-
// commit timer reverts it.
func routerLockout(t *testing.T, ctx context.Context, e *routedEnv) {
	lock := e.under(t, rf+"lockout.yml", rtr)
	before := e.running(t, ctx)
	rep, err := apply.Run(ctx, lock.p, e.opener(t), apply.Options{ConfirmWithin: routerWait, Engine: eo()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lock-out guard")
	assert.Equal(t, apply.Failed, rep.Devices[0].Outcome)
	assert.Equal(t, before, e.running(t, ctx), "the guard refused before anything changed")

	t0 := time.Now()
	rep, err = apply.Run(ctx, lock.p, e.opener(t), apply.Options{ConfirmWithin: routerWait, Engine: eo(), OutsideManagement: true})
	require.Error(t, err)
	d := rep.Devices[0]
	t.Logf("lockout pushed anyway: %s after %s: %s", d.Outcome, time.Since(t0).Round(time.Second), d.Error)
	assert.Equal(t, apply.RolledBack, d.Outcome)
	assert.Equal(t, "check", d.Phase, "never confirmed over the old session")
	assert.Equal(t, before, e.running(t, ctx), "A1: back to the previous state")
	e.noTrial(t, ctx, "A1")
}

// routerTimer is A6: the device reverts an unconfirmed trial at the
// deadline it armed (±5 s), in its own unit.
func routerTimer(t *testing.T, ctx context.Context, e *routedEnv, within time.Duration) {
	before := e.running(t, ctx)
	// netconfd checks deadlines only after a second with no traffic on
	// any session: the agent pauses, and the test reads running through
	// one session of its own, once every two seconds.
	a := e.agents[rtr]
	a.Pause(true)
	defer a.Pause(false)
	watch, err := netconflab.Dial(ctx, e.lab, rtr, e.p.Inv.Hosts[rtr].Hostname)
	require.NoError(t, err)
	defer watch.Close()
	s := e.session(t, ctx)
	t0 := time.Now()
	armed, err := s.Apply(ctx, e.render(t, "baseline.yml"), drivers.ApplyOptions{Trial: testTrial, ConfirmWithin: within})
	require.NoError(t, err)
	assert.Equal(t, within, armed.Within, "armed what was asked, in the device's unit")
	require.NoError(t, s.Close())
	deadline := t0.Add(armed.Within + 15*time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(2 * time.Second)
		got, err := watch.GetConfig(ctx, netconf.Running, "")
		require.NoError(t, err)
		if got == before {
			took := time.Since(t0)
			t.Logf("reverted %s after the commit (armed %s)", took.Round(100*time.Millisecond), armed.Within)
			assert.InDelta(t, armed.Within.Seconds(), took.Seconds(), 5, "A6: device-observed deadline within ±5 s")
			e.noTrial(t, ctx, "A6")
			return
		}
	}
	t.Fatalf("not reverted %s after the commit", time.Since(t0))
}

// routerControllerKilled is A14: the controller is SIGKILLed after the
// router's trial is committed, before it could check or confirm; the
// router reverts by itself, and the next run pushes and confirms with
// nothing stale in the way.
func routerControllerKilled(t *testing.T, ctx context.Context, e *routedEnv) {
	old := e.render(t, "change.yml")
	inv, err := filepath.Abs(e.p.Inv.Dir)
	require.NoError(t, err)
	pb, err := filepath.Abs(rf + "baseline.yml")
	require.NoError(t, err)
	spec, err := json.Marshal(controllerSpec{LabDir: e.lab.Dir(), Inventory: inv, Playbook: pb, Limit: rtr, Within: routerWait, Transport: e.opts})
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), controllerEnv+"="+string(spec))
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	applied := false
	for !applied && sc.Scan() {
		applied = sc.Text() == "applied "+rtr
	}
	require.True(t, applied, "controller: %s", stderr)
	t0 := time.Now()
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	e.agents[rtr].Pause(true)
	defer e.agents[rtr].Pause(false)
	for time.Since(t0) < routerWait+15*time.Second {
		time.Sleep(2 * time.Second)
		got, err := e.session(t, ctx).Fetch(ctx)
		require.NoError(t, err)
		if got.String() == old.String() {
			t.Logf("reverted %s after the kill", time.Since(t0).Round(100*time.Millisecond))
			break
		}
	}
	got, err := e.session(t, ctx).Fetch(ctx)
	require.NoError(t, err)
	require.Equal(t, old.String(), got.String(), "A14: reverted by the device")
	e.noTrial(t, ctx, "A14")
	rep, err := apply.Run(ctx, e.under(t, rf+"baseline.yml", rtr).p, e.opener(t), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.NoError(t, err)
	assert.Equal(t, apply.Confirmed, rep.Devices[0].Outcome, rep.Devices[0].Error)
}

// TestRouterTimerMinutes is A6 for the native Junos dialect, whose
// confirm-timeout counts minutes: asked for 90 s, it arms 2 minutes;
// asked for a minute, the device reverts at a minute.
func TestRouterTimerMinutes(t *testing.T) {
	t.Parallel()
	e := newRoutedEnv(t, rf+"junos-native", rf+"baseline.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rep, err := apply.Run(ctx, e.under(t, rf+"change.yml", rtr).p, e.opener(t), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.NoError(t, err)
	require.Equal(t, apply.Confirmed, rep.Devices[0].Outcome, rep.Devices[0].Error)

	s := e.session(t, ctx)
	armed, err := s.Apply(ctx, e.render(t, "baseline.yml"), drivers.ApplyOptions{Trial: testTrial, ConfirmWithin: 90 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 2*time.Minute, armed.Within, "90 s is two of the device's minutes")
	require.NoError(t, e.session(t, ctx).Rollback(ctx, e.render(t, "change.yml"), testTrial))
	e.noTrial(t, ctx, "rollback")

	routerTimer(t, ctx, e, time.Minute)
}
