package journal_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// TestLabKilledRunThenRollback is A14 against real hosts, then rollback:
// a controller dies after applying to web-1 and before confirming; the
// host's own timer reverts it; the next run reconciles the entry as
// rolled-back (waiting out the dead run's deadline first), breaks the
// stale lock and pushes; rollback then restores the recorded snapshots on
// an nftables and an iptables host.
func TestLabKilledRunThenRollback(t *testing.T) {
	p, err := project.Load(project.Options{Inventory: webappInv, Playbook: webappPB, Limit: "group:web"})
	require.NoError(t, err)
	lab := testbed.StartT(t, labinv.Specs(p))
	reg := all.Registry()
	open := plan.DriverOpener(reg, p.Inv, drivers.TransportOptions{
		KnownHostsFiles: []string{lab.KnownHostsPath()}, IdentityFiles: []string{lab.ClientKeyPath()},
		SSHConfigFile: "none", ConnectTimeout: 5 * time.Second, CommandTimeout: 30 * time.Second,
		Keepalive: 2 * time.Second, ConnectRetries: 3,
	}, lab.DialContext)
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fetch := func(host string) string {
		s, err := open(ctx, host)
		require.NoError(t, err)
		defer s.Close()
		c, err := s.Fetch(ctx)
		require.NoError(t, err)
		return c.String()
	}
	initial := map[string]string{"web-1": fetch("web-1"), "web-2": fetch("web-2")}
	o := func(within time.Duration) apply.Options {
		return apply.Options{ConfirmWithin: within, Settle: 3 * time.Second, Engine: engine.Options{MaxFailPercentage: -1}}
	}

	dead := newRun(t, "apply")
	dead.PID = deadPID(t)
	rec, err := journal.Start(st, dead, open)
	require.NoError(t, err)
	killed := rec.Attach(o(15 * time.Second)) // room for a loaded CI host between arming and the fetch below
	killed.Journal = &spy{t: t, rec: rec, st: st, hook: func(d apply.Device) {
		if d.Host == "web-1" && d.Phase == "confirm" {
			runtime.Goexit() // the controller is gone: nobody confirms web-1
		}
	}}
	_, _ = apply.Run(ctx, p, open, killed)
	require.NotEqual(t, initial["web-1"], fetch("web-1"), "web-1 runs the unconfirmed change")

	t0 := time.Now()
	next, err := journal.Apply(ctx, st, newRun(t, "apply"), p, nil, open, o(20*time.Second))
	require.NoError(t, err)
	require.Len(t, next.Reconciled, 1)
	assert.Equal(t, store.RolledBack, next.Reconciled[0].Result, next.Reconciled[0].Detail)
	assert.Equal(t, "confirm", next.Reconciled[0].Phase)
	assert.GreaterOrEqual(t, time.Since(t0), 3*time.Second, "waited for the dead run's revert deadline")
	assert.Contains(t, strings.Join(next.Warnings, "\n"), "stale lock of run "+dead.ID)
	got := map[string]apply.Outcome{}
	for _, d := range next.Devices {
		got[d.Host] = d.Outcome
	}
	assert.Equal(t, map[string]apply.Outcome{"web-1": apply.Confirmed, "web-2": apply.Unchanged}, got)

	// web-2 to before the dead run (which confirmed it), web-1 to before
	// the latest run that changed it: both their initial state.
	targets, err := journal.Targets(st, []string{"web-2"}, dead.ID)
	require.NoError(t, err)
	latest, err := journal.Targets(st, []string{"web-1"}, "")
	require.NoError(t, err)
	assert.Equal(t, next.Run, latest[0].Run)
	targets = append(targets, latest...)
	require.NoError(t, journal.CheckTargets(p.Inv, targets))
	rb, err := journal.Rollback(ctx, st, newRun(t, "rollback"), targets, open, o(20*time.Second))
	require.NoError(t, err)
	for _, d := range rb.Devices {
		assert.Equal(t, apply.Confirmed, d.Outcome, d.Host)
	}
	for h, want := range initial {
		assert.Equal(t, want, fetch(h), "%s restored", h)
	}
	es, err := st.HostEntries("web-1")
	require.NoError(t, err)
	var states []string
	for _, e := range es {
		states = append(states, e.State())
	}
	assert.Equal(t, []string{"reconciled:rolled-back", "confirmed", "confirmed"}, states)
}
