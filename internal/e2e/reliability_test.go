package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// rel is the reliability tests' inventory (one linux-nftables and one
// linux-iptables host; the controller is outside the management networks)
// and its playbooks.
const rel = "testdata/reliability/"

// Timers of the fault tests. A push that must be reverted waits for its
// timer, so it is short (RELIABILITY.md: 5–10 s keeps the suite fast); a
// push that must be confirmed never waits for it, so it is long enough for
// a loaded CI machine to check and confirm in time.
const (
	trialTimer = 5 * time.Second
	okTimer    = 30 * time.Second
)

// newRelEnv starts a lab for the reliability inventory under playbook, with
// extra lab hosts that are not in the inventory (probe sources).
func newRelEnv(t *testing.T, playbook string, extra []testbed.HostSpec, labOpts ...testbed.Option) *env {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: rel + "inventory", Playbook: rel + playbook})
	require.NoError(t, err)
	// A slow start is not the fault under test: give a busy CI machine time.
	labOpts = append([]testbed.Option{testbed.WithReadyTimeout(time.Minute)}, labOpts...)
	return labEnv(p, testbed.StartT(t, append(labinv.Specs(p), extra...), labOpts...))
}

// labEnv is p pushed to lab with newEnv's transport settings.
func labEnv(p *project.Project, lab *testbed.Lab) *env {
	return &env{p: p, lab: lab, reg: all.Registry(), opts: drivers.TransportOptions{
		KnownHostsFiles: []string{lab.KnownHostsPath()}, IdentityFiles: []string{lab.ClientKeyPath()},
		SSHConfigFile: "none", ConnectTimeout: 5 * time.Second, CommandTimeout: 30 * time.Second,
		Keepalive: 2 * time.Second, ConnectRetries: 3,
	}}
}

// with returns the same lab and inventory under another playbook, one
// next to e's.
func (e *env) with(t *testing.T, playbook string) *env {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: e.p.Inv.Dir, Playbook: filepath.Join(filepath.Dir(e.p.Options.Playbook), playbook)})
	require.NoError(t, err)
	e.acc.point(p)
	return &env{p: p, lab: e.lab, reg: e.reg, opts: e.opts, win: e.win, clock: e.clock, acc: e.acc}
}

// push applies e's playbook with commit-confirm and requires every device
// confirmed.
func (e *env) push(t *testing.T, ctx context.Context) *apply.Report {
	t.Helper()
	rep, err := apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.NoError(t, err)
	for _, d := range rep.Devices {
		require.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
	}
	return rep
}

// hostNames lists the selected hosts.
func (e *env) hostNames() []string {
	var out []string
	for _, h := range e.p.Selected {
		out = append(out, h.Name)
	}
	return out
}

// sh runs a script inside host (the view its SSH sessions have) and
// returns its output.
func (e *env) sh(t *testing.T, host, script string) string {
	t.Helper()
	out, err := e.lab.Exec(context.Background(), host, "sh", "-c", script)
	require.NoError(t, err, "%s: %s", host, out)
	return string(out)
}

// hashScript prints the host's whole firewall state (every table, not just
// fwpush's), without counters: traffic is not config.
const hashScript = "nft -s list ruleset; iptables-save | sed -e '/^#/d' -e 's/\\[[0-9]*:[0-9]*\\]//'; " +
	"ip6tables-save | sed -e '/^#/d' -e 's/\\[[0-9]*:[0-9]*\\]//'"

// hostHash hashes host's whole firewall state; it needs no *testing.T, so
// watchers can call it from their own goroutine. The firewall belongs to
// the network namespace alone, so nsenter suffices: it is ~20 times
// cheaper than lab.Exec (which also builds the host's mount view), which
// keeps watchers' samples dense.
func hostHash(ctx context.Context, lab *testbed.Lab, host string) (string, error) {
	ns := lab.Namespace(host)
	if ns == "" {
		return "", fmt.Errorf("%s: no such lab host", host)
	}
	cmd := exec.CommandContext(ctx, "nsenter", "--net=/run/netns/"+ns, "sh", "-c", hashScript)
	cmd.WaitDelay = time.Second
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: ruleset: %w: %s", host, err, b)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func (e *env) hash(t *testing.T, host string) string {
	t.Helper()
	h, err := hostHash(context.Background(), e.lab, host)
	require.NoError(t, err)
	return h
}

// persisted lists fwpush's boot config on host with content hashes and
// modification times: "untouched" means this string does not change.
func (e *env) persisted(t *testing.T, host string) string { return e.sh(t, host, persistedScript) }

const persistedScript = `cd /etc/fwpush || exit 0; for f in *; do [ -e "$f" ] || continue; sha256sum "$f"; stat -c '%n %y' "$f"; done`

// stateDirScript lists /var/lib/fwpush with modification times.
const stateDirScript = "ls -A --full-time /var/lib/fwpush | sed 1d"

// armed says whether host has a revert timer's files (armed.pid,
// armed.deadline): the revert removes them when it fires, disarm when it
// stops the timer.
func (e *env) armed(t *testing.T, host string) bool {
	return strings.TrimSpace(e.sh(t, host, armedScript)) != ""
}

const armedScript = `cd /var/lib/fwpush; [ -e armed.pid ] && echo pidfile; [ -e armed.deadline ] && echo deadline; true`

// sshdLog returns host's sshd log so far.
func (e *env) sshdLog(t *testing.T, host string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.lab.Dir(), "hosts", host, "sshd.log"))
	require.NoError(t, err)
	return string(b)
}

// sessions counts the commands sshd has started on host (each Run is one
// session; LogLevel VERBOSE logs "Starting session: command ...").
func (e *env) sessions(t *testing.T, host string) int {
	return strings.Count(e.sshdLog(t, host), "Starting session: command")
}

// sample is a firewall state seen at a time.
type sample struct {
	at   time.Time
	hash string
}

// hashWatch samples a host's firewall state from the host itself until
// stopped, keeping every transition, so a test can tell when a change
// landed and when the device reverted it, independently of fwpush.
type hashWatch struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	seen []sample
	err  error
}

func watchHash(lab *testbed.Lab, host string) *hashWatch {
	w := &hashWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; i < 2000; i++ { // bounded: ≥ 100 s at the interval below
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			h, err := hostHash(ctx, lab, host)
			cancel()
			now := time.Now()
			w.mu.Lock()
			if err != nil && w.err == nil {
				w.err = err
			}
			if err == nil && (len(w.seen) == 0 || w.seen[len(w.seen)-1].hash != h) {
				w.seen = append(w.seen, sample{at: now, hash: h})
			}
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return w
}

// Stop ends the watch and returns the transitions seen.
func (w *hashWatch) Stop(t *testing.T) []sample {
	t.Helper()
	close(w.stop)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("hash watcher did not stop")
	}
	require.NoError(t, w.err)
	return w.seen
}

// requireReverted checks a watch: it started at before, left it (the
// change landed), and came back to before for good within within+5 s of
// leaving it, and not much earlier than within (the revert waited; the
// 2 s slack is the sampling latency of a loaded machine).
func requireReverted(t *testing.T, host, before string, seen []sample, within time.Duration) {
	t.Helper()
	require.NotEmpty(t, seen, host)
	require.Equal(t, before, seen[0].hash, "%s: the watch starts at the previous state", host)
	require.Greater(t, len(seen), 1, "%s: the change never landed on the device", host)
	last := seen[len(seen)-1]
	require.Equal(t, before, last.hash, "%s: the device must end in its previous state", host)
	took := last.at.Sub(seen[1].at)
	t.Logf("%s: changed, reverted by the device %v later (%d states seen)", host, took.Round(10*time.Millisecond), len(seen))
	assert.LessOrEqual(t, took, within+5*time.Second, "%s: back to the previous state within timeout + 5 s", host)
	assert.GreaterOrEqual(t, took, within-2*time.Second, "%s: the revert must wait for its timer", host)
}

// dropsSession wraps a Linux driver so its policy lacks the always-on
// established/related rule: applying it cuts the very session that applies
// it, like a hand-written lockout (fwpush's own policies never do that).
type dropsSession struct{ drivers.Driver }

func (d dropsSession) Render(in *intent.Intent) (drivers.Config, error) {
	c, err := d.Driver.Render(in)
	if err != nil {
		return c, err
	}
	out := drivers.Config{Platform: c.Platform}
	for _, p := range c.Parts {
		var keep []string
		for _, l := range strings.SplitAfter(p.Text, "\n") {
			if !strings.Contains(l, "established,related accept") && !strings.Contains(l, "RELATED,ESTABLISHED") {
				keep = append(keep, l)
			}
		}
		text := strings.Join(keep, "")
		if text == p.Text {
			return c, fmt.Errorf("%s: no established rule to strip: the lockout would not cut the session", p.Name)
		}
		out.Parts = append(out.Parts, drivers.Part{Name: p.Name, Text: text})
	}
	return out, nil
}

func sessionDroppingRegistry(t *testing.T) *drivers.Registry {
	t.Helper()
	real := all.Registry()
	reg := drivers.NewRegistry()
	for _, id := range []string{"linux-nftables", "linux-iptables"} {
		p, ok := real.Lookup(id)
		require.True(t, ok, id)
		p.Driver = dropsSession{p.Driver}
		require.NoError(t, reg.Register(p))
	}
	return reg
}

// TestLockoutRollsBack pushes policies that lock the controller out, to
// one linux-nftables and one linux-iptables host, and proves each device
// reverts by itself (RELIABILITY.md A1–A3): apply fails, the outcome is
// rolled-back and names the reason, every host is back to its previous
// firewall state (whole ruleset hash) within timeout + 5 s, and the boot
// config is untouched.
func TestLockoutRollsBack(t *testing.T) {
	cases := map[string]struct {
		dropSession bool     // the policy also drops the established session
		sshd        []string // extra sshd_config lines
		reaped      bool     // sshd must have reaped the applying session
	}{
		// A1: every packet from the controller is dropped, the session
		// that applied the change included.
		"A1 policy drops the controller's SSH": {dropSession: true},
		// A2: the applying session lives on (established is accepted) while
		// every new connection is dropped: confirming on it would succeed.
		"A2 keeps established, blocks new SSH": {},
		// A3: sshd reaps the dead session after 2 s, killing everything the
		// session still runs: the revert timer must live outside it.
		"A3 sshd ClientAliveInterval 1 reaps the session": {
			dropSession: true, sshd: []string{"ClientAliveInterval 1", "ClientAliveCountMax 2"}, reaped: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var labOpts []testbed.Option
			if len(tc.sshd) > 0 {
				labOpts = append(labOpts, testbed.WithSSHDConfig(tc.sshd...))
			}
			e := newRelEnv(t, "baseline.yml", nil, labOpts...)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			e.push(t, ctx) // the previous state: a confirmed policy that lets the controller in

			lock := e.with(t, "lockout.yml")
			if tc.dropSession {
				lock.reg = sessionDroppingRegistry(t)
				lock.p.Registry = lock.reg // renders through the wrapper too
			}
			if !tc.dropSession {
				oldSessionStillConfirms(t, ctx, lock)
			}
			before, boot := map[string]string{}, map[string]string{}
			for _, h := range e.hostNames() {
				before[h], boot[h] = e.hash(t, h), e.persisted(t, h)
				require.NotEmpty(t, boot[h], "%s: the baseline was persisted", h)
			}

			watches := map[string]*hashWatch{}
			for _, h := range e.hostNames() {
				watches[h] = watchHash(e.lab, h)
			}
			// The lock-out guard would refuse this push before any device
			// changes (TestLockoutGuardRefuses); skipping it tests the
			// device's own revert, the last line of defence.
			rep, err := apply.Run(ctx, lock.p, lock.opener(), apply.Options{ConfirmWithin: trialTimer, Engine: eo(), OutsideManagement: true})
			require.Error(t, err, "a push that locks the controller out must fail")
			require.NotNil(t, rep)
			require.Len(t, rep.Devices, 2)
			for _, d := range rep.Devices {
				assert.Equal(t, apply.RolledBack, d.Outcome, "%s: %s", d.Host, d.Error)
				assert.Equal(t, "check", d.Phase, d.Host)
				assert.Contains(t, d.Error, d.Host+": check: new management connection failed", "the report names the reason")
				assert.ErrorContains(t, err, d.Host+": check:")
				t.Logf("%s: %s: %s", d.Host, d.Outcome, d.Error)
			}
			for _, h := range e.hostNames() {
				requireReverted(t, h, before[h], watches[h].Stop(t), trialTimer)
				assert.Equal(t, before[h], e.hash(t, h), "%s: previous firewall state, byte for byte", h)
				assert.Equal(t, boot[h], e.persisted(t, h), "%s: boot config untouched", h)
				assert.False(t, e.armed(t, h), "%s: no timer left armed", h)
				assert.Equal(t, 1, strings.Count(e.sh(t, h, "cat /var/lib/fwpush/revert.log"), "reverted"),
					"%s: the device's own timer reverted it, once", h)
				if tc.reaped {
					assert.Contains(t, e.sshdLog(t, h), "Timeout, client not responding", "%s: sshd reaped the session", h)
				}
			}
		})
	}
}

// TestLockoutGuardRefuses: a policy whose management networks leave out
// the controller is refused before any device is armed or changed. The
// guard reads, on every device, the address the device sees the controller
// come from (SSH_CONNECTION) and proves the new policy admits it; one
// device failing refuses the run for all. Zero devices change, no timer is
// armed, and the journal records each device as refused at the gate.
func TestLockoutGuardRefuses(t *testing.T) {
	e := newRelEnv(t, "baseline.yml", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	before := map[string]string{}
	for _, h := range e.hostNames() {
		before[h] = e.hash(t, h)
	}
	lock := e.with(t, "lockout.yml")
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	run := store.NewRun("apply", "fwpush apply # guard test")
	res, err := journal.Apply(ctx, st, run, lock.p, nil, lock.opener(), apply.Options{ConfirmWithin: trialTimer, Engine: eo()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was pushed")
	for _, h := range e.hostNames() {
		assert.Contains(t, err.Error(), h+": lock-out guard: this controller reaches the device from 198.18.0.1")
		assert.Equal(t, before[h], e.hash(t, h), "%s: untouched", h)
		assert.False(t, e.armed(t, h), "%s: nothing armed", h)
	}
	for _, d := range res.Devices {
		assert.Equal(t, apply.Failed, d.Outcome, d.Host)
		assert.Equal(t, "gate", d.Phase, d.Host)
	}
	_, es, err := st.Run(res.Run)
	require.NoError(t, err)
	require.Len(t, es, len(e.hostNames()))
	for _, en := range es {
		assert.Equal(t, "failed", en.Outcome, en.Host)
		assert.Equal(t, "gate", en.Phase, en.Host)
	}
}

// oldSessionStillConfirms shows the A2 trap on every host: after a policy
// that blocks new SSH, the session that applied it still works, so a tool
// confirming on it would lock the controller out for good. It cleans up
// with a rollback on that same session.
func oldSessionStillConfirms(t *testing.T, ctx context.Context, lock *env) {
	t.Helper()
	probe := *lock
	probe.opts.ConnectTimeout, probe.opts.ConnectRetries = 2*time.Second, 0
	for _, h := range lock.hostNames() {
		d, err := plan.Render(lock.p, h)
		require.NoError(t, err)
		s, err := lock.opener()(ctx, h)
		require.NoError(t, err)
		before, err := s.Fetch(ctx)
		require.NoError(t, err)
		_, err = s.Apply(ctx, d.Desired, drivers.ApplyOptions{Trial: testTrial, ConfirmWithin: 30 * time.Second})
		require.NoError(t, err)
		_, err = probe.opener()(ctx, h)
		require.Error(t, err, "%s: a new connection must be refused", h)
		require.ErrorIs(t, err, fault.ErrTimeout, h)
		now, err := s.Fetch(ctx)
		require.NoError(t, err, "%s: the old session still works", h)
		require.Equal(t, d.Desired.String(), now.String(), h)
		require.NoError(t, s.Rollback(ctx, before, testTrial), h)
		require.NoError(t, s.Close())
	}
}
