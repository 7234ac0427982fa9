package journal_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
)

const (
	webappInv = "../../inventory/examples/webapp"
	webappPB  = "../../playbooks/examples/webapp.yml"
)

type fixture struct {
	p    *project.Project
	devs map[string]*driverstest.Device
	open plan.Opener
	st   *store.Store
}

func setup(t *testing.T, inventoryDir string) *fixture {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: inventoryDir, Playbook: webappPB})
	require.NoError(t, err)
	devs := map[string]*driverstest.Device{}
	for _, h := range p.Selected {
		devs[h.Name] = &driverstest.Device{Name: h.Name}
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	return &fixture{p: p, devs: devs, st: st,
		open: func(ctx context.Context, host string) (drivers.Session, error) { return devs[host].Open(ctx) }}
}

// opts: Settle is the slack a reconcile gives a device's revert timer past
// its deadline; a loaded CI runner has delayed a 700 ms timer by more
// than 200 ms.
func opts(within time.Duration) apply.Options {
	return apply.Options{ConfirmWithin: within, Settle: time.Second, Engine: engine.Options{MaxFailPercentage: -1}}
}

func newRun(t *testing.T, kind string) store.Run {
	t.Helper()
	r, err := journal.NewRun(kind, "fwpush "+kind, webappPB, webappInv)
	require.NoError(t, err)
	return r
}

func outcomes(rep *apply.Report) map[string]apply.Outcome {
	m := map[string]apply.Outcome{}
	for _, d := range rep.Devices {
		m[d.Host] = d.Outcome
	}
	return m
}

// deadPID is a pid that no process has any more: a killed controller's.
func deadPID(t *testing.T) int {
	t.Helper()
	c := exec.Command("true")
	require.NoError(t, c.Run())
	return c.Process.Pid
}

// spy checks, at every phase boundary, that the entry is already in the
// store before apply goes on; hook runs after that.
type spy struct {
	t    *testing.T
	rec  *journal.Recorder
	st   *store.Store
	mu   sync.Mutex
	seen map[string][]string
	hook func(d apply.Device)
}

func (s *spy) Phase(ctx context.Context, d apply.Device) error {
	if err := s.rec.Phase(ctx, d); err != nil {
		return err
	}
	_, es, err := s.st.Run(s.rec.Run().ID)
	require.NoError(s.t, err)
	found := false
	for _, e := range es {
		if e.Host == d.Host {
			found = true
			assert.Equal(s.t, d.Phase, e.Phase, d.Host)
			assert.Empty(s.t, e.Outcome, "no outcome before the end")
			if d.Phase != "fetch" {
				require.NotNil(s.t, e.Before, "%s: the snapshot is stored before %s", d.Host, d.Phase)
			}
		}
	}
	assert.True(s.t, found, "%s: entry written before %s", d.Host, d.Phase)
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[string][]string{}
	}
	s.seen[d.Host] = append(s.seen[d.Host], d.Phase)
	s.mu.Unlock()
	if s.hook != nil {
		s.hook(d)
	}
	return nil
}

func (s *spy) Begin(ctx context.Context, host string) error { return s.rec.Begin(ctx, host) }

func (s *spy) End(ctx context.Context, d apply.Device) { s.rec.End(ctx, d) }

func TestEveryPhaseJournaledBeforeItRuns(t *testing.T) {
	f := setup(t, webappInv)
	f.devs["app-1"].SetRunning(driverstest.Config("old\n"))
	rec, err := journal.Start(f.st, newRun(t, "apply"), f.open)
	require.NoError(t, err)
	sp := &spy{t: t, rec: rec, st: f.st}
	o := rec.Attach(opts(5 * time.Second))
	o.Journal = sp
	rep, err := apply.Run(context.Background(), f.p, f.open, o)
	require.NoError(t, err)
	require.NoError(t, rec.Finish(err))
	for h := range f.devs {
		assert.Equal(t, []string{"fetch", "apply", "check", "confirm"}, sp.seen[h], h)
	}
	r, es, err := f.st.Run(rec.Run().ID)
	require.NoError(t, err)
	require.NotNil(t, r.Finished)
	assert.NotEmpty(t, r.PlaybookSHA256)
	assert.NotEmpty(t, r.InventorySHA256)
	require.Len(t, es, len(f.devs))
	for _, e := range es {
		assert.Equal(t, "confirmed", e.Outcome, e.Host)
		assert.Equal(t, 5*time.Second, e.ConfirmWithin)
		require.NotNil(t, e.After)
		assert.Equal(t, f.devs[e.Host].Running().String(), e.After.String(), "after is what the device has")
		require.NotNil(t, e.Diff)
		assert.True(t, e.Diff.Changed)
	}
	app := es[0]
	assert.Equal(t, "app-1", app.Host)
	assert.Equal(t, "old\n", app.Before.String())
	locks, err := f.st.Locks()
	require.NoError(t, err)
	assert.Empty(t, locks, "every lock released")
	assert.Equal(t, apply.Confirmed, outcomes(rep)["app-1"])
}

// TestKilledRunIsReconciled: a controller dies (its goroutine stops dead
// at a phase boundary, its pid is gone); the next run breaks its stale
// lock, reads the device, records what the dead run left, then pushes.
func TestKilledRunIsReconciled(t *testing.T) {
	cases := map[string]struct {
		dieAt  string
		result string
	}{
		"before fetch":   {"fetch", store.Untouched},
		"before apply":   {"apply", store.RolledBack},   // the change never landed
		"before confirm": {"confirm", store.RolledBack}, // the device's own timer reverted it
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := setup(t, webappInv)
			dead := newRun(t, "apply")
			dead.PID = deadPID(t)
			rec, err := journal.Start(f.st, dead, f.open)
			require.NoError(t, err)
			o := rec.Attach(opts(700 * time.Millisecond))
			o.Journal = &spy{t: t, rec: rec, st: f.st, hook: func(d apply.Device) {
				if d.Host == "web-1" && d.Phase == tc.dieAt {
					runtime.Goexit() // nothing after this point happens for web-1
				}
			}}
			_, _ = apply.Run(context.Background(), f.p, f.open, o)
			// No Finish: the process is gone. Its lock on web-1 remains.
			locks, err := f.st.Locks()
			require.NoError(t, err)
			require.Len(t, locks, 1)
			assert.Equal(t, dead.ID, locks[0].Run)

			res, err := journal.Apply(context.Background(), f.st, newRun(t, "apply"), f.p, nil, f.open, opts(2*time.Second))
			require.NoError(t, err)
			require.Len(t, res.Reconciled, 1)
			got := res.Reconciled[0]
			assert.Equal(t, "web-1", got.Host)
			assert.Equal(t, dead.ID, got.Run)
			assert.Equal(t, tc.dieAt, got.Phase)
			assert.Equal(t, tc.result, got.Result, got.Detail)
			assert.Contains(t, strings.Join(res.Warnings, "\n"), "broke the stale lock of run "+dead.ID)
			assert.Equal(t, apply.Confirmed, outcomes(res.Report)["web-1"])
			assert.Equal(t, apply.Unchanged, outcomes(res.Report)["web-2"])

			es, err := f.st.HostEntries("web-1")
			require.NoError(t, err)
			require.Len(t, es, 2)
			require.NotNil(t, es[0].Reconciled)
			assert.Equal(t, "reconciled:"+tc.result, es[0].State())
			left, err := f.st.Unfinished("web-1", "")
			require.NoError(t, err)
			assert.Empty(t, left)
		})
	}
}

// TestReconcileReadsTheDevice: entries left by a dead run, reconciled by
// `history --reconcile`, against what each device has now.
func TestReconcileReadsTheDevice(t *testing.T) {
	f := setup(t, webappInv)
	dead := newRun(t, "apply")
	dead.PID = deadPID(t)
	require.NoError(t, f.st.CreateRun(dead))
	pushed, before := driverstest.Config("new\n"), driverstest.Config("old\n")
	long := time.Now().Add(-time.Hour).UTC()
	entry := func(host, phase string) store.Entry {
		return store.Entry{Run: dead.ID, Host: host, Phase: phase, Before: &before, Desired: &pushed,
			ConfirmWithin: time.Minute, Updated: long}
	}
	cases := map[string]struct {
		phase, running, result string
	}{
		"web-1": {"confirm", "new\n", store.Applied},         // confirmed just before dying
		"web-2": {"check", "old\n", store.RolledBack},        // timer fired
		"app-1": {"apply", "by hand\n", store.Indeterminate}, // someone changed it since
		"db-1":  {"fetch", "old\n", store.Untouched},
	}
	for h, tc := range cases {
		e := entry(h, tc.phase)
		if tc.phase == "fetch" {
			e.Before = nil
		}
		require.NoError(t, f.st.PutEntry(e))
		f.devs[h].SetRunning(driverstest.Config(tc.running))
	}
	res, err := journal.Reconcile(context.Background(), f.st, newRun(t, "reconcile"), f.open, nil, engine.Options{})
	require.NoError(t, err)
	require.Len(t, res.Reconciled, len(cases))
	for _, r := range res.Reconciled {
		assert.Equal(t, cases[r.Host].result, r.Result, r.Host)
		assert.Equal(t, res.Run, r.By)
	}
	assert.Equal(t, 0, f.devs["db-1"].Opens, "an entry that never reached apply needs no device read")
	for h := range cases {
		assert.Equal(t, 0, f.devs[h].Applies, "reconciling changes nothing")
	}
	hosts, err := f.st.UnfinishedHosts()
	require.NoError(t, err)
	assert.Empty(t, hosts)
	locks, err := f.st.Locks()
	require.NoError(t, err)
	assert.Empty(t, locks)
}

// TestLockedDeviceFailsFast: a second run on devices a live run is
// working on fails at once for each, naming the holder, and sends nothing.
func TestLockedDeviceFailsFast(t *testing.T) {
	f := setup(t, webappInv)
	first := newRun(t, "apply")
	rec, err := journal.Start(f.st, first, f.open)
	require.NoError(t, err)
	atCheck, release := make(chan string, len(f.devs)), make(chan struct{})
	o := rec.Attach(opts(30 * time.Second))
	o.Journal = &spy{t: t, rec: rec, st: f.st, hook: func(d apply.Device) {
		if d.Phase == "check" {
			atCheck <- d.Host
			<-release
		}
	}}
	done := make(chan *apply.Report)
	go func() {
		rep, _ := apply.Run(context.Background(), f.p, f.open, o)
		_ = rec.Finish(nil)
		done <- rep
	}()
	for range f.devs {
		select {
		case <-atCheck:
		case <-time.After(10 * time.Second):
			t.Fatal("first run never reached check")
		}
	}
	t0 := time.Now()
	res, err := journal.Apply(context.Background(), f.st, newRun(t, "apply"), f.p, nil, f.open, opts(30*time.Second))
	close(release)
	require.Error(t, err)
	assert.Less(t, time.Since(t0), 5*time.Second)
	for _, d := range res.Devices {
		assert.Equal(t, apply.Failed, d.Outcome, d.Host)
		assert.Contains(t, d.Error, "locked by run "+first.ID)
		assert.Contains(t, d.Error, first.Who)
		assert.Equal(t, 1, f.devs[d.Host].Applies, "%s: the second run sent nothing", d.Host)
	}
	rep := <-done
	for h, oc := range outcomes(rep) {
		assert.Equal(t, apply.Confirmed, oc, h)
	}
	locks, err := f.st.Locks()
	require.NoError(t, err)
	assert.Empty(t, locks)
}

func TestRollbackRestoresSnapshot(t *testing.T) {
	f := setup(t, webappInv)
	for _, d := range f.devs {
		d.SetRunning(driverstest.Config("old\n"))
	}
	ctx := context.Background()
	first, err := journal.Apply(ctx, f.st, newRun(t, "apply"), f.p, nil, f.open, opts(5*time.Second))
	require.NoError(t, err)
	desired := f.devs["web-1"].Running().String()
	require.NotEqual(t, "old\n", desired)

	// The fixture's "old" config is an nftables one; web-2 is iptables.
	wrong, err := journal.Targets(f.st, []string{"web-2"}, first.Run)
	require.NoError(t, err)
	assert.ErrorContains(t, journal.CheckTargets(f.p.Inv, wrong), "the host is now linux-iptables")

	targets, err := journal.Targets(f.st, []string{"web-1", "app-1"}, first.Run[:12])
	require.NoError(t, err)
	require.Len(t, targets, 2)
	assert.Equal(t, first.Run, targets[0].Run)
	require.NoError(t, journal.CheckTargets(f.p.Inv, targets))
	rb, err := journal.Rollback(ctx, f.st, newRun(t, "rollback"), targets, f.open, opts(5*time.Second))
	require.NoError(t, err)
	for _, h := range []string{"web-1", "app-1"} {
		assert.Equal(t, apply.Confirmed, outcomes(rb.Report)[h], h)
		assert.Equal(t, "old\n", f.devs[h].Running().String(), h)
		assert.Equal(t, 2, f.devs[h].Confirms, "%s: the rollback was commit-confirmed too", h)
	}
	assert.NotEqual(t, "old\n", f.devs["db-1"].Running().String(), "hosts not named are untouched")
	r, es, err := f.st.Run(rb.Run)
	require.NoError(t, err)
	assert.Equal(t, "rollback", r.Kind)
	assert.Equal(t, map[string]string{"web-1": first.Run, "app-1": first.Run}, r.Restores)
	require.Len(t, es, 2)

	// Default: the latest run that changed the host, now the rollback.
	again, err := journal.Targets(f.st, []string{"web-1"}, "")
	require.NoError(t, err)
	assert.Equal(t, rb.Run, again[0].Run)
	assert.Equal(t, desired, again[0].Config.String())

	_, err = journal.Targets(f.st, []string{"nosuch"}, "")
	assert.ErrorContains(t, err, "no recorded run changed")
	_, err = journal.Targets(f.st, []string{"db-1"}, rb.Run)
	assert.ErrorContains(t, err, "did not touch")
	_, err = journal.Targets(f.st, []string{"db-1"}, "20000101")
	assert.ErrorContains(t, err, "no run")
}

func TestNoSecretStored(t *testing.T) {
	const secret = "s3cr3t-journal-pw"
	inv := filepath.Join(t.TempDir(), "inv")
	require.NoError(t, os.MkdirAll(inv, 0o755))
	for _, n := range []string{"hosts.yaml", "groups.yaml", "defaults.yaml", "networks.yaml"} {
		data, err := os.ReadFile(filepath.Join(webappInv, n))
		require.NoError(t, err)
		if n == "defaults.yaml" {
			data = append(data, []byte("password: "+secret+"\n")...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(inv, n), data, 0o644))
	}
	f := setup(t, inv)
	require.Equal(t, secret, f.p.Inv.Hosts["web-1"].Password.Reveal(), "the fixture carries a password")
	run, err := journal.NewRun("apply", "fwpush apply -i "+inv, webappPB, inv)
	require.NoError(t, err)
	_, err = journal.Apply(context.Background(), f.st, run, f.p, nil, f.open, opts(5*time.Second))
	require.NoError(t, err)
	raw, err := os.ReadFile(f.st.Path())
	require.NoError(t, err)
	assert.Contains(t, string(raw), "web-1", "the store holds the run")
	assert.NotContains(t, string(raw), secret)
}

func TestBusyStoreTouchesNothing(t *testing.T) {
	f := setup(t, webappInv)
	st, err := store.Open(f.st.Path(), store.WithTimeout(200*time.Millisecond))
	require.NoError(t, err)
	holder := exec.Command(os.Args[0], "-test.run=^TestHoldStore$")
	holder.Env = append(os.Environ(), "FWPUSH_HOLD_STORE="+f.st.Path())
	stdout, err := holder.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, holder.Start())
	defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()
	buf := make([]byte, 4)
	_, err = stdout.Read(buf) // "held"
	require.NoError(t, err)

	_, err = journal.Apply(context.Background(), st, newRun(t, "apply"), f.p, nil, f.open, opts(time.Second))
	require.ErrorIs(t, err, store.ErrBusy)
	for h, d := range f.devs {
		assert.Equal(t, 0, d.Opens, "%s contacted without a journal", h)
	}
}

// TestHoldStore is the helper process of TestBusyStoreTouchesNothing: it
// holds the store file open, like a stuck fwpush.
func TestHoldStore(t *testing.T) {
	path := os.Getenv("FWPUSH_HOLD_STORE")
	if path == "" {
		return
	}
	holdOpen(t, path)
}
