package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/driverstest/routerlab"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/testbed/enforce"
)

// The network-device fault tests run on the routed lab of
// testdata/routers: one simulated router of each CLI platform, each
// filtering what enters it from the management segment (itself
// included). The controller is outside the management networks, so a
// playbook without the operators' flow locks it out.
const routers = "testdata/routers/"

// iosScale: the simulated IOS-XE routers' clock runs this many times
// faster than the wall clock, so the two-minute revert timer (IOS-XE
// counts whole minutes, two at least) fires after 10 s; EOS and NX-OS
// count seconds and run on the wall clock.
const iosScale = 12

// routerFaultEnv starts the fault lab under playbook.
func routerFaultEnv(t *testing.T, playbook string, opts ...routerlab.RouterLabOption) (*env, *routerlab.RouterLab) {
	t.Helper()
	reg := scaledRegistry(t, "cisco-ios", iosScale)
	p, err := project.Load(project.Options{Inventory: routers + "inventory", Playbook: routers + playbook, Registry: reg})
	require.NoError(t, err)
	rl := routerlab.StartRouterLab(t, p, append([]routerlab.RouterLabOption{routerlab.WithScaledClock("cisco-ios", iosScale)}, opts...)...)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for name, r := range rl.Routers {
			for _, ev := range r.Device.Events() {
				t.Logf("%s event %s %s: %s", name, ev.Time.Format("15:04:05.000"), ev.Kind, ev.Detail)
			}
		}
	})
	e := &env{p: p, lab: rl.Lab, reg: reg, opts: rl.Options}
	// A blocked connection must fail fast: the revert is the test's.
	e.opts.ConnectTimeout, e.opts.ConnectRetries, e.opts.Keepalive = 3*time.Second, 1, time.Second
	return e, rl
}

// routersWith is the same lab and inventory under another playbook.
func (e *env) routersWith(t *testing.T, playbook string) *env {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: e.p.Inv.Dir, Playbook: routers + playbook, Registry: e.reg})
	require.NoError(t, err)
	return &env{p: p, lab: e.lab, reg: e.reg, opts: e.opts}
}

// scaledRegistry is fwpush's registry with one platform's sessions
// reporting the revert they armed in the lab's scaled time: the device
// runs factor times faster than the wall clock, so the controller's wait
// for the device's own revert is scaled the same.
func scaledRegistry(t *testing.T, platform string, factor float64) *drivers.Registry {
	t.Helper()
	real := all.Registry()
	reg := drivers.NewRegistry()
	for _, id := range real.IDs() {
		p, _ := real.Lookup(id)
		if id == platform {
			p.Driver = scaledDriver{Driver: p.Driver, factor: factor}
		}
		require.NoError(t, reg.Register(p))
	}
	return reg
}

type scaledDriver struct {
	drivers.Driver
	factor float64
}

func (d scaledDriver) Open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	s, err := d.Driver.Open(ctx, t)
	if err != nil {
		return nil, err
	}
	return scaledSession{Session: s, factor: d.factor}, nil
}

type scaledSession struct {
	drivers.Session
	factor float64
}

func (s scaledSession) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	a, err := s.Session.Apply(ctx, desired, o)
	if a.Within > 0 {
		w := time.Duration(float64(a.Within) / s.factor)
		a = drivers.Armed{Within: w, Deadline: a.Deadline.Add(w - a.Within)}
	}
	return a, err
}

// DeviceLock and Foreign pass through: the wrapper only rescales time.
func (s scaledSession) DeviceLock(ctx context.Context) (*drivers.Trial, error) {
	return s.Session.(drivers.LockReporter).DeviceLock(ctx)
}

func (s scaledSession) Foreign(ctx context.Context) ([]string, error) {
	return s.Session.(drivers.ForeignReporter).Foreign(ctx)
}

func (s scaledSession) Origin(ctx context.Context) (netip.Addr, error) {
	return s.Session.(drivers.OriginReporter).Origin(ctx)
}

// establishedStripped wraps the network drivers so their policy lacks the
// always-on `established` entries: applying it cuts the session that
// applies it (fwpush's own policies never do that).
func establishedStripped(t *testing.T, reg *drivers.Registry) *drivers.Registry {
	t.Helper()
	out := drivers.NewRegistry()
	for _, id := range reg.IDs() {
		p, _ := reg.Lookup(id)
		if p.Transport == drivers.CLI {
			p.Driver = stripEstablished{p.Driver}
		}
		require.NoError(t, out.Register(p))
	}
	return out
}

type stripEstablished struct{ drivers.Driver }

func (d stripEstablished) Render(in *intent.Intent) (drivers.Config, error) {
	c, err := d.Driver.Render(in)
	if err != nil {
		return c, err
	}
	out := drivers.Config{Platform: c.Platform}
	for _, p := range c.Parts {
		var keep []string
		for _, l := range strings.SplitAfter(p.Text, "\n") {
			if !strings.Contains(l, " established") {
				keep = append(keep, l)
			}
		}
		if strings.Join(keep, "") == p.Text {
			return c, fmt.Errorf("%s: no established entry to strip", p.Name)
		}
		out.Parts = append(out.Parts, drivers.Part{Name: p.Name, Text: strings.Join(keep, "")})
	}
	return out, nil
}

// routerSnap is what must not change on a router: its configuration
// (running and startup) and the ACL state its namespace enforces.
type routerSnap struct {
	running, startup, enforced string
	seen                       int
	// taken is when the snapshot was taken: before anything was armed.
	taken time.Time
}

func snapRouters(t *testing.T, rl *routerlab.RouterLab) map[string]routerSnap {
	t.Helper()
	out := map[string]routerSnap{}
	for name, r := range rl.Routers {
		out[name] = routerSnap{running: configBody(r.Device.RunningConfig()), startup: configBody(r.Device.StartupConfig()),
			enforced: digest(t, r.Device.State()), seen: len(r.History()), taken: time.Now()}
	}
	return out
}

func digest(t *testing.T, st enforce.State) string {
	t.Helper()
	rs, err := enforce.Render(st)
	require.NoError(t, err)
	return rs.Digest
}

// armedFor is the real time a router's revert runs when armed for within.
func armedFor(r *routerlab.Router, platform string, within time.Duration) time.Duration {
	if platform == "cisco-ios" {
		m := (within + time.Minute - 1) / time.Minute
		if m < 2 {
			m = 2
		}
		return time.Duration(float64(m*time.Minute) / r.Scale)
	}
	return within
}

// requireRouterReverted checks a router after its trial reverted by the
// device's own timer: back to the configuration (running and startup)
// and the enforced ACL state of before, no timer left; its namespace
// enforced the change, then the old state again within the armed time +
// 5 s of the change, and no earlier than the armed time after the
// snapshot (the timer was armed after it; on IOS-XE and NX-OS some time
// before the change itself, which the typing follows).
func requireRouterReverted(t *testing.T, rl *routerlab.RouterLab, name string, before routerSnap, within time.Duration) {
	t.Helper()
	r := rl.Routers[name]
	waitSettled(t, r, before, within)
	assert.Equal(t, before.running, configBody(r.Device.RunningConfig()), "%s: the running config is back, byte for byte", name)
	assert.Equal(t, before.startup, configBody(r.Device.StartupConfig()), "%s: nothing saved", name)
	assert.Empty(t, r.Device.PendingTimers(), "%s: no timer left", name)
	seen := r.History()[before.seen-1:]
	require.Greater(t, len(seen), 2, "%s: the change reached the namespace and left it", name)
	assert.Equal(t, before.enforced, digest(t, seen[0].State), name)
	last := seen[len(seen)-1]
	assert.Equal(t, before.enforced, digest(t, last.State), "%s: the namespace enforces the old ACLs again", name)
	took := last.At.Sub(seen[1].At)
	t.Logf("%s: changed, reverted by the device %v later (armed %v)", name, took.Round(10*time.Millisecond), within)
	assert.LessOrEqual(t, took, within+5*time.Second, "%s: back within timeout + 5 s", name)
	assert.GreaterOrEqual(t, last.At.Sub(before.taken), within-time.Second, "%s: the revert waited for its timer", name)
	requireNeverMixed(t, name, seen)
}

// waitSettled waits, at most within + 10 s, until the router has no timer
// pending and its namespace was last given the state of before (the
// device's own state changes a moment before its namespace enforces it).
func waitSettled(t *testing.T, r *routerlab.Router, before routerSnap, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within + 10*time.Second)
	for time.Now().Before(deadline) {
		h := r.History()
		if len(r.Device.PendingTimers()) == 0 && len(h) > 0 && digest(t, h[len(h)-1].State) == before.enforced &&
			digest(t, r.Device.State()) == before.enforced {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// requireNeverMixed checks make-before-break on what a namespace
// enforced: an ACL, once bound, never changes (it is swapped for another,
// never edited), so no packet met a half-written list.
func requireNeverMixed(t *testing.T, name string, seen []routerlab.Seen) {
	t.Helper()
	acls := map[string]string{}
	for _, s := range seen {
		for acl, rules := range boundACLs(s.State) {
			if prev, ok := acls[acl]; ok {
				assert.Equal(t, prev, rules, "%s: ACL %s changed while bound", name, acl)
			}
			acls[acl] = rules
		}
	}
}

// boundACLs splits a state's filters into the ACLs they came from, by
// the simulator's rule comments ("NAME seq N").
func boundACLs(st enforce.State) map[string]string {
	out := map[string]string{}
	for _, b := range st.Bindings {
		if b.Filter == nil {
			continue
		}
		for _, r := range b.Filter.Rules {
			acl, _, ok := strings.Cut(r.Comment, " seq ")
			if !ok {
				continue
			}
			out[acl] += fmt.Sprintf("%+v\n", r)
		}
	}
	return out
}

// revertEvent is the event a platform's simulator logs when its own timer
// restores the previous configuration.
var revertEvent = map[string]string{"cisco-ios": "revert", "arista-eos": "commit-timer-expired", "cisco-nxos": "eem-fired"}

func countEvents(r *routerlab.Router, kind string) int {
	n := 0
	for _, ev := range r.Device.Events() {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// TestRouterLockoutRevertsByItself pushes policies that lock the
// controller out of each router (RELIABILITY.md A1, A2): the router's
// inbound ACL on its management side stops admitting the controller. The
// push fails, each router's outcome is rolled-back and is read back from
// the device; each router restores its previous configuration and ACLs by
// its own timer (IOS-XE revert timer, EOS commit timer, NX-OS EEM
// countdown) within the armed time + 5 s, saves nothing, and keeps no
// timer.
func TestRouterLockoutRevertsByItself(t *testing.T) {
	cases := map[string]bool{
		// A1: the ACL drops every packet from the controller, the applying
		// session's included: it dies mid-change.
		"A1 the ACL drops the applying session too": true,
		// A2: the applying session lives on (established passes) while
		// every new connection is dropped: a confirm on it would succeed.
		"A2 keeps established, blocks new SSH": false,
	}
	for name, drop := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, rl := routerFaultEnv(t, "baseline.yml")
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			e.push(t, ctx)
			lock := e.routersWith(t, "lockout.yml")
			if drop {
				lock.reg = establishedStripped(t, lock.reg)
				lock.p.Registry = lock.reg
			}
			before := snapRouters(t, rl)
			events := map[string]int{}
			for n, r := range rl.Routers {
				events[n] = countEvents(r, revertEvent[e.p.Inv.Hosts[n].Platform])
			}
			rep, err := apply.Run(ctx, lock.p, lock.opener(), apply.Options{ConfirmWithin: trialTimer, Engine: eo(), OutsideManagement: true})
			require.Error(t, err, "a push that locks the controller out must fail")
			require.Len(t, rep.Devices, 3)
			for _, d := range rep.Devices {
				assert.Equal(t, apply.RolledBack, d.Outcome, "%s: %s", d.Host, d.Error)
				if drop {
					assert.Contains(t, []string{"apply", "check"}, d.Phase, d.Host)
				} else {
					assert.Equal(t, "check", d.Phase, d.Host)
					assert.Contains(t, d.Error, d.Host+": check: new management connection failed", "the report names the reason")
				}
				t.Logf("%s: %s in %s: %s", d.Host, d.Outcome, d.Phase, d.Error)
			}
			for n, r := range rl.Routers {
				pl := e.p.Inv.Hosts[n].Platform
				within := armedFor(r, pl, trialTimer)
				for _, d := range rep.Devices {
					if d.Host == n && d.Armed != nil {
						within = d.Armed.Within // what the device armed, as Apply reported it
					}
				}
				requireRouterReverted(t, rl, n, before[n], within)
				assert.Equal(t, events[n]+1, countEvents(r, revertEvent[pl]), "%s: the device's own timer reverted it, once", n)
			}
		})
	}
}

// TestRouterTimerUnits asks every router for revert delays in the units
// fwpush counts in (RELIABILITY.md A5, A6): the armed delay is the one
// asked for rounded up to the platform's unit — IOS-XE whole minutes (two
// at least, see drivers/ciscoios), EOS hh:mm:ss, NX-OS EEM seconds — and
// the deadline the device itself holds is within 5 s of the one Apply
// reports. The devices run on clocks the test holds still.
func TestRouterTimerUnits(t *testing.T) {
	t.Parallel()
	p, err := project.Load(project.Options{Inventory: routers + "inventory", Playbook: routers + "other.yml", Registry: all.Registry()})
	require.NoError(t, err)
	rl := routerlab.StartRouterLab(t, p, routerlab.WithFakeClock())
	open := rl.Opener(p.Registry)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cases := []struct {
		ask  time.Duration
		want map[string]time.Duration
		// shown is how each device shows the delay it armed.
		shown map[string]string
	}{
		{120 * time.Second, map[string]time.Duration{"cisco-ios": 2 * time.Minute, "arista-eos": 2 * time.Minute, "cisco-nxos": 2 * time.Minute},
			map[string]string{"cisco-ios": "Timer value: 2 min", "arista-eos": "reverts in 00:02:00", "cisco-nxos": "fires in 120s"}},
		{90 * time.Second, map[string]time.Duration{"cisco-ios": 2 * time.Minute, "arista-eos": 90 * time.Second, "cisco-nxos": 90 * time.Second},
			map[string]string{"cisco-ios": "Timer value: 2 min", "arista-eos": "reverts in 00:01:30", "cisco-nxos": "fires in 90s"}},
		{150 * time.Second, map[string]time.Duration{"cisco-ios": 3 * time.Minute, "arista-eos": 150 * time.Second, "cisco-nxos": 150 * time.Second},
			map[string]string{"cisco-ios": "Timer value: 3 min", "arista-eos": "reverts in 00:02:30", "cisco-nxos": "fires in 150s"}},
		{1500 * time.Millisecond, map[string]time.Duration{"cisco-ios": 2 * time.Minute, "arista-eos": 2 * time.Second, "cisco-nxos": 2 * time.Second},
			map[string]string{"cisco-ios": "Timer value: 2 min", "arista-eos": "reverts in 00:00:02", "cisco-nxos": "fires in 2s"}},
	}
	for name, r := range rl.Routers {
		pl := p.Inv.Hosts[name].Platform
		desired, err := p.Registry.Get(pl)
		require.NoError(t, err)
		cfg, err := desired.Render(p.Intents[name])
		require.NoError(t, err)
		for i, tc := range cases {
			tr := drivers.Trial{Run: fmt.Sprintf("units-%d", i), Controller: "ctl", User: "test", Since: time.Now().UTC()}
			s, err := open(ctx, name)
			require.NoError(t, err)
			before, err := s.Fetch(ctx)
			require.NoError(t, err)
			start := time.Now()
			armed, err := s.Apply(ctx, cfg, drivers.ApplyOptions{Trial: tr, ConfirmWithin: tc.ask})
			end := time.Now()
			require.NoError(t, err, name)
			assert.Equal(t, tc.want[pl], armed.Within, "%s: %v asked", name, tc.ask)
			// Armed while Apply ran: the deadline is the arming time plus
			// the delay, however long the machine took.
			assert.False(t, armed.Deadline.Before(start.Add(tc.want[pl])), "%s: deadline %v before %v", name, armed.Deadline, start.Add(tc.want[pl]))
			assert.False(t, armed.Deadline.After(end.Add(tc.want[pl])), "%s: deadline %v after %v", name, armed.Deadline, end.Add(tc.want[pl]))
			timers := r.Device.PendingTimers()
			require.Len(t, timers, 1, name)
			assert.InDelta(t, tc.want[pl].Seconds(), timers[0].Deadline.Sub(r.Clock.Now()).Seconds(), 5,
				"%s: the device's own deadline is the one reported (%v asked)", name, tc.ask)
			switch pl {
			case "cisco-ios":
				assert.Contains(t, r.Device.Exec("show archive config rollback timer"), tc.shown[pl], name)
			default:
				var log []string
				for _, ev := range r.Device.Events() {
					log = append(log, ev.Detail)
				}
				assert.Contains(t, strings.Join(log, "\n"), tc.shown[pl], name)
			}
			require.NoError(t, s.Rollback(ctx, before, tr), name)
			require.NoError(t, s.Close())
			assert.Empty(t, r.Device.PendingTimers(), "%s: the rollback stopped the timer", name)
		}
	}
}

// TestRouterRejectsLine37 makes every router refuse line 37 of the change
// (RELIABILITY.md A7), the way a device refuses a command its release
// does not know: the push stops there and fails naming the host, the
// line and the device's words; each router's running config is what it
// was, byte for byte (IOS-XE had applied lines 1-36 and rolled them back
// to its archive at once; EOS and NX-OS sessions never let them out),
// nothing is saved, no timer or lock is left, and the namespace never
// enforced a half-written list.
func TestRouterRejectsLine37(t *testing.T) {
	t.Parallel()
	e, rl := routerFaultEnv(t, "baseline.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	next := e.routersWith(t, "other.yml")
	before := snapRouters(t, rl)
	for _, r := range rl.Routers {
		r.Device.RejectLine(37)
	}
	rep, err := apply.Run(ctx, next.p, next.opener(), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.Error(t, err)
	for _, d := range rep.Devices {
		assert.Equal(t, apply.Failed, d.Outcome, "%s: refused, so nothing changed: %s", d.Host, d.Error)
		assert.Equal(t, "apply", d.Phase, d.Host)
		assert.Contains(t, d.Error, d.Host+": apply:")
		assert.Regexp(t, `line \d+ "[^"]+" refused: % Invalid`, d.Error, "%s: the error shows the line and the device's words", d.Host)
		t.Logf("%s: %s", d.Host, d.Error)
	}
	for name, r := range rl.Routers {
		assert.Equal(t, before[name].running, configBody(r.Device.RunningConfig()), "%s: running config identical to before", name)
		assert.Equal(t, before[name].startup, configBody(r.Device.StartupConfig()), "%s: nothing saved", name)
		assert.Equal(t, before[name].enforced, digest(t, r.Device.State()), name)
		assert.Empty(t, r.Device.PendingTimers(), "%s: no timer left", name)
		assert.NotContains(t, r.Device.RunningConfig(), "FWPUSH-LOCK", "%s: no lock left", name)
		requireNeverMixed(t, name, r.History()[before[name].seen-1:])
	}
	// The fault is gone: the same push now goes through.
	next.push(t, ctx)
}

// TestRouterRebootDuringTrial reloads each router while its trial is
// pending (RELIABILITY.md A15): the device comes back with its startup
// config, which holds the previous policy (fwpush saves only after a
// confirm), the trial can no longer be confirmed, the lock it left is no
// obstacle, and the next push confirms.
func TestRouterRebootDuringTrial(t *testing.T) {
	t.Parallel()
	e, rl := routerFaultEnv(t, "baseline.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	next := e.routersWith(t, "other.yml")
	before := snapRouters(t, rl)
	tr := drivers.Trial{Run: "reboot-trial", Controller: "ctl", User: "test", Since: time.Now().UTC()}
	open := next.opener()
	for name, r := range rl.Routers {
		d, err := planRender(next, name)
		require.NoError(t, err)
		s, err := open(ctx, name)
		require.NoError(t, err)
		_, err = s.Apply(ctx, d, drivers.ApplyOptions{Trial: tr, ConfirmWithin: okTimer})
		require.NoError(t, err, name)
		require.NoError(t, s.Close())
		require.NotEmpty(t, r.Device.PendingTimers(), name)
		r.Device.Reload()
		assert.Equal(t, before[name].running, configBody(r.Device.RunningConfig()), "%s: the reboot brought the previous policy back", name)
		assert.Equal(t, before[name].enforced, digest(t, r.Device.State()), name)
		s, err = open(ctx, name)
		require.NoError(t, err)
		lock, err := s.(drivers.LockReporter).DeviceLock(ctx)
		require.NoError(t, err)
		assert.Nil(t, lock, "%s: a trial lost with the reboot holds nothing", name)
		assert.Error(t, s.Confirm(ctx, tr), "%s: the trial cannot be confirmed after the reboot", name)
		require.NoError(t, s.Close())
	}
	next.push(t, ctx)
	for name, r := range rl.Routers {
		assert.Empty(t, r.Device.PendingTimers(), name)
		assert.Equal(t, configBody(r.Device.RunningConfig()), configBody(r.Device.StartupConfig()), "%s: the new policy saved", name)
	}
}

// planRender is a host's desired config under e's playbook.
func planRender(e *env, host string) (drivers.Config, error) {
	d, err := e.reg.Get(e.p.Inv.Hosts[host].Platform)
	if err != nil {
		return drivers.Config{}, err
	}
	return d.Render(e.p.Intents[host])
}

// TestRouterLinkCut cuts every router's links (RELIABILITY.md A4) at
// three points of a journaled, commit-confirmed push: before upload (the
// journal recorded the apply phase, nothing is typed yet), mid-apply (the
// device takes line 20 of the change, then the link goes) and before
// confirm (the change is in force, its revert armed). The links come back
// once the controller gave up. Each router's namespace only ever enforced
// whole ACLs (make-before-break), each router ends with its old policy
// and config, the run record shows the phase reached, and the next run
// finds no timer, lock or unsettled record in its way and confirms.
func TestRouterLinkCut(t *testing.T) {
	cases := []struct {
		name, cutAt string // the journal phase at which to cut ("": at line 20)
		phase       string
		outcomes    []apply.Outcome
	}{
		{"before upload", "apply", "apply", []apply.Outcome{apply.RolledBack, apply.Failed}},
		{"mid-apply", "", "apply", []apply.Outcome{apply.RolledBack, apply.Failed}},
		{"before confirm", "confirm", "confirm", []apply.Outcome{apply.RolledBack}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, rl := routerFaultEnv(t, "baseline.yml")
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			e.push(t, ctx)
			next := e.routersWith(t, "other.yml")
			before := snapRouters(t, rl)
			cutter := newLinkCutter(t, e.lab)
			st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
			require.NoError(t, err)
			inv, err := filepath.Abs(next.p.Inv.Dir)
			require.NoError(t, err)
			pb, err := filepath.Abs(routers + "other.yml")
			require.NoError(t, err)
			run, err := journal.NewRun("apply", "fwpush apply (link cut)", pb, inv)
			require.NoError(t, err)
			open := next.opener()
			rec, err := journal.Start(st, run, open)
			require.NoError(t, err)
			o := rec.Attach(apply.Options{ConfirmWithin: trialTimer, Settle: 2 * time.Second, Engine: eo()})
			o.Journal = &hookJournal{Recorder: rec, hook: func(d apply.Device) {
				if tc.cutAt != "" && d.Phase == tc.cutAt {
					cutter.cut(d.Host, "before "+d.Phase)
				}
			}}
			if tc.cutAt == "" {
				for name, r := range rl.Routers {
					name := name
					r.Device.AtConfigLine(20, func() { cutter.cut(name, "at line 20") })
				}
			}
			restoring := func(ctx context.Context, host string) (drivers.Session, error) {
				s, err := open(ctx, host)
				if err != nil {
					return nil, err
				}
				return &hookSession{Session: s, host: host, failed: func(host string) {
					cutter.restore(host, "once the controller gave up")
				}}, nil
			}
			rep, pushErr := apply.Run(ctx, next.p, restoring, o)
			require.NoError(t, rec.Finish(pushErr))
			for _, l := range cutter.Log() {
				t.Log(l)
			}
			require.Error(t, pushErr, "no router can confirm through a cut link")
			outcome := map[string]apply.Outcome{}
			for _, d := range rep.Devices {
				t.Logf("%s: %s in %s: %s", d.Host, d.Outcome, d.Phase, d.Error)
				outcome[d.Host] = d.Outcome
				assert.Contains(t, tc.outcomes, d.Outcome, d.Host)
				assert.Equal(t, tc.phase, d.Phase, "%s: the phase reached", d.Host)
			}
			_, es, err := st.Run(run.ID)
			require.NoError(t, err)
			require.Len(t, es, len(rl.Routers))
			for _, en := range es {
				assert.Equal(t, tc.phase, en.Phase, "%s: the run record shows the phase", en.Host)
				assert.Equal(t, string(outcome[en.Host]), en.Outcome, en.Host)
			}
			for name, r := range rl.Routers {
				cutter.restore(name, "test")
				within := armedFor(r, e.p.Inv.Hosts[name].Platform, trialTimer)
				for _, d := range rep.Devices {
					if d.Host == name && d.Armed != nil {
						within = d.Armed.Within
					}
				}
				waitSettled(t, r, before[name], within)
				assert.Equal(t, before[name].running, configBody(r.Device.RunningConfig()), "%s: the old config, byte for byte", name)
				assert.Equal(t, before[name].startup, configBody(r.Device.StartupConfig()), "%s: nothing saved", name)
				assert.Empty(t, r.Device.PendingTimers(), "%s: no timer past its deadline", name)
				requireNeverMixed(t, name, r.History()[before[name].seen-1:])
			}

			nrun, err := journal.NewRun("apply", "fwpush apply (next run)", pb, inv)
			require.NoError(t, err)
			res, err := journal.Apply(ctx, st, nrun, next.p, nil, next.opener(), apply.Options{ConfirmWithin: okTimer, Settle: 2 * time.Second, Engine: eo()})
			require.NoError(t, err)
			for _, d := range res.Devices {
				assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
			}
			left, err := st.UnfinishedHosts()
			require.NoError(t, err)
			assert.Empty(t, left, "nothing left to reconcile")
			for name, r := range rl.Routers {
				assert.Empty(t, r.Device.PendingTimers(), "%s: no stale timer after the next run", name)
				assert.NotEqual(t, before[name].startup, configBody(r.Device.StartupConfig()), "%s: the new policy saved", name)
			}
		})
	}
}

// TestRouterControllerKilled SIGKILLs a controller process once its
// change is in force on every router with the revert armed, before it
// could check or confirm (RELIABILITY.md A14): each router restores its
// previous config and ACLs by its own timer, saves nothing, and the next
// run pushes and confirms with no timer or lock in its way.
func TestRouterControllerKilled(t *testing.T) {
	t.Parallel()
	e, rl := routerFaultEnv(t, "baseline.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e.push(t, ctx)
	next := e.routersWith(t, "other.yml")
	before := snapRouters(t, rl)
	inv, err := filepath.Abs(next.p.Inv.Dir)
	require.NoError(t, err)
	pb, err := filepath.Abs(routers + "other.yml")
	require.NoError(t, err)
	spec, err := json.Marshal(controllerSpec{LabDir: e.lab.Dir(), Inventory: inv, Playbook: pb, Within: trialTimer, Transport: e.opts})
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), controllerEnv+"="+string(spec))
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	applied := map[string]bool{}
	timeout := time.After(time.Minute)
	for len(applied) < len(rl.Routers) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("controller exited early: %v: %s", cmd.Wait(), stderr)
			}
			if h, ok := strings.CutPrefix(l, "applied "); ok {
				applied[h] = true
			}
		case <-timeout:
			require.NoError(t, cmd.Process.Kill())
			t.Fatalf("controller applied to %v only within a minute: %s", applied, stderr.String())
		}
	}
	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred cleanup runs
	for range lines {
	}
	require.Error(t, cmd.Wait())
	for name, r := range rl.Routers {
		requireRouterReverted(t, rl, name, before[name], armedFor(r, e.p.Inv.Hosts[name].Platform, trialTimer))
	}
	next.push(t, ctx)
	for name, r := range rl.Routers {
		assert.Empty(t, r.Device.PendingTimers(), "%s: no timer left", name)
		assert.NotContains(t, r.Device.RunningConfig(), "FWPUSH-LOCK", "%s: no lock left", name)
	}
}

// TestRouterLockoutGuardRefuses: a policy that would cut this
// controller's own connection to the routers is refused before any router
// is armed or changed. Each router session reads, from `show users`, the
// address the router sees the controller come from, and the guard proves
// the new policy would drop it; no configuration command reaches any
// router.
func TestRouterLockoutGuardRefuses(t *testing.T) {
	t.Parallel()
	e, rl := routerFaultEnv(t, "baseline.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	before := snapRouters(t, rl)
	typed := map[string]int{}
	for n, r := range rl.Routers {
		typed[n] = r.Device.ConfigModeCommands()
	}
	lock := e.routersWith(t, "lockout.yml")
	rep, err := apply.Run(ctx, lock.p, lock.opener(), apply.Options{ConfirmWithin: trialTimer, Engine: eo()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was pushed")
	for _, d := range rep.Devices {
		assert.Equal(t, apply.Failed, d.Outcome, d.Host)
		assert.Equal(t, "gate", d.Phase, d.Host)
		assert.Contains(t, d.Error, "lock-out guard: this controller reaches the device from 198.18.0.1", d.Host)
	}
	for n, r := range rl.Routers {
		assert.Equal(t, typed[n], r.Device.ConfigModeCommands(), "%s: not a configuration command typed", n)
		assert.Equal(t, before[n].running, configBody(r.Device.RunningConfig()), n)
		assert.Empty(t, r.Device.PendingTimers(), n)
	}
}
