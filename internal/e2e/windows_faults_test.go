package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/testbed/winsim"
)

// windowsFaults is win-1 (WinRM) and win-2 (PowerShell over OpenSSH),
// both the winsim simulator, whose scheduled tasks run on a clock the
// tests jump instead of waiting.
var windowsFaults = faultSystem{
	start: winEnv,
	next:  "next.yml",
	// WinRM has no keepalive: a command's own timeout is what notices a
	// dead link (6 s: the slowest program, stalled, takes 2 s).
	quick: func(o *drivers.TransportOptions) {
		o.Keepalive, o.ConnectTimeout, o.ConnectRetries, o.CommandTimeout = time.Second, 3*time.Second, 1, 6*time.Second
	},
	// The task may fire before the controller notices the cut: the
	// program that arms it also makes the change, so either read-back
	// (the change, or the old rules back) is one the cases allow.
	within: 5 * time.Second,
}

// TestWindowsLinkCut is TestLinkCut (RELIABILITY A4) on Windows, over
// WinRM and over OpenSSH: the link is cut before upload, after arming
// (the revert task is registered, no rule changed yet), mid-apply (every
// new rule made, no old one removed yet) and before confirm. The apply is
// one program on the host, which a cut does not stop: once it started,
// the change lands and the host's own task takes it back. Each host ends
// in exactly the old or the new rules, having passed through no other
// state than the two policies' union, and that only while a program ran.
func TestWindowsLinkCut(t *testing.T) {
	cases := []linkCutCase{
		{name: "before upload", cutAt: "apply", phase: "apply",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Failed}},
		{name: "after arming", cutAt: "apply", stall: stallArm, phase: "apply",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Indeterminate}, landed: true, armed: true},
		{name: "mid-apply", cutAt: "apply", stall: stallMidway, phase: "apply",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Indeterminate}, landed: true, armed: true},
		// The read-back at the deadline + Settle may find the task's
		// restore still running (it makes the old rules one at a time):
		// indeterminate, which the next run settles as rolled back.
		{name: "before confirm", cutAt: "confirm", phase: "confirm",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Indeterminate}, landed: true, armed: true},
	}
	runLinkCuts(t, windowsFaults, cases)
}

// TestWindowsKilledInEachPhase is TestKilledInEachPhase (RELIABILITY
// A14) on Windows: a real controller process is SIGKILLed in each phase;
// each host's own scheduled task reverts what was not confirmed (the
// host's clock is jumped past the deadline), and the next run reconciles
// the dead run naming its phase and pushes cleanly.
func TestWindowsKilledInEachPhase(t *testing.T) { runKills(t, windowsFaults) }

// TestWindowsRebootDuringTrial (RELIABILITY A15 on Windows): Windows keeps
// firewall rules across reboots by itself, so what makes a trial
// temporary is its revert task, which the Task Scheduler keeps too. On
// each host: a host down across the trial's deadline restores the old
// rules when it boots (the missed one-time trigger runs then, with
// StartWhenAvailable); a host rebooted before the deadline keeps the new
// rules until it, then restores the old; only a confirmed change survives
// a reboot and the deadline.
func TestWindowsRebootDuringTrial(t *testing.T) {
	t.Parallel()
	e := winEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	next := e.with(t, "next.yml")
	for _, h := range e.hostNames() {
		v, dev := e.view(t, h), e.win.Device(h)
		old := v.enforced(t)
		trial := func(run string) {
			t.Helper()
			s, err := e.opener()(ctx, h)
			require.NoError(t, err)
			defer s.Close()
			tr := drivers.Trial{Run: run, Controller: "ctl", User: "test", Since: time.Now().UTC().Truncate(time.Second)}
			_, err = s.Apply(ctx, next.renderHost(t, h), drivers.ApplyOptions{Trial: tr, ConfirmWithin: time.Minute})
			require.NoError(t, err, h)
			require.NotEqual(t, old, v.enforced(t), "%s: %s: the change is on trial", h, run)
			require.True(t, v.armed(t), "%s: %s: its revert task is registered", h, run)
		}
		reverted := func(run string) {
			t.Helper()
			waitReverted(t, dev, run)
			assert.Equal(t, old, v.enforced(t), "%s: %s: the old rules are back", h, run)
			assert.False(t, v.armed(t), "%s: %s: no task left", h, run)
			assert.Nil(t, e.lockOf(t, ctx, h), "%s: %s: the lock is free", h, run)
		}

		trial("down-across")
		dev.Shutdown()
		e.clock.Jump(2 * time.Minute) // the deadline passes while the host is down
		assert.NotEqual(t, old, v.enforced(t), "%s: the rules stay while the host is down: nothing runs", h)
		dev.Boot()
		reverted("down-across")

		trial("rebooted-before")
		dev.Reboot()
		assert.NotEqual(t, old, v.enforced(t), "%s: after a reboot within the trial the new rules are still on trial", h)
		assert.True(t, v.armed(t), "%s: and the revert task still stands", h)
		e.clock.Jump(time.Minute + time.Second)
		reverted("rebooted-before")
	}
	next.push(t, ctx) // confirmed
	for _, h := range e.hostNames() {
		v, dev := e.view(t, h), e.win.Device(h)
		confirmed := v.enforced(t)
		dev.Reboot()
		e.clock.Jump(2 * time.Minute)
		assert.Equal(t, confirmed, v.enforced(t), "%s: a confirmed change survives a reboot and the deadline", h)
		assert.False(t, v.armed(t), "%s: no task left", h)
	}
}

// waitReverted waits (at most 10 s) for the host's task to log that it
// reverted run.
func waitReverted(t *testing.T, dev *winsim.Device, run string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, _ := dev.File(`C:\ProgramData\fwpush\revert.log`)
		if strings.Contains(log, "reverted "+run+"\n") || strings.HasSuffix(strings.TrimSpace(log), "reverted "+run) {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s was never reverted: %q, %v", run, log, dev.Events())
		time.Sleep(20 * time.Millisecond)
	}
}

// lockOf reads host's device lock over a new session.
func (e *env) lockOf(t *testing.T, ctx context.Context, host string) *drivers.Trial {
	t.Helper()
	s, err := e.opener()(ctx, host)
	require.NoError(t, err)
	defer s.Close()
	holder, err := s.(drivers.LockReporter).DeviceLock(ctx)
	require.NoError(t, err)
	return holder
}

// winState is everything on a simulated host a read must leave as it was:
// its rules (names included), tasks, files and directories.
func winState(dev *winsim.Device) string {
	var b strings.Builder
	for _, r := range dev.Rules() {
		fmt.Fprintf(&b, "rule %+v\n", r)
	}
	tasks := dev.Tasks()
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].Name < tasks[j].Name })
	for _, tk := range tasks {
		fmt.Fprintf(&b, "task %+v\n", tk)
	}
	fmt.Fprintf(&b, "files %v\ndirs %v\n", dev.Files(), dev.Dirs())
	return b.String()
}

// TestWindowsDryRun (RELIABILITY A12 on Windows, over WinRM and OpenSSH):
// a live plan, on hosts holding only a previous rule and on configured
// ones, changes nothing on the host (rules, tasks, files, directories),
// leaves no lock, calls only the read-only session methods, and shows the
// diff the apply that follows applies.
func TestWindowsDryRun(t *testing.T) {
	t.Parallel()
	e := winEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, x := range []*env{e, e.with(t, "next.yml")} {
		before := map[string]string{}
		for _, h := range x.hostNames() {
			before[h] = winState(e.win.Device(h))
		}
		rec := &calls{}
		pl, _, err := plan.Live(ctx, x.p, rec.recorded(x.opener()), eo())
		require.NoError(t, err)
		require.True(t, pl.Changes())
		shown := map[string]string{}
		for _, d := range pl.Devices {
			require.NotNil(t, d.Diff, d.Host)
			shown[d.Host] = d.Diff.Unified
			dev := e.win.Device(d.Host)
			assert.Equal(t, before[d.Host], winState(dev), "%s: dry run of %s: the host is as it was", d.Host, x.p.Playbook.Name)
			_, locked := dev.File(`C:\ProgramData\fwpush\lock.json`)
			assert.False(t, locked, "%s: no lock", d.Host)
			n := rec.get(d.Host)
			assert.Positive(t, n["Fetch"], d.Host)
			for m, k := range n {
				assert.Contains(t, []string{"Fetch", "Foreign"}, m, "%s: %d call(s) of %s: read-only calls only", d.Host, k, m)
			}
		}
		rep := x.push(t, ctx)
		for _, d := range rep.Devices {
			require.NotNil(t, d.Diff, d.Host)
			assert.Equal(t, shown[d.Host], d.Diff.Unified, "%s: apply applied the diff the dry run showed", d.Host)
		}
	}
}

// TestWindowsLockoutGuard (RELIABILITY A1′ on Windows): a policy that
// leaves out the controller is refused before any host changes, over
// WinRM (the ClientIP the shell reports) and over OpenSSH (the session's
// SSH_CONNECTION): the guard names the address the host sees, nothing is
// armed, the journal records the gate.
func TestWindowsLockoutGuard(t *testing.T) {
	t.Parallel()
	e := winEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	before := map[string]string{}
	for _, h := range e.hostNames() {
		before[h] = e.view(t, h).enforced(t)
	}
	lock := e.with(t, "lockout.yml")
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	res, err := journal.Apply(ctx, st, store.NewRun("apply", "fwpush apply # windows guard"), lock.p, nil, lock.opener(),
		apply.Options{ConfirmWithin: trialTimer, Engine: eo()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was pushed")
	for _, h := range e.hostNames() {
		assert.Contains(t, err.Error(), h+": lock-out guard: this controller reaches the device from 198.18.0.1")
		assert.Equal(t, before[h], e.view(t, h).enforced(t), "%s: untouched", h)
		assert.False(t, e.view(t, h).armed(t), "%s: nothing armed", h)
	}
	require.Len(t, res.Devices, len(e.hostNames()))
	for _, d := range res.Devices {
		assert.Equal(t, apply.Failed, d.Outcome, d.Host)
		assert.Equal(t, "gate", d.Phase, d.Host)
	}
}
