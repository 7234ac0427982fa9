package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/winsim"
)

// deviceView is a lab device seen from its own side, never through
// fwpush: what the fault tests check on every platform.
type deviceView interface {
	// enforced identifies what the device's firewall enforces now.
	enforced(t *testing.T) string
	// persisted identifies what the device comes back with after a
	// reboot.
	persisted(t *testing.T) string
	// armed says whether the device holds a revert timer: one still to
	// fire, or one a trial that is over left behind.
	armed(t *testing.T) bool
	// stall makes the device's next apply stall at a point for a few
	// seconds; the function it returns waits until it does.
	stall(t *testing.T, at stallPoint) func(ctx context.Context) error
	// watch records what the device enforces from now on.
	watch() stateWatch
	// expire lets every revert the device armed to run by deadline run.
	expire(t *testing.T, deadline time.Time)
}

// stallPoint is a moment of a device-side apply.
type stallPoint string

const (
	// stallArm: the revert is armed; the change has not begun.
	stallArm stallPoint = "arm"
	// stallApply: the device-side apply runs; the old policy is still in
	// force.
	stallApply stallPoint = "apply"
	// stallMidway: part of the change is made (Windows: every new rule
	// is created, no old one removed yet). Linux has no such moment: nft
	// -f and iptables-restore change a table at once.
	stallMidway stallPoint = "midway"
)

// stateWatch is a record of the states a device enforced.
type stateWatch interface {
	// stop ends the record (once; later calls do nothing).
	stop(t *testing.T)
	// named names each state recorded, in order: old, new, or what it
	// was in passing (see states and winStates). A state that is neither
	// and may not be seen fails the test; so does a record that does not
	// end in old or new.
	named(t *testing.T, old, new string) []namedState
}

type namedState struct {
	at   time.Time
	name string
}

func names(seq []namedState) []string {
	out := make([]string, len(seq))
	for i, s := range seq {
		out[i] = s.name
	}
	return out
}

// view returns host's deviceView.
func (e *env) view(t *testing.T, host string) deviceView {
	t.Helper()
	h := e.p.Inv.Hosts[host]
	require.NotNil(t, h, host)
	if h.Platform == windows.ID {
		require.NotNil(t, e.win, "%s: no simulator serves the Windows hosts", host)
		dev := e.win.Device(host)
		require.NotNil(t, dev, "%s: not served", host)
		require.NotNil(t, e.clock, "%s: the simulator's clock is not the test's", host)
		return &winView{host: host, dev: dev, clock: e.clock}
	}
	return linuxView{e: e, host: host, platform: h.Platform}
}

// linuxView is a Linux lab host: its kernel's rulesets, its boot config
// under /etc, its revert timer's files.
type linuxView struct {
	e              *env
	host, platform string
}

func (v linuxView) enforced(t *testing.T) string  { return v.e.hash(t, v.host) }
func (v linuxView) persisted(t *testing.T) string { return v.e.persisted(t, v.host) }
func (v linuxView) armed(t *testing.T) bool       { return v.e.armed(t, v.host) }

func (v linuxView) stall(t *testing.T, at stallPoint) func(ctx context.Context) error {
	t.Helper()
	var marker string
	switch at {
	case stallArm:
		marker = "arm"
	case stallApply:
		marker = "apply"
	default:
		t.Fatalf("%s: no %s stall on Linux", v.host, at)
	}
	slowDevice(t, v.e, v.host, "slow-"+marker)
	return func(ctx context.Context) error { return waitDeviceFile(ctx, v.e.lab, v.host, "/root/at-"+marker) }
}

func (v linuxView) watch() stateWatch {
	return &linuxWatch{w: watchFamilies(v.e.lab, v.host), host: v.host, platform: v.platform}
}

// expire waits: the timer is the kernel's.
func (v linuxView) expire(t *testing.T, deadline time.Time) { time.Sleep(time.Until(deadline)) }

type linuxWatch struct {
	w              *famWatch
	host, platform string
	seen           []famSample
	stopped        bool
}

func (w *linuxWatch) stop(t *testing.T) {
	if !w.stopped {
		w.seen, w.stopped = w.w.Stop(t), true
	}
}

func (w *linuxWatch) named(t *testing.T, old, new string) []namedState {
	w.stop(t)
	ns := states(t, w.host, w.platform, w.seen, old, new)
	out := make([]namedState, len(ns))
	for i := range ns {
		out[i] = namedState{at: w.seen[i].at, name: ns[i]}
	}
	return out
}

// winView is a simulated Windows host (winsim): what it enforces, its
// rules, its scheduled tasks, on a clock the test can move.
type winView struct {
	host  string
	dev   *winsim.Device
	clock *winsim.JumpClock
}

// enforced is what the host enforces as a sorted set of lines: Windows
// applies its rules as a set, whatever their order or names.
func (v *winView) enforced(*testing.T) string { return enforcedSet(v.dev.State()) }

func enforcedSet(st enforce.State) string {
	set := lineSet(matches(st))
	lines := make([]string, 0, len(set))
	for l := range set {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// persisted is the host's firewall rules without their names (a restore
// recreates them under a new generation): Windows keeps its rules across
// reboots, so they are their own boot config.
func (v *winView) persisted(*testing.T) string {
	var lines []string
	for _, r := range v.dev.Rules() {
		r.Name = ""
		lines = append(lines, fmt.Sprintf("%+v", r))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// armed: a revert task is registered (its trigger ahead, or past).
func (v *winView) armed(*testing.T) bool {
	for _, tk := range v.dev.Tasks() {
		if tk.Path == `\fwpush\` {
			return true
		}
	}
	return false
}

// winStall is how long a stalled cmdlet waits.
const winStall = 2 * time.Second

func (v *winView) stall(t *testing.T, at stallPoint) func(ctx context.Context) error {
	t.Helper()
	cmdlet := "New-NetFirewallRule" // the apply program registered the task, then makes rules
	if at == stallMidway {
		cmdlet = "Remove-NetFirewallRule" // every new rule made; the old ones go next
	}
	started := v.dev.SlowCmdlet(cmdlet, winStall)
	return func(ctx context.Context) error {
		select {
		case <-started:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%s: the apply never reached %s: %w", v.host, cmdlet, ctx.Err())
		}
	}
}

func (v *winView) watch() stateWatch { return &winWatch{host: v.host, stopf: v.dev.Watch()} }

// expire moves the host's clock past deadline: its task fires now, after
// any program still running (the host runs one at a time).
func (v *winView) expire(t *testing.T, deadline time.Time) {
	if d := time.Until(deadline); d > 0 {
		v.clock.Jump(d)
	}
}

type winWatch struct {
	host  string
	stopf func() []winsim.Change
	seen  []winsim.Change
	done  bool
}

func (w *winWatch) stop(*testing.T) {
	if !w.done {
		w.seen, w.done = w.stopf(), true
	}
}

func (w *winWatch) named(t *testing.T, old, new string) []namedState {
	t.Helper()
	w.stop(t)
	out, problems, passing := winStates(w.seen, old, new)
	for _, p := range passing {
		t.Logf("%s: %s", w.host, p)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", w.host, p)
	}
	return out
}

// winStates names each state a host enforced: old, new, "between" for
// one that keeps every rule both have and adds only rules of either (a
// make-before-break in passing: allowed while the program making it runs,
// never to rest in once a program ended, nor last), MIX for anything
// else. It returns the problems, and the passages through between.
func winStates(seen []winsim.Change, old, new string) (out []namedState, problems, passing []string) {
	oldSet, newSet := lineSet(old), lineSet(new)
	var last string
	for _, c := range seen {
		m := enforcedSet(c.State)
		if len(out) == 0 || m != last {
			last = m
			name := "MIX"
			switch {
			case m == old:
				name = "old"
			case m == new:
				name = "new"
			case between(lineSet(m), oldSet, newSet):
				name = "between"
			}
			out = append(out, namedState{at: c.At, name: name})
			if name == "MIX" {
				problems = append(problems, fmt.Sprintf("at %s the host enforced neither the old nor the new rules, nor only both at once", c.At.Format("15:04:05.000")))
			}
		}
		if cur := out[len(out)-1]; c.Idle && cur.name == "between" {
			problems = append(problems, fmt.Sprintf("from %s the host rested in the union of the old and new rules once a program ended", cur.at.Format("15:04:05.000")))
		}
	}
	for i, s := range out {
		if s.name == "between" && i+1 < len(out) {
			passing = append(passing, fmt.Sprintf("at %s both policies' rules in passing (make before break), for %v",
				s.at.Format("15:04:05.000"), out[i+1].at.Sub(s.at).Round(time.Millisecond)))
		}
	}
	if len(out) > 0 && out[len(out)-1].name != "old" && out[len(out)-1].name != "new" {
		problems = append(problems, "the host must end in the old or the new rules, not "+out[len(out)-1].name)
	}
	return out, problems, passing
}

// between says whether s keeps everything old and new have in common and
// holds nothing else than their rules.
func between(s, old, new map[string]bool) bool {
	for l := range s {
		if !old[l] && !new[l] {
			return false
		}
	}
	for l := range old {
		if new[l] && !s[l] {
			return false
		}
	}
	return true
}

func lineSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out[l] = true
		}
	}
	return out
}

// TestWinStates: what a Windows host may be seen enforcing during a
// change: the union of both policies while a program runs, never resting
// in it once a program ended, nothing else but the old and the new rules.
func TestWinStates(t *testing.T) {
	rule := func(port uint16) enforce.Rule {
		return enforce.Rule{Action: enforce.Permit, Proto: 6, DstPorts: []enforce.PortRange{{Lo: port, Hi: port}}}
	}
	state := func(ports ...uint16) enforce.State {
		f := &enforce.Filter{Name: "windows-inbound", Default: enforce.Deny}
		for _, p := range ports {
			f.Rules = append(f.Rules, rule(p))
		}
		return enforce.State{Host: &enforce.HostPolicy{Input: f}}
	}
	t0 := time.Now()
	seq := func(steps ...any) []winsim.Change {
		var out []winsim.Change
		for i, s := range steps {
			c := winsim.Change{At: t0.Add(time.Duration(i) * time.Second)}
			switch x := s.(type) {
			case enforce.State:
				c.State = x
			case string: // "idle": the last state, at a program's end
				c.State, c.Idle = out[len(out)-1].State, true
			}
			out = append(out, c)
		}
		return out
	}
	old, nw := enforcedSet(state(22, 80)), enforcedSet(state(22, 443))
	tests := map[string]struct {
		seen     []winsim.Change
		names    []string
		problems int
	}{
		"make before break": {seen: seq(state(22, 80), state(22, 80, 443), state(22, 443), "idle"),
			names: []string{"old", "between", "new"}},
		"rests in the union": {seen: seq(state(22, 80), state(22, 80, 443), "idle", state(22, 443)),
			names: []string{"old", "between", "new"}, problems: 1},
		"ends in the union": {seen: seq(state(22, 80), state(22, 80, 443)),
			names: []string{"old", "between"}, problems: 1},
		"break before make": {seen: seq(state(22, 80), state(80), state(22, 443)),
			names: []string{"old", "MIX", "new"}, problems: 1},
		"a rule of neither": {seen: seq(state(22, 80), state(22, 80, 8080), state(22, 80)),
			names: []string{"old", "MIX", "old"}, problems: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, problems, _ := winStates(tc.seen, old, nw)
			require.Equal(t, tc.names, names(out))
			require.Len(t, problems, tc.problems, "%v", problems)
		})
	}
}
