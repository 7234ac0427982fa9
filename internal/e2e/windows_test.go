package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/labinv"
	"github.com/fwpush/fwpush/testbed/winsim"
)

const winRel = "testdata/windows/"

// winEnv is the Windows reliability inventory pushed to a lab whose
// win-1 is the winsim simulator: no rule outside fwpush's group admits
// WinRM, so the controller gets in only through fwpush's own rules (a
// previous push's, seeded, then the baseline's operators flow).
func winEnv(t *testing.T) *env {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: winRel + "inventory", Playbook: winRel + "baseline.yml"})
	require.NoError(t, err)
	win, servers := windowsServers(t, p)
	win.Rules = []winsim.Rule{{Name: "fwpush-00000000-in-000", DisplayName: "fwpush bootstrap", Group: windows.Group,
		Protocol: "TCP", LocalPort: []string{"5986"}, RemoteAddress: []string{"198.18.0.1"}, Enabled: true}}
	lab := testbed.StartT(t, labinv.SpecsWith(p, servers), testbed.WithReadyTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, labinv.StartServers(ctx, lab, p, servers))
	t.Cleanup(func() { win.Close() })
	e := labEnv(p, lab)
	e.win = win
	return e
}

// withWin is e under another playbook of the Windows inventory, its
// Windows hosts pointed at the simulator again.
func (e *env) withWin(t *testing.T, playbook string) *env {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: e.p.Inv.Dir, Playbook: winRel + playbook})
	require.NoError(t, err)
	for name, h := range p.Inv.Hosts {
		old := e.p.Inv.Hosts[name]
		h.Username, h.Password, h.Data = old.Username, old.Password, old.Data
	}
	return &env{p: p, lab: e.lab, reg: e.reg, opts: e.opts, win: e.win}
}

// fetchText reads a host's fwpush rules over a new session.
func (e *env) fetchText(t *testing.T, ctx context.Context, host string) string {
	t.Helper()
	s, err := e.opener()(ctx, host)
	require.NoError(t, err)
	defer s.Close()
	c, err := s.Fetch(ctx)
	require.NoError(t, err)
	return c.String()
}

// TestWindowsLockoutRevertedByTask (RELIABILITY.md A1 on Windows): a
// policy that drops new WinRM connections from the controller is applied;
// the confirm's new connection fails, the run reports rolled-back at the
// check, and the host's own scheduled task (SYSTEM, outside every WinRM
// session) restores the previous rules within the timeout + 5 s, once,
// and leaves no task or lock behind.
func TestWindowsLockoutRevertedByTask(t *testing.T) {
	e := winEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	before := e.fetchText(t, ctx, "win-1")
	dev := e.win.Device("win-1")
	enforced := matches(dev.State())

	lock := e.withWin(t, "lockout.yml")
	start := time.Now()
	rep, err := apply.Run(ctx, lock.p, lock.opener(), apply.Options{ConfirmWithin: trialTimer, Engine: eo(), OutsideManagement: true})
	require.Error(t, err, "a push that locks the controller out must fail")
	require.Len(t, rep.Devices, 1)
	d := rep.Devices[0]
	assert.Equal(t, apply.RolledBack, d.Outcome, d.Error)
	assert.Equal(t, "check", d.Phase)
	assert.Contains(t, d.Error, "win-1: check: new management connection failed")

	var log string
	for i := 0; i < 300 && !strings.Contains(log, "reverted"); i++ {
		log, _ = dev.File(`C:\ProgramData\fwpush\revert.log`)
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)
	require.Equal(t, 1, strings.Count(log, "reverted "), "the host's own task reverted it, once: %q", log)
	assert.LessOrEqual(t, took, trialTimer+5*time.Second+10*time.Second, "reverted within the timeout + 5 s (and the check's connect timeouts)")
	assert.Equal(t, before, e.fetchText(t, ctx, "win-1"), "the previous rules, exactly")
	assert.Equal(t, enforced, matches(dev.State()), "the host enforces the previous rules again")
	assert.Empty(t, dev.Tasks(), "no revert task left")
	s, err := e.opener()(ctx, "win-1")
	require.NoError(t, err)
	defer s.Close()
	holder, err := s.(drivers.LockReporter).DeviceLock(ctx)
	require.NoError(t, err)
	assert.Nil(t, holder, "the lock is free")
	require.NoError(t, dev.EnforceError())
}

// TestWindowsTwoControllers: a second controller's push is refused while
// the first one's trial holds the host, naming the holder, and goes
// through once it is confirmed (the lock every controller honours).
func TestWindowsTwoControllers(t *testing.T) {
	e := winEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	first := drivers.Trial{Run: "first-run", Controller: "ctl-a", User: "alice", Since: time.Now().UTC().Truncate(time.Second)}
	desired := e.renderHost(t, "win-1")
	s1, err := e.opener()(ctx, "win-1")
	require.NoError(t, err)
	defer s1.Close()
	_, err = s1.Apply(ctx, desired, drivers.ApplyOptions{Trial: first, ConfirmWithin: okTimer})
	require.NoError(t, err)

	other := e.withWin(t, "lockout.yml")
	rep, err := apply.Run(ctx, other.p, other.opener(), apply.Options{ConfirmWithin: okTimer, Engine: eo(), OutsideManagement: true})
	require.Error(t, err)
	require.Len(t, rep.Devices, 1)
	assert.Contains(t, rep.Devices[0].Error, "device locked by run first-run (alice on ctl-a")

	s2, err := e.opener()(ctx, "win-1")
	require.NoError(t, err)
	defer s2.Close()
	require.NoError(t, s2.Confirm(ctx, first), "the holder confirms over a new connection")
	holder, err := s2.(drivers.LockReporter).DeviceLock(ctx)
	require.NoError(t, err)
	assert.Nil(t, holder, "confirmed: the lock is free for the next controller")
}

// matches is what a host enforces, without the rule names (a restore
// recreates the same rules under a new generation).
func matches(st enforce.State) string {
	var b strings.Builder
	for _, f := range []*enforce.Filter{st.Host.Input, st.Host.Output} {
		if f == nil {
			continue
		}
		for _, r := range f.Rules {
			r.Comment = ""
			fmt.Fprintf(&b, "%s %+v\n", f.Name, r)
		}
		fmt.Fprintf(&b, "%s default %s\n", f.Name, f.Default)
	}
	return b.String()
}

func (e *env) renderHost(t *testing.T, host string) drivers.Config {
	t.Helper()
	d, err := e.reg.Get(e.p.Inv.Hosts[host].Platform)
	require.NoError(t, err)
	c, err := d.Render(e.p.Intents[host])
	require.NoError(t, err)
	return c
}
