package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
)

// bootScript is what a lab host "boots" with: an empty firewall, then
// fwpush's persisted config. nftables hosts load the table
// (/etc/nftables.conf would include it); iptables hosts run the persisted
// apply.sh, which takes a prefix for PREFIX.v4 and PREFIX.v6, so the
// persisted rules are copied under such a prefix first.
const bootScript = `set -e
nft flush ruleset
if [ -e /etc/fwpush/fwpush.nft ]; then nft -f /etc/fwpush/fwpush.nft; fi
if [ -e /etc/fwpush/apply.sh ]; then
	d=$(mktemp -d -p /root)
	cp /etc/fwpush/iptables.rules "$d/boot.v4"
	cp /etc/fwpush/ip6tables.rules "$d/boot.v6"
	sh /etc/fwpush/apply.sh "$d/boot"
	rm -rf "$d"
fi`

// TestRebootDuringTrial "reboots" each Linux host while a change is on
// trial (RELIABILITY.md A15): every process dies, the timer included, the
// firewall is flushed and the boot config loaded. The previous policy must
// come back (persistence is written only on confirm), and the pid file the
// dead timer left behind, whose pid now belongs to another process, must
// not make the next run kill that process; the next run confirms and
// leaves no timer armed.
func TestRebootDuringTrial(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t, "baseline.yml", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	next := e.with(t, "disjoint-a.yml")

	for _, h := range e.hostNames() {
		before := e.hash(t, h)
		d, err := plan.Render(next.p, h)
		require.NoError(t, err)
		s, err := e.opener()(ctx, h)
		require.NoError(t, err)
		_, err = s.Apply(ctx, d.Desired, drivers.ApplyOptions{Trial: testTrial, ConfirmWithin: time.Minute})
		require.NoError(t, err)
		require.NoError(t, s.Close())
		require.NotEqual(t, before, e.hash(t, h), "%s: the change is on trial", h)

		// The reboot: the timer dies with everything else; a new process,
		// in a process group of its own, happens to get the pid it had.
		victim := strings.TrimSpace(e.sh(t, h, `set -e
cd /var/lib/fwpush
kill -s KILL -- -"$(cat armed.pid)"
setsid sh -c 'echo $$ > /root/victim.pid; exec sleep 300' </dev/null >/dev/null 2>&1 &
i=0; while [ ! -s /root/victim.pid ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
cp /root/victim.pid armed.pid
cat armed.pid`))
		e.sh(t, h, bootScript)
		assert.Equal(t, before, e.hash(t, h), "%s: the previous policy is back after the reboot", h)

		rep := next.push(t, ctx) // requires every device confirmed
		require.Len(t, rep.Devices, 2)
		assert.False(t, e.armed(t, h), "%s: no timer left armed", h)
		assert.Equal(t, victim, strings.TrimSpace(e.sh(t, h, "kill -0 "+victim+" && echo "+victim)),
			"%s: the stale pid file must not make fwpush kill an unrelated process", h)
		e.sh(t, h, "kill "+victim)

		// Back to the baseline for the next host's turn.
		e.push(t, ctx)
	}
}
