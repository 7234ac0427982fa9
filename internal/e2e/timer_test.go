package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/plan"
)

// TestConfirmTimerDeadline asks each Linux driver for a 120 s confirm
// timeout and reads what the device itself armed (RELIABILITY.md A6): the
// deadline file against the device's clock and the running timer's own
// sleep must both say 120 s (±5 s), so no unit was mixed up on the way.
// Each armed trial is then ended both ways a push can end it, rollback and
// confirm from a new session, and neither may leave the timer running.
func TestConfirmTimerDeadline(t *testing.T) {
	t.Parallel()
	const within = 120 * time.Second
	e := newRelEnv(t, "baseline.yml", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	next := e.with(t, "disjoint-a.yml") // a harmless change to arm a timer for

	for _, h := range e.hostNames() {
		d, err := plan.Render(next.p, h)
		require.NoError(t, err)
		for _, end := range []string{"rollback", "confirm"} {
			before := e.hash(t, h)
			s, err := e.opener()(ctx, h)
			require.NoError(t, err)
			prev, err := s.Fetch(ctx)
			require.NoError(t, err)
			_, err = s.Apply(ctx, d.Desired, drivers.ApplyOptions{Trial: testTrial, ConfirmWithin: within})
			require.NoError(t, err, h)

			pid := deviceTimer(t, e, h, within)
			switch end {
			case "rollback":
				require.NoError(t, s.Rollback(ctx, prev, testTrial), h)
				assert.Equal(t, before, e.hash(t, h), "%s: rolled back to the previous state", h)
			case "confirm":
				c, err := e.opener()(ctx, h) // confirm only ever over a new connection
				require.NoError(t, err)
				require.NoError(t, c.Confirm(ctx, testTrial), h)
				now, err := c.Fetch(ctx)
				require.NoError(t, err)
				assert.Equal(t, d.Desired.String(), now.String(), h)
				require.NoError(t, c.Close())
			}
			require.NoError(t, s.Close())
			assert.False(t, e.armed(t, h), "%s after %s: timer files removed", h, end)
			// Zombies (stat Z) are dead, waiting for this machine's init.
			assert.Empty(t, strings.TrimSpace(e.sh(t, h, "ps -o pid=,stat=,args= -s "+pid+" | awk '$2 !~ /^Z/'")),
				"%s after %s: the timer's processes are gone", h, end)
		}
	}
}

// deviceTimer reads the armed timer on host and checks it fires within
// from now by the device's clock; it returns the timer's session id.
func deviceTimer(t *testing.T, e *env, host string, within time.Duration) string {
	t.Helper()
	out := e.sh(t, host, `cd /var/lib/fwpush && pid=$(cat armed.pid) && echo "$(cat armed.deadline) $(date +%s) $pid" && ps -o etimes=,args= -s "$pid"`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	f := strings.Fields(lines[0])
	require.Len(t, f, 3, "%s: %q", host, out)
	deadline, err1 := strconv.ParseInt(f[0], 10, 64)
	now, err2 := strconv.ParseInt(f[1], 10, 64)
	require.NoError(t, err1)
	require.NoError(t, err2)
	assert.InDelta(t, within.Seconds(), float64(deadline-now), 5, "%s: armed.deadline vs the device clock", host)
	// The timer is a shell in its own session sleeping the whole delay.
	var slept bool
	for _, l := range lines[1:] {
		g := strings.Fields(l)
		if len(g) == 3 && g[1] == "sleep" {
			slept = true
			el, err := strconv.Atoi(g[0])
			require.NoError(t, err)
			secs, err := strconv.Atoi(g[2])
			require.NoError(t, err, "%s: %q", host, l)
			assert.InDelta(t, within.Seconds(), float64(secs-el), 5, "%s: time left on the running timer", host)
		}
	}
	assert.True(t, slept, "%s: no sleeping timer in session %s:\n%s", host, f[2], out)
	t.Logf("%s: armed for %ds by the device's clock:\n%s", host, deadline-now, out)
	return f[2]
}

// slowRevert makes the revert timer on host take 3 s in the middle of
// restoring, as a loaded machine might: iptables hosts between the IPv4 and
// the IPv6 restore, nftables hosts right after the (atomic) restore. The
// first tool run for a rollback file (nft's argument, ip6tables-restore's
// stdin) creates /root/reverting. Root's
// shell profile puts the wrappers first on the PATH (a private /root per
// lab host; bash reads ~/.bashrc for sshd commands), and the timer
// inherits it from the session that armed it.
func slowRevert(t *testing.T, e *env, host string) {
	t.Helper()
	e.sh(t, host, `set -e
mkdir -p /root/bin
cat > /root/bin/nft <<'EOF2'
#!/bin/sh
/usr/sbin/nft "$@"; rc=$?
case "$*" in *rollback.nft*) touch /root/reverting; sleep 3;; esac
exit $rc
EOF2
cat > /root/bin/ip6tables-restore <<'EOF2'
#!/bin/sh
case "$(readlink /proc/$$/fd/0)" in *rollback.v6) touch /root/reverting; sleep 3;; esac
exec /usr/sbin/ip6tables-restore "$@"
EOF2
chmod +x /root/bin/*
echo 'export PATH=/root/bin:$PATH' > /root/.bashrc`)
}

// TestConfirmRacingTheRevert confirms while the device's own revert is
// already restoring the previous policy: the confirm comes too late and
// must fail, leaving the device exactly in its previous state (never a
// mix of the two policies) with its boot config untouched, and the push
// reported rolled-back (RELIABILITY.md A4, the confirm/timeout edge).
func TestConfirmRacingTheRevert(t *testing.T) {
	t.Parallel()
	const within = 6 * time.Second
	e := newRelEnv(t, "baseline.yml", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	before, boot := map[string]string{}, map[string]string{}
	for _, h := range e.hostNames() {
		slowRevert(t, e, h)
		before[h], boot[h] = e.hash(t, h), e.persisted(t, h)
	}

	next := e.with(t, "disjoint-a.yml")
	late := func(ctx context.Context, host string) error {
		// Hold the confirm back until the timer has started restoring.
		e.sh(t, host, `i=0; while [ ! -e /root/reverting ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; test -e /root/reverting`)
		return nil
	}
	rep, err := apply.Run(ctx, next.p, next.opener(), apply.Options{ConfirmWithin: within, PostCheck: late, Engine: eo()})
	require.Error(t, err)
	for _, d := range rep.Devices {
		t.Logf("%s: %s in %s: %s", d.Host, d.Outcome, d.Phase, d.Error)
		assert.Equal(t, apply.RolledBack, d.Outcome, d.Host)
		assert.Equal(t, "confirm", d.Phase, "%s: the confirm itself must have come too late", d.Host)
	}
	for _, h := range e.hostNames() {
		assert.Equal(t, before[h], e.hash(t, h), "%s: exactly the previous state", h)
		assert.Equal(t, boot[h], e.persisted(t, h), "%s: boot config untouched", h)
		assert.False(t, e.armed(t, h), "%s: no timer left armed", h)
	}
}
