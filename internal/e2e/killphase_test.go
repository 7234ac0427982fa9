package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/testbed"
)

// killEnv, when set, turns the test binary into a stand-in fwpush
// controller that journals into a real run store (see TestMain, killChild).
const killEnv = "FWPUSH_E2E_KILLPHASE"

// killSpec is what the stand-in controller pushes, where, into which
// store, and where it stalls for its parent to SIGKILL it.
type killSpec struct {
	LabDir    string                   `json:"lab_dir"`
	Inventory string                   `json:"inventory"`
	Playbook  string                   `json:"playbook"`
	State     string                   `json:"state"`
	Within    time.Duration            `json:"within"`
	Transport drivers.TransportOptions `json:"transport"`
	// StallAt: fetch, apply, check, confirm (just after the journal
	// recorded that phase for the device, before it runs) or confirmed
	// (just after the device confirmed and persisted, before the journal
	// records the outcome).
	StallAt string `json:"stall_at"`
	// Win reaches the lab's Windows hosts (their simulator runs in the
	// test).
	Win *winAccess `json:"win,omitempty"`
}

// killChild pushes like `fwpush apply --state FILE`: journal.Start, the
// recorder attached to apply.Run, Finish. It prints "run ID" first, then
// "at HOST PHASE" once the journal holds HOST's entry for the phase it
// stalls at ("confirmed HOST" for confirmed), and stalls there a minute.
func killChild(raw string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var spec killSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return fail(err)
	}
	lab, err := testbed.Attach(spec.LabDir)
	if err != nil {
		return fail(err)
	}
	p, err := project.Load(project.Options{Inventory: spec.Inventory, Playbook: spec.Playbook})
	if err != nil {
		return fail(err)
	}
	spec.Win.point(p)
	st, err := store.Open(spec.State)
	if err != nil {
		return fail(err)
	}
	run, err := journal.NewRun("apply", "fwpush apply (stand-in, killed by the test)", spec.Playbook, spec.Inventory)
	if err != nil {
		return fail(err)
	}
	e := &env{p: p, lab: lab, reg: all.Registry(), opts: spec.Transport, acc: spec.Win}
	open := e.opener()
	rec, err := journal.Start(st, run, open)
	if err != nil {
		return fail(err)
	}
	fmt.Printf("run %s\n", run.ID)
	stall := func() { time.Sleep(time.Minute) } // the parent kills long before
	o := rec.Attach(apply.Options{ConfirmWithin: spec.Within, Engine: eo()})
	o.Journal = &hookJournal{Recorder: rec, hook: func(d apply.Device) {
		if d.Phase == spec.StallAt {
			fmt.Printf("at %s %s\n", d.Host, d.Phase)
			stall()
		}
	}}
	wrapped := func(ctx context.Context, host string) (drivers.Session, error) {
		s, err := open(ctx, host)
		if err != nil || spec.StallAt != "confirmed" {
			return s, err
		}
		return &hookSession{Session: s, host: host, confirmed: func(host string) {
			fmt.Printf("confirmed %s\n", host)
			stall()
		}}, nil
	}
	rep, err := apply.Run(context.Background(), p, wrapped, o)
	jerr := rec.Finish(err)
	if rep != nil {
		for _, d := range rep.Devices {
			fmt.Printf("outcome %s %s\n", d.Host, d.Outcome)
		}
	}
	if err != nil || jerr != nil {
		fmt.Fprintln(os.Stderr, err, jerr)
		return 1
	}
	return 0
}

// hookJournal journals into a Recorder and then calls hook, so the entry
// for the phase is in the store when hook runs.
type hookJournal struct {
	*journal.Recorder
	hook func(d apply.Device)
}

func (j *hookJournal) Phase(ctx context.Context, d apply.Device) error {
	if err := j.Recorder.Phase(ctx, d); err != nil {
		return err
	}
	if j.hook != nil {
		j.hook(d)
	}
	return nil
}

// hookSession calls failed when Apply or Confirm fails and confirmed when
// Confirm succeeds (either may be nil).
type hookSession struct {
	drivers.Session
	host      string
	failed    func(host string)
	confirmed func(host string)
}

func (s *hookSession) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	armed, err := s.Session.Apply(ctx, desired, o)
	if err != nil && s.failed != nil {
		s.failed(s.host)
	}
	return armed, err
}

func (s *hookSession) Confirm(ctx context.Context, t drivers.Trial) error {
	err := s.Session.Confirm(ctx, t)
	switch {
	case err != nil && s.failed != nil:
		s.failed(s.host)
	case err == nil && s.confirmed != nil:
		s.confirmed(s.host)
	}
	return err
}

// slowDevice installs, on host, wrappers for the tools a push runs, put
// first on the PATH of every SSH command (and of the revert timer, which
// inherits it) through root's shell profile, like slowRevert. They change
// nothing unless a one-shot marker is there:
//   - /root/slow-apply: the apply of the staged desired config (not its
//     check, not a revert) touches /root/at-apply and sleeps 2 s before
//     changing anything, so the device-side apply command is running and
//     the device still has the old policy;
//   - /root/slow-arm: arming the revert timer touches /root/at-arm and
//     sleeps 3 s once the timer runs, before the arm command returns.
//
// Each marker is removed on use.
func slowDevice(t *testing.T, e *env, host string, markers ...string) {
	t.Helper()
	e.sh(t, host, `set -e
mkdir -p /root/bin
cat > /root/bin/nft <<'EOF2'
#!/bin/sh
case " $* " in
*" -c "*) ;;
*desired.nft*) if [ -e /root/slow-apply ]; then rm -f /root/slow-apply; touch /root/at-apply; sleep 2; fi;;
esac
exec /usr/sbin/nft "$@"
EOF2
cat > /root/bin/iptables-restore <<'EOF2'
#!/bin/sh
case " $* " in
*" --test "*) ;;
*) if [ -e /root/slow-apply ] && tr '\0' ' ' < /proc/$PPID/cmdline | grep -q 'desired\.sh'; then
	rm -f /root/slow-apply; touch /root/at-apply; sleep 2
   fi;;
esac
exec /usr/sbin/iptables-restore "$@"
EOF2
cat > /root/bin/setsid <<'EOF2'
#!/bin/sh
/usr/bin/setsid "$@"; rc=$?
if [ -e /root/slow-arm ]; then rm -f /root/slow-arm; touch /root/at-arm; sleep 3; fi
exit $rc
EOF2
chmod +x /root/bin/*
rm -f /root/at-apply /root/at-arm
echo 'export PATH=/root/bin:$PATH' > /root/.bashrc`)
	for _, m := range markers {
		e.sh(t, host, "touch /root/"+m)
	}
}

// waitDeviceFile waits (at most 30 s) until host has file.
func waitDeviceFile(ctx context.Context, lab *testbed.Lab, host, file string) error {
	out, err := lab.Exec(ctx, host, "sh", "-c",
		`i=0; while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; test -e "$1"`, "sh", file)
	if err != nil {
		return fmt.Errorf("%s: %s never appeared: %w: %s", host, file, err, out)
	}
	return nil
}

// famScript is hashScript with a marker line before each command, so the
// output read without those lines is exactly hostHash's, and its first
// part is `nft -s list ruleset` alone: one consistent dump of the kernel's
// state (nft re-dumps when the ruleset changes under it), which on these
// hosts (nftables, and iptables on its nf_tables backend) holds every
// table. The iptables-save reads that follow are separate, so a change
// landing between them tears the whole sample, not the device.
const famScript = "nft -s list ruleset; echo @@IPT; iptables-save | sed -e '/^#/d' -e 's/\\[[0-9]*:[0-9]*\\]//'; " +
	"echo @@IP6; ip6tables-save | sed -e '/^#/d' -e 's/\\[[0-9]*:[0-9]*\\]//'"

// famSample is a firewall state seen at a time: the hash of the whole
// (hostHash's), of the nft dump, and of the dump's ip and ip6 tables.
type famSample struct {
	at                time.Time
	hash, nft, v4, v6 string
}

// famWatch samples a host's firewall state like hashWatch, keeping every
// transition with its per-family hashes.
type famWatch struct {
	stop, done chan struct{}
	once       sync.Once
	mu         sync.Mutex
	seen       []famSample
	err        error
}

func sum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// nftFamilies splits an nft dump into its ip tables and its ip6 tables.
func nftFamilies(dump string) (v4, v6 string) {
	var cur *strings.Builder
	var b4, b6 strings.Builder
	for _, l := range strings.SplitAfter(dump, "\n") {
		switch {
		case strings.HasPrefix(l, "table ip "):
			cur = &b4
		case strings.HasPrefix(l, "table ip6 "):
			cur = &b6
		case strings.HasPrefix(l, "table "):
			cur = nil
		}
		if cur != nil {
			cur.WriteString(l)
		}
	}
	return b4.String(), b6.String()
}

func watchFamilies(lab *testbed.Lab, host string) *famWatch {
	w := &famWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; i < 3000; i++ { // bounded: ≥ 150 s at the interval below
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			cmd := exec.CommandContext(ctx, "nsenter", "--net=/run/netns/"+lab.Namespace(host), "sh", "-c", famScript)
			cmd.WaitDelay = time.Second
			b, err := cmd.CombinedOutput()
			cancel()
			now := time.Now()
			out := string(b)
			dump, _, ok := strings.Cut(out, "@@IPT\n")
			whole := strings.NewReplacer("@@IPT\n", "", "@@IP6\n", "").Replace(out)
			v4, v6 := nftFamilies(dump)
			w.mu.Lock()
			switch {
			case err != nil || !ok:
				if w.err == nil {
					w.err = fmt.Errorf("%s: ruleset: %v: %s", host, err, out)
				}
			case len(w.seen) == 0 || w.seen[len(w.seen)-1].hash != sum(whole):
				w.seen = append(w.seen, famSample{at: now, hash: sum(whole), nft: sum(dump), v4: sum(v4), v6: sum(v6)})
			}
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

// Stop ends the watch (once; later calls return nil) and returns the
// transitions seen.
func (w *famWatch) Stop(t *testing.T) []famSample {
	t.Helper()
	var seen []famSample
	w.once.Do(func() {
		close(w.stop)
		select {
		case <-w.done:
		case <-time.After(10 * time.Second):
			t.Fatal("ruleset watcher did not stop")
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		require.NoError(t, w.err)
		seen = w.seen
	})
	return seen
}

// familySplitOK says whether a state with the ip tables of the old
// policy and the ip6 tables of the new one (or the reverse) may be seen in
// passing. iptables hosts restore IPv4 and IPv6 with two commands
// (iptables-restore, then ip6tables-restore), in the apply as in the
// device's revert, so for a few milliseconds every push and every revert
// has the IPv4 part of one policy and the IPv6 part of the other: a
// platform limit, reported, not a device left in a mix. It is never
// accepted as the state a device stays in, nor on nftables hosts (nft -f
// is one transaction), nor for longer than familySplitMax.
const familySplitOK = true

const familySplitMax = time.Second

// states names each transition a watch saw: old, new; "torn:X" for a
// sample whose nft dump is exactly X's (the device was in state X; only
// the later iptables-save read saw the next state); "v4:X/v6:Y" for a
// dump whose ip tables are X's and ip6 tables Y's; "MIX" for anything
// else. MIX is an error, and so is a family split unless familySplitOK
// allows it; the last state must be old or new.
func states(t *testing.T, host, platform string, seen []famSample, old, nw string) []string {
	t.Helper()
	ref := map[string]famSample{}
	for _, s := range seen {
		switch s.hash {
		case old:
			ref["old"] = s
		case nw:
			ref["new"] = s
		}
	}
	which := func(get func(famSample) string, s famSample) string {
		for _, n := range []string{"old", "new"} {
			if f, ok := ref[n]; ok && get(f) == get(s) {
				return n
			}
		}
		return "?"
	}
	var out []string
	for i, s := range seen {
		switch s.hash {
		case old:
			out = append(out, "old")
			continue
		case nw:
			out = append(out, "new")
			continue
		}
		var lasted time.Duration
		if i+1 < len(seen) {
			lasted = seen[i+1].at.Sub(s.at)
		}
		if n := which(func(f famSample) string { return f.nft }, s); n != "?" {
			out = append(out, "torn:"+n)
			t.Logf("%s: at %s a torn read: the nft dump was the %s state, the iptables-save after it saw a change", host, s.at.Format("15:04:05.000"), n)
			continue
		}
		v4 := which(func(f famSample) string { return f.v4 }, s)
		v6 := which(func(f famSample) string { return f.v6 }, s)
		name := "MIX"
		if v4 != "?" && v6 != "?" && v4 != v6 {
			name = "v4:" + v4 + "/v6:" + v6
		}
		out = append(out, name)
		msg := fmt.Sprintf("%s: at %s the device had neither the old nor the new ruleset: %s (hash %.12s), for < %v",
			host, s.at.Format("15:04:05.000"), name, s.hash, lasted.Round(time.Millisecond))
		split := name != "MIX" && platform == "linux-iptables" && i+1 < len(seen) && lasted < familySplitMax
		if familySplitOK && split {
			t.Log(msg + " (family split in passing: see familySplitOK)")
			continue
		}
		t.Error(msg)
	}
	if len(out) > 0 {
		last := out[len(out)-1]
		assert.Contains(t, []string{"old", "new"}, last, "%s: the device must end in the old or the new ruleset", host)
	}
	return out
}

// settled drops the family splits seen in passing from a state sequence.
func settled(seq []string) []string {
	var out []string
	for _, s := range seq {
		if s == "old" || s == "new" || s == "MIX" || strings.HasPrefix(s, "torn:") {
			s = strings.TrimPrefix(s, "torn:")
			if len(out) == 0 || out[len(out)-1] != s {
				out = append(out, s)
			}
		}
	}
	return out
}

// TestKilledInEachPhase SIGKILLs a real controller process, journaling
// into a real run store, at each phase of a push to an nftables and an
// iptables host (RELIABILITY A14): before fetch, before apply, while the
// device-side apply command runs, before the check, before the confirm,
// and just after the confirm persisted. Each case runs the same steps.
func TestKilledInEachPhase(t *testing.T) { runKills(t, linuxFaults) }

// killCases are the moments the controller dies, on every platform.
var killCases = []killCase{
	{name: "fetch", stallAt: "fetch", phase: "fetch", result: store.Untouched},
	{name: "apply", stallAt: "apply", phase: "apply", result: store.RolledBack},
	{name: "mid-apply", stallAt: "check", slow: true, phase: "apply", result: store.RolledBack, landed: true},
	{name: "check", stallAt: "check", phase: "check", result: store.RolledBack, landed: true},
	{name: "confirm", stallAt: "confirm", phase: "confirm", result: store.RolledBack, landed: true},
	{name: "confirmed", stallAt: "confirmed", phase: "confirm", result: store.Applied, landed: true},
}

// runKills runs each kill case's steps on sys, in parallel.
func runKills(t *testing.T, sys faultSystem) {
	for _, tc := range killCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := newKillRun(t, sys, tc)
			k.startController(t)           // a real fwpush process pushes the next policy
			k.killAtPhase(t)               // SIGKILL once every device reached the phase
			k.devicesSettleByThemselves(t) // old ruleset by the device's own timer (new if confirmed)
			k.deadRunLeftItsRecord(t)      // the phase, no outcome, its locks
			k.nextRunReconciles(t)         // breaks the locks, names the phase and result, pushes
			k.neverAMix(t)                 // old or new at every moment, never both
		})
	}
}

// killCase is where the controller dies and what must follow.
type killCase struct {
	name    string
	stallAt string // where the child stalls (see killSpec)
	slow    bool   // kill while the device-side apply command runs
	phase   string // the dead run's recorded phase
	result  string // the next run's reconciliation
	landed  bool   // the change reached the device before the kill
}

// killRun is one case's lab, the controller process and what it left.
type killRun struct {
	tc        killCase
	t0        time.Time
	e, next   *env
	ctx       context.Context
	hosts     []string
	views     map[string]deviceView
	stalled   map[string]func(context.Context) error
	old, boot map[string]string
	watches   map[string]stateWatch
	state     string // the run store file
	inv, pb   string
	cmd       *exec.Cmd
	stderr    *lockedBuffer
	lines     chan string
	deadRun   string
	killed    time.Time
}

// newKillRun starts the lab on the baseline policy, slows the devices
// where the case needs it, and starts watching every host's ruleset.
func newKillRun(t *testing.T, sys faultSystem, tc killCase) *killRun {
	k := &killRun{tc: tc, t0: time.Now(), old: map[string]string{}, boot: map[string]string{}, views: map[string]deviceView{},
		stalled: map[string]func(context.Context) error{}, watches: map[string]stateWatch{}}
	k.e = sys.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	k.ctx = ctx
	k.e.push(t, ctx)
	k.next = k.e.with(t, sys.next)
	k.hosts = k.e.hostNames()
	for _, h := range k.hosts {
		v := k.e.view(t, h)
		k.views[h] = v
		if tc.slow {
			k.stalled[h] = v.stall(t, stallApply)
		}
		k.old[h], k.boot[h] = v.enforced(t), v.persisted(t)
		k.watches[h] = v.watch()
	}
	t.Cleanup(func() {
		for _, w := range k.watches {
			w.stop(t)
		}
	})
	k.state = filepath.Join(t.TempDir(), "runs.db")
	var err error
	k.inv, err = filepath.Abs(k.next.p.Inv.Dir)
	require.NoError(t, err)
	k.pb, err = filepath.Abs(k.next.p.Options.Playbook)
	require.NoError(t, err)
	return k
}

// startController runs this test binary as a controller (killEnv) that
// journals a push of the next policy into the run store and stalls at
// the case's point.
func (k *killRun) startController(t *testing.T) {
	spec, err := json.Marshal(killSpec{LabDir: k.e.lab.Dir(), Inventory: k.inv, Playbook: k.pb, State: k.state,
		Within: trialTimer, Transport: k.e.opts, StallAt: k.tc.stallAt, Win: k.e.acc})
	require.NoError(t, err)
	k.cmd = exec.CommandContext(k.ctx, os.Args[0], "-test.run=^$")
	k.cmd.Env = append(os.Environ(), killEnv+"="+string(spec))
	k.stderr = &lockedBuffer{}
	k.cmd.Stderr = k.stderr
	stdout, err := k.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, k.cmd.Start())
	t.Cleanup(func() { _ = k.cmd.Process.Kill(); _ = k.cmd.Wait() })
	k.lines = make(chan string, 64)
	go func() {
		defer close(k.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			k.lines <- sc.Text()
		}
	}()
}

// killAtPhase waits for the moment to kill — every host at the stall
// point, or, for mid-apply, every device inside its apply command — then
// SIGKILLs the controller: nothing deferred runs.
func (k *killRun) killAtPhase(t *testing.T) {
	var devErr error
	devReady := make(chan struct{})
	if k.tc.slow {
		go func() {
			defer close(devReady)
			var mu sync.Mutex
			var wg sync.WaitGroup
			for _, h := range k.hosts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(k.ctx, 30*time.Second)
					defer cancel()
					if err := k.stalled[h](ctx); err != nil {
						mu.Lock()
						devErr = err
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
		}()
	}
	at := map[string]bool{}
	timeout := time.After(time.Minute)
wait:
	for {
		select {
		case l, ok := <-k.lines:
			if !ok {
				t.Fatalf("controller exited early: %v: %s", k.cmd.Wait(), k.stderr)
			}
			if id, ok := strings.CutPrefix(l, "run "); ok {
				k.deadRun = id
			}
			f := strings.Fields(l)
			if !k.tc.slow && len(f) == 3 && f[0] == "at" && f[2] == k.tc.stallAt {
				at[f[1]] = true
			}
			if !k.tc.slow && len(f) == 2 && f[0] == "confirmed" && k.tc.stallAt == "confirmed" {
				at[f[1]] = true
			}
			if !k.tc.slow && len(at) == len(k.hosts) {
				break wait
			}
		case <-devReady:
			require.NoError(t, devErr)
			break wait
		case <-timeout:
			t.Fatalf("controller did not reach %s within a minute (at %v): %s", k.tc.name, at, k.stderr)
		}
	}
	k.killed = time.Now()
	require.NoError(t, k.cmd.Process.Kill())
	go func() {
		for range k.lines {
		}
	}()
	err := k.cmd.Wait()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "killed")
	require.NotEmpty(t, k.deadRun, "the controller printed its run id")
	t.Logf("killed at %s, %v into the subtest", k.tc.name, k.killed.Sub(k.t0).Round(time.Millisecond))
}

// devicesSettleByThemselves: with no controller, each device ends on the
// old ruleset by its own timer (or keeps the new one when the confirm went
// through), its boot config changed only then, no timer left.
func (k *killRun) devicesSettleByThemselves(t *testing.T) {
	if k.tc.landed && k.tc.stallAt != "confirmed" {
		for _, h := range k.hosts {
			k.views[h].expire(t, k.killed.Add(trialTimer+5*time.Second))
		}
	} else {
		time.Sleep(time.Second) // anything still in flight lands
	}
	for _, h := range k.hosts {
		k.watches[h].stop(t)
	}
	for _, h := range k.hosts {
		v := k.views[h]
		if k.tc.stallAt == "confirmed" {
			assert.NotEqual(t, k.old[h], v.enforced(t), "%s: confirmed: the new ruleset stays", h)
			assert.NotEqual(t, k.boot[h], v.persisted(t), "%s: confirmed: the new ruleset is the boot config", h)
		} else {
			assert.Equal(t, k.old[h], v.enforced(t), "%s: the old ruleset, by the device's own timer", h)
			assert.Equal(t, k.boot[h], v.persisted(t), "%s: boot config untouched", h)
		}
		assert.False(t, v.armed(t), "%s: no timer armed once its deadline passed", h)
	}
}

// deadRunLeftItsRecord: the store holds the dead run's phase, no outcome,
// and its locks.
func (k *killRun) deadRunLeftItsRecord(t *testing.T) {
	st, err := store.Open(k.state)
	require.NoError(t, err)
	_, es, err := st.Run(k.deadRun)
	require.NoError(t, err)
	require.Len(t, es, len(k.hosts))
	for _, en := range es {
		assert.Equal(t, k.tc.phase, en.Phase, en.Host)
		assert.Equal(t, "unfinished", en.State(), en.Host)
	}
	locks, err := st.Locks()
	require.NoError(t, err)
	require.Len(t, locks, len(k.hosts))
	for _, l := range locks {
		assert.Equal(t, k.deadRun, l.Run, "%s: the dead run's lock", l.Host)
	}
}

// nextRunReconciles: the next run breaks each stale lock, reconciles the
// dead run's entries naming its phase with the right result, pushes
// cleanly and leaves no timer.
func (k *killRun) nextRunReconciles(t *testing.T) {
	st, err := store.Open(k.state)
	require.NoError(t, err)
	run, err := journal.NewRun("apply", "fwpush apply (next run)", k.pb, k.inv)
	require.NoError(t, err)
	res, err := journal.Apply(k.ctx, st, run, k.next.p, nil, k.next.opener(),
		apply.Options{ConfirmWithin: okTimer, Settle: 2 * time.Second, Engine: eo()})
	require.NoError(t, err)
	warnings := strings.Join(res.Warnings, "\n")
	got := map[string]store.Reconciliation{}
	for _, r := range res.Reconciled {
		got[r.Host] = r
	}
	for _, h := range k.hosts {
		r, ok := got[h]
		if !assert.True(t, ok, "%s: the next run reports a reconciliation: %v", h, res.Reconciled) {
			continue
		}
		t.Logf("%s: reconciled run %s (stopped at %s): %s: %s", h, r.Run, r.Phase, r.Result, r.Detail)
		assert.Equal(t, k.deadRun, r.Run, h)
		assert.Equal(t, k.tc.phase, r.Phase, h)
		assert.Equal(t, k.tc.result, r.Result, "%s: %s", h, r.Detail)
		assert.Equal(t, res.Run, r.By, h)
		assert.Contains(t, warnings, h+": broke the stale lock of run "+k.deadRun)
	}
	want := apply.Confirmed
	if k.tc.stallAt == "confirmed" {
		want = apply.Unchanged
	}
	for _, d := range res.Devices {
		assert.Equal(t, want, d.Outcome, "%s: %s", d.Host, d.Error)
	}
	locks, err := st.Locks()
	require.NoError(t, err)
	assert.Empty(t, locks, "no lock left")
	left, err := st.UnfinishedHosts()
	require.NoError(t, err)
	assert.Empty(t, left, "nothing left to reconcile")
	for _, h := range k.hosts {
		assert.False(t, k.views[h].armed(t), "%s: no timer left armed", h)
		assert.NotEqual(t, k.boot[h], k.views[h].persisted(t), "%s: the new policy persisted", h)
	}
}

// neverAMix: every host's ruleset was the old or the new one at every
// moment, and changed only as the phase of the kill allows; a change
// that landed mid-apply came from the command the dead controller
// started.
func (k *killRun) neverAMix(t *testing.T) {
	for _, h := range k.hosts {
		named := k.watches[h].named(t, k.old[h], k.views[h].enforced(t))
		seq := names(named)
		t.Logf("%s: states seen from before the controller started until %s: %v", h, k.tc.name, seq)
		seq = settled(seq)
		require.NotEmpty(t, seq, h)
		assert.Equal(t, "old", seq[0], h)
		switch {
		case !k.tc.landed:
			assert.Equal(t, []string{"old"}, seq, "%s: the change never reached the device", h)
		case k.tc.stallAt == "confirmed":
			assert.Equal(t, []string{"old", "new"}, seq, h)
		default:
			assert.Equal(t, []string{"old", "new", "old"}, seq, "%s: changed, then reverted by the device", h)
		}
		if k.tc.slow && len(named) > 1 {
			assert.True(t, named[1].at.After(k.killed),
				"%s: the change must land after the kill, from the apply command the dead controller started", h)
		}
	}
}
