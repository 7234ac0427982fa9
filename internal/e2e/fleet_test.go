package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// newFleet writes an inventory of n hosts, alternately linux-nftables
// (nft-NN) and linux-iptables (ipt-NN), whose management network holds the
// lab controller, and starts a lab for it under the fleet playbook.
func newFleet(t *testing.T, n int, labOpts ...testbed.Option) *env {
	t.Helper()
	dir := t.TempDir()
	var hosts strings.Builder
	for i := 0; i < n; i++ {
		name, platform := fmt.Sprintf("nft-%02d", i/2+1), "linux-nftables"
		if i%2 == 1 {
			name, platform = fmt.Sprintf("ipt-%02d", i/2+1), "linux-iptables"
		}
		fmt.Fprintf(&hosts, "%s:\n  hostname: 198.18.21.%d\n  platform: %s\n  groups: [web]\n  data:\n    addresses: [198.18.21.%d, \"2001:db8:21::%x\"]\n",
			name, 10+i, platform, 10+i, 0x10+i)
	}
	files := map[string]string{
		"hosts.yaml":    hosts.String(),
		"defaults.yaml": "username: root\nport: 22\n",
		"groups.yaml":   "web:\n  data:\n    site: lab\n",
		"networks.yaml": "management:\n  - 198.18.0.0/24\n  - \"2001:db8::/64\"\n",
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	p, err := project.Load(project.Options{Inventory: dir, Playbook: rel + "fleet.yml"})
	require.NoError(t, err)
	require.Len(t, p.Selected, n)
	return labEnv(p, testbed.StartT(t, labinv.Specs(p), labOpts...))
}

// breakFirewall makes host refuse every ruleset, as a host whose kernel
// lacks the nf_tables features the policy needs does: root's shell profile
// (a private /root per lab host; bash reads ~/.bashrc for sshd commands)
// puts failing nft and iptables-restore first on the PATH. Reading the
// firewall still works.
func breakFirewall(t *testing.T, e *env, host string) {
	t.Helper()
	e.sh(t, host, `set -e
mkdir -p /root/bin
cat > /root/bin/nft <<'EOF'
#!/bin/sh
case " $* " in *" -f "*) echo "Error: Could not process rule: Operation not supported" >&2; exit 1;; esac
exec /usr/sbin/nft "$@"
EOF
for t in iptables-restore ip6tables-restore; do
printf '#!/bin/sh\necho "%s: line 2 failed: Operation not supported" >&2\nexit 1\n' $t > /root/bin/$t
done
chmod +x /root/bin/*
echo 'export PATH=/root/bin:$PATH' > /root/.bashrc`)
}

// TestOneDeviceRejects pushes to ten hosts of which one linux-nftables and
// one linux-iptables host refuse the ruleset (RELIABILITY.md A8). Run
// first with a stopping wave (batches of two, max_fail_percentage 0) that
// rolls the failed wave back (--rollback-wave-on-failure), then stopping
// without rollback, then continuing past failures: the report lists each
// device as confirmed, failed (rejected, phase apply) or not started; the
// run fails; refused and skipped devices are untouched, with no timer left
// armed.
func TestOneDeviceRejects(t *testing.T) {
	t.Parallel()
	e := newFleet(t, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	broken := map[string]bool{"nft-02": true, "ipt-02": true}
	before := map[string]string{}
	for _, h := range e.hostNames() {
		if broken[h] {
			breakFirewall(t, e, h)
		}
		before[h] = e.hash(t, h)
	}
	untouched := func(h, why string) {
		t.Helper()
		assert.Equal(t, before[h], e.hash(t, h), "%s: %s: untouched", h, why)
		assert.False(t, e.armed(t, h), "%s: %s: no timer armed", h, why)
	}
	rejected := func(d apply.Device) {
		t.Helper()
		assert.Equal(t, apply.Failed, d.Outcome, d.Host)
		assert.Equal(t, "apply", d.Phase, d.Host)
		assert.Contains(t, d.Error, d.Host+": apply: ", d.Host)
		assert.Contains(t, d.Error, fault.ErrRejected.Error(), d.Host)
		assert.Contains(t, d.Error, "Operation not supported", "%s: the device's own words", d.Host)
		untouched(d.Host, "rejected")
	}

	// A plain plan asks no device to check; a checked one (plan
	// --validate) finds both refusals in the devices' own words and
	// changes nothing anywhere.
	_, _, err := plan.Live(ctx, e.p, e.opener(), eo())
	require.NoError(t, err)
	pl, _, err := plan.LiveChecked(ctx, e.p, e.opener(), eo())
	require.Error(t, err)
	for _, d := range pl.Devices {
		if broken[d.Host] {
			assert.ErrorContains(t, err, d.Host+": validate: ")
			assert.Contains(t, d.Error, "Operation not supported", d.Host)
		}
		assert.Equal(t, !broken[d.Host], d.Validated, d.Host)
		untouched(d.Host, "checked plan")
	}

	// Hosts run in name order: ipt-01, ipt-02 | ipt-03, ipt-04 | ...
	stop := eo()
	stop.Serial, stop.MaxFailPercentage = []string{"2"}, 0

	// The failed wave rolled back: ipt-01 confirmed, then restored by a
	// rollback run of its own.
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	run, err := journal.NewRun("apply", "fwpush apply --serial 2 --max-fail-percentage 0 --rollback-wave-on-failure", "", "")
	require.NoError(t, err)
	o := apply.Options{ConfirmWithin: okTimer, Engine: stop}
	res, err := journal.Apply(ctx, st, run, e.p, nil, e.opener(), o)
	require.Error(t, err)
	require.Equal(t, 1, res.Summary.AbortedBatch, res.Summary.Aborted)
	wr, err := journal.RollbackWave(ctx, st, res, "wave rollback", e.opener(), o)
	require.NoError(t, err)
	require.NotNil(t, wr)
	require.Len(t, wr.Devices, 1)
	assert.Equal(t, "ipt-01", wr.Devices[0].Host)
	assert.Equal(t, apply.Confirmed, wr.Devices[0].Outcome, wr.Devices[0].Error)
	for _, h := range e.hostNames() {
		if h != "ipt-01" {
			untouched(h, "wave rolled back")
		}
	}
	// Back to no fwpush policy at all: iptables-nft keeps the filter table
	// it created, but no chain or rule of fwpush's is left.
	assert.NotContains(t, e.sh(t, "ipt-01", hashScript), "FWPUSH", "ipt-01: wave rolled back")
	assert.False(t, e.armed(t, "ipt-01"))

	rep, err := apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: okTimer, Engine: stop})
	require.Error(t, err)
	require.Len(t, rep.Devices, 10)
	assert.NotEmpty(t, rep.Summary.Aborted)
	for _, d := range rep.Devices {
		t.Logf("stop the wave: %s: %s %s %s", d.Host, d.Status, d.Outcome, d.Error)
		switch d.Host {
		case "ipt-01":
			assert.Equal(t, apply.Confirmed, d.Outcome, d.Error)
		case "ipt-02":
			rejected(d)
			assert.ErrorContains(t, err, "ipt-02: apply:")
		default:
			assert.Equal(t, engine.Skipped, d.Status, d.Host)
			assert.Contains(t, d.Error, "not started", d.Host)
			untouched(d.Host, "not started")
		}
	}

	rep, err = apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.Error(t, err)
	require.Len(t, rep.Devices, 10)
	assert.Empty(t, rep.Summary.Aborted)
	want := map[string]apply.Outcome{"ipt-01": apply.Unchanged}
	for _, h := range e.hostNames() {
		if _, ok := want[h]; !ok && !broken[h] {
			want[h] = apply.Confirmed
		}
	}
	for _, d := range rep.Devices {
		t.Logf("continue: %s: %s %s %s", d.Host, d.Status, d.Outcome, d.Error)
		if broken[d.Host] {
			rejected(d)
			assert.ErrorContains(t, err, d.Host+": apply:")
			continue
		}
		assert.Equal(t, want[d.Host], d.Outcome, "%s: %s", d.Host, d.Error)
		assert.False(t, e.armed(t, d.Host), d.Host)
	}
}

// TestFiftyHostsMaxStartups pushes to 50 lab hosts at once (forks 50)
// whose sshd runs MaxStartups 3:50:6, each held at that limit by six idle
// pre-auth connections until sshd has refused fwpush at least once
// (RELIABILITY.md A13). Connect retries carry every host to a confirmed
// push, and the run leaks neither goroutines nor file descriptors.
//
// Not parallel: goroutines and descriptors are counted for the whole
// process, so no other test may run meanwhile.
func TestFiftyHostsMaxStartups(t *testing.T) {
	const n = 50
	// Fifty sshds starting at once on a small, busy machine can take more
	// than the lab's default 10 s to accept.
	e := newFleet(t, n, testbed.WithSSHDConfig("MaxStartups 3:50:6"), testbed.WithReadyTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)

	storms := make([]*storm, n)
	errs := make(chan error, n)
	for i, h := range e.p.Selected {
		storms[i] = &storm{host: h.Name}
		go func(s *storm, addr string) { errs <- s.fill(ctx, e, addr) }(storms[i], net.JoinHostPort(h.Hostname, "22"))
	}
	for range storms {
		require.NoError(t, <-errs)
	}
	// Each host's storm ends once sshd has refused fwpush there.
	for _, s := range storms {
		s.refused = strings.Count(e.sshdLog(t, s.host), "past MaxStartups")
		go s.calmAfterRefusal(e, errs)
	}

	// 50 hosts at once on a small CI machine: each SSH command can take
	// seconds, so the timeouts here are about load, not about the fault.
	e.opts.ConnectTimeout = 15 * time.Second
	o := eo()
	o.Forks = n
	rep, err := apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: time.Minute, Engine: o})
	for range storms {
		assert.NoError(t, <-errs)
	}
	require.NoError(t, err)
	require.Len(t, rep.Devices, n)
	assert.Equal(t, n, rep.Summary.Counts[engine.Changed])
	for _, d := range rep.Devices {
		assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
	}

	// Every session is closed when Run returns; give exiting goroutines a
	// moment, bounded.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (runtime.NumGoroutine() > goroutines || openFDs(t) > fds) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "goroutines leaked")
	assert.LessOrEqual(t, openFDs(t), fds, "file descriptors leaked")
}

// storm holds one host's sshd at its MaxStartups limit with idle
// connections that never authenticate.
type storm struct {
	host    string
	conns   []net.Conn
	refused int // "past MaxStartups" lines in sshd's log before the push
}

// fill opens connections until six are held (sshd sent its banner to each;
// it refuses some at random from the third on), bounded.
func (s *storm) fill(ctx context.Context, e *env, addr string) error {
	for i := 0; i < 60 && len(s.conns) < 6; i++ {
		c, err := e.lab.DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("%s: storm: %w", s.host, err)
		}
		buf := make([]byte, 4)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "SSH-" {
			c.Close() // refused: "Exceeded MaxStartups", or closed
			continue
		}
		_ = c.SetReadDeadline(time.Time{})
		s.conns = append(s.conns, c)
	}
	if len(s.conns) < 6 {
		s.close()
		return fmt.Errorf("%s: storm: sshd held only %d connections", s.host, len(s.conns))
	}
	return nil
}

// calmAfterRefusal waits (bounded) until sshd logs a refusal beyond the
// storm's own, which can only be fwpush's, then closes the storm. It
// reports on errs either way.
func (s *storm) calmAfterRefusal(e *env, errs chan<- error) {
	defer s.close()
	path := filepath.Join(e.lab.Dir(), "hosts", s.host, "sshd.log")
	for i := 0; i < 600; i++ {
		b, err := os.ReadFile(path)
		if err != nil {
			errs <- err
			return
		}
		if strings.Count(string(b), "past MaxStartups") > s.refused {
			errs <- nil
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	errs <- fmt.Errorf("%s: sshd never refused fwpush within 30 s", s.host)
}

func (s *storm) close() {
	for _, c := range s.conns {
		c.Close()
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

// TestHalfAppliedIsRestored: on linux-iptables, IPv4 is restored before
// IPv6. A host whose ip6tables-restore passes --test but then fails once
// (as a kernel short of memory might) has the new IPv4 rules when the
// apply fails: fwpush puts the previous rules back at once instead of
// leaving the host with a mix, and drops the timer; with and without
// commit-confirm.
func TestHalfAppliedIsRestored(t *testing.T) {
	t.Parallel()
	e := newFleet(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	e.sh(t, "ipt-01", `set -e
mkdir -p /root/bin
cat > /root/bin/ip6tables-restore <<'EOF2'
#!/bin/sh
case " $* " in *" --test "*) ;; *) if [ ! -e /root/failed-once ]; then
	touch /root/failed-once
	echo "ip6tables-restore: line 3 failed: Cannot allocate memory" >&2
	exit 1
fi;; esac
exec /usr/sbin/ip6tables-restore "$@"
EOF2
chmod +x /root/bin/*
echo 'export PATH=/root/bin:$PATH' > /root/.bashrc`)
	before, boot := e.hash(t, "ipt-01"), e.persisted(t, "ipt-01")
	next := e.with(t, "fleet-b.yml")

	for _, within := range []time.Duration{okTimer, 0} { // 0: --no-confirm
		e.sh(t, "ipt-01", "rm -f /root/failed-once")
		rep, err := apply.Run(ctx, next.p, next.opener(), apply.Options{ConfirmWithin: within, NoConfirm: within == 0, Engine: eo()})
		require.Error(t, err)
		for _, d := range rep.Devices {
			if d.Host != "ipt-01" {
				continue
			}
			assert.Equal(t, apply.Failed, d.Outcome, d.Error)
			assert.Equal(t, "apply", d.Phase)
			assert.Contains(t, d.Error, "Cannot allocate memory", "the device's own words")
			assert.Contains(t, d.Error, fault.ErrRejected.Error())
		}
		assert.Equal(t, before, e.hash(t, "ipt-01"), "confirm %v: the previous rules, both families", within)
		assert.Equal(t, boot, e.persisted(t, "ipt-01"), "confirm %v: boot config untouched", within)
		assert.False(t, e.armed(t, "ipt-01"), "confirm %v: no timer left", within)
	}
}
