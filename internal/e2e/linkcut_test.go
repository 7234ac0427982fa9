package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/testbed"
)

// linkCutBound is the longest a cut link stays down; the controller's
// keepalive (1 s × 3 misses) gives up on the connection well before.
const linkCutBound = 20 * time.Second

// linkCutter cuts and restores lab hosts' links, each cut for at most
// linkCutBound, and restores every link when the test ends.
type linkCutter struct {
	t    *testing.T
	lab  *testbed.Lab
	done chan struct{}

	mu    sync.Mutex
	since map[string]time.Time // hosts whose link is down
	log   []string
}

func newLinkCutter(t *testing.T, lab *testbed.Lab) *linkCutter {
	c := &linkCutter{t: t, lab: lab, done: make(chan struct{}), since: map[string]time.Time{}}
	t.Cleanup(func() {
		close(c.done)
		c.mu.Lock()
		var down []string
		for h := range c.since {
			down = append(down, h)
		}
		c.mu.Unlock()
		for _, h := range down {
			c.restore(h, "test end")
		}
	})
	return c
}

// cut sets host's link down, to be restored by restore or after
// linkCutBound.
func (c *linkCutter) cut(host, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, down := c.since[host]; down {
		return
	}
	if err := c.lab.SetLink(ctx, host, false); err != nil {
		c.t.Errorf("cut: %v", err)
		return
	}
	c.since[host] = time.Now()
	c.log = append(c.log, fmt.Sprintf("%s: link cut %s", host, why))
	go func() {
		select {
		case <-time.After(linkCutBound):
			c.restore(host, "after the bound")
		case <-c.done:
		}
	}()
}

// restore sets host's link up again if it is down.
func (c *linkCutter) restore(host, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	t0, down := c.since[host]
	if !down {
		return
	}
	if err := c.lab.SetLink(ctx, host, true); err != nil {
		c.t.Errorf("restore: %v", err)
		return
	}
	delete(c.since, host)
	c.log = append(c.log, fmt.Sprintf("%s: link restored %s, down %v", host, why, time.Since(t0).Round(10*time.Millisecond)))
}

func (c *linkCutter) Log() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// TestLinkCut cuts the link between the controller and each device
// (RELIABILITY A4; the switch port of the host goes down) at four points
// of a journaled, commit-confirmed push to an nftables and an iptables
// host: before upload (once the snapshot is journaled, before anything is
// staged), after arming (the device-side timer runs, the change was not
// sent), mid-apply (the device-side apply command runs) and before
// confirm. The link comes back once the controller has given up on the
// connection (or after linkCutBound). Each case runs the same steps.
func TestLinkCut(t *testing.T) {
	cases := []linkCutCase{
		{name: "before upload", cutAt: "apply", phase: "apply",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Failed}},
		{name: "after arming", cutAt: "apply", stall: stallArm, phase: "apply",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Indeterminate}, mayLand: true, armed: true},
		{name: "mid-apply", cutAt: "apply", stall: stallApply, phase: "apply",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Indeterminate}, landed: true, armed: true},
		{name: "before confirm", cutAt: "confirm", phase: "confirm",
			outcomes: []apply.Outcome{apply.RolledBack}, landed: true, armed: true},
	}
	runLinkCuts(t, linuxFaults, cases)
}

// faultSystem is the lab a fault test runs on.
type faultSystem struct {
	// start starts the lab on the baseline policy (not pushed yet).
	start func(t *testing.T) *env
	// next is the playbook the faulted run pushes, next to the baseline.
	next string
	// quick makes a run give up on a dead connection in a few seconds.
	quick func(o *drivers.TransportOptions)
	// within is the cut run's revert delay.
	within time.Duration
}

// linuxFaults is one linux-nftables and one linux-iptables host.
var linuxFaults = faultSystem{
	start: func(t *testing.T) *env { return newRelEnv(t, "baseline.yml", nil) },
	next:  "disjoint-a.yml",
	// Give up on a dead connection in ~4 s, not the default ~8 s.
	quick: func(o *drivers.TransportOptions) {
		o.Keepalive, o.ConnectTimeout, o.ConnectRetries = time.Second, 3*time.Second, 1
	},
	// The read-back after the cut must come before the device's timer
	// fires: an nft host's timer is armed apart from the change.
	within: 8 * time.Second,
}

// runLinkCuts runs each case's steps on sys, in parallel.
func runLinkCuts(t *testing.T, sys faultSystem, cases []linkCutCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newLinkCutRun(t, sys, tc)
			r.pushCuttingLinks(t)          // the push; the links go down at tc's point
			r.reportShowsOutcomes(t)       // outcomes read back, the phase reached
			r.recordShowsPhase(t)          // the run store says the same
			r.devicesRevertByThemselves(t) // the old ruleset after the deadline, no timer
			r.nextRunReconciles(t)         // the next run settles the record and pushes
			r.neverAMix(t)                 // old or new at every moment, never both
		})
	}
}

// linkCutCase is where the link is cut and what must follow.
type linkCutCase struct {
	name  string
	cutAt string     // the journal phase at which the cut is set off
	stall stallPoint // cut once the device-side apply stalls there ("": at once)
	phase string     // the phase recorded
	// outcomes the report may give, established by reading back
	outcomes []apply.Outcome
	landed   bool // the change reached the device
	// the change may reach the device or not: a driver that arms and
	// applies in one command finishes it on the device after the cut
	mayLand bool
	armed   bool // a revert timer was armed
}

// linkCutRun is one case's lab, the run that is cut and what it saw.
type linkCutRun struct {
	tc        linkCutCase
	sys       faultSystem
	e, next   *env
	ctx       context.Context
	hosts     []string
	views     map[string]deviceView
	stalled   map[string]func(context.Context) error
	old, boot map[string]string
	watches   map[string]stateWatch
	cutter    *linkCutter
	st        *store.Store
	run       store.Run
	inv, pb   string
	cutAt     sync.Map // host → time of the cut
	rep       *apply.Report
	pushErr   error
}

// newLinkCutRun starts the lab on the baseline policy, slows the devices
// where the case needs it, and starts watching every host's ruleset.
func newLinkCutRun(t *testing.T, sys faultSystem, tc linkCutCase) *linkCutRun {
	r := &linkCutRun{tc: tc, sys: sys, old: map[string]string{}, boot: map[string]string{}, views: map[string]deviceView{},
		stalled: map[string]func(context.Context) error{}, watches: map[string]stateWatch{}}
	r.e = sys.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	r.ctx = ctx
	r.e.push(t, ctx)
	r.next = r.e.with(t, sys.next)
	sys.quick(&r.next.opts)
	r.hosts = r.e.hostNames()
	for _, h := range r.hosts {
		v := r.e.view(t, h)
		r.views[h] = v
		if tc.stall != "" {
			r.stalled[h] = v.stall(t, tc.stall)
		}
		r.old[h], r.boot[h] = v.enforced(t), v.persisted(t)
		r.watches[h] = v.watch()
	}
	t.Cleanup(func() {
		for _, w := range r.watches {
			w.stop(t)
		}
	})
	r.cutter = newLinkCutter(t, r.e.lab)
	var err error
	r.st, err = store.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	r.inv, err = filepath.Abs(r.next.p.Inv.Dir)
	require.NoError(t, err)
	r.pb, err = filepath.Abs(r.next.p.Options.Playbook)
	require.NoError(t, err)
	return r
}

// pushCuttingLinks pushes the next policy, journaled, and cuts each
// device's link when its push reaches the case's phase (and marker); a
// link comes back once the controller gave up on it.
func (r *linkCutRun) pushCuttingLinks(t *testing.T) {
	var err error
	r.run, err = journal.NewRun("apply", "fwpush apply (link cut)", r.pb, r.inv)
	require.NoError(t, err)
	open := r.next.opener()
	rec, err := journal.Start(r.st, r.run, open)
	require.NoError(t, err)
	o := rec.Attach(apply.Options{ConfirmWithin: r.sys.within, Settle: 2 * time.Second, Engine: eo()})
	var waiting sync.WaitGroup
	defer waiting.Wait() // bounded by waitDeviceFile
	o.Journal = &hookJournal{Recorder: rec, hook: func(d apply.Device) {
		if d.Phase != r.tc.cutAt {
			return
		}
		if r.tc.stall == "" {
			r.cutAt.Store(d.Host, time.Now())
			r.cutter.cut(d.Host, "before "+d.Phase)
			return
		}
		waiting.Add(1)
		go func() {
			defer waiting.Done()
			ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
			defer cancel()
			if err := r.stalled[d.Host](ctx); err != nil {
				t.Errorf("%v", err)
				return
			}
			r.cutAt.Store(d.Host, time.Now())
			r.cutter.cut(d.Host, "on the device's "+string(r.tc.stall)+" stall")
		}()
	}}
	restoring := func(ctx context.Context, host string) (drivers.Session, error) {
		s, err := open(ctx, host)
		if err != nil {
			return nil, err
		}
		return &hookSession{Session: s, host: host, failed: func(host string) {
			r.cutter.restore(host, "once the controller gave up")
		}}, nil
	}
	t0 := time.Now()
	r.rep, r.pushErr = apply.Run(r.ctx, r.next.p, restoring, o)
	waiting.Wait()
	require.NoError(t, rec.Finish(r.pushErr))
	t.Logf("push took %v: %v", time.Since(t0).Round(10*time.Millisecond), r.pushErr)
	for _, l := range r.cutter.Log() {
		t.Log(l)
	}
}

// reportShowsOutcomes: no device could confirm; each outcome is one the
// case allows (read back from the device), at the phase reached.
func (r *linkCutRun) reportShowsOutcomes(t *testing.T) {
	require.Error(t, r.pushErr, "no device can confirm through a cut link")
	require.NotNil(t, r.rep)
	require.Len(t, r.rep.Devices, len(r.hosts))
	for _, d := range r.rep.Devices {
		t.Logf("%s: %s in %s: %s", d.Host, d.Outcome, d.Phase, d.Error)
		assert.Contains(t, r.tc.outcomes, d.Outcome, d.Host)
		assert.Equal(t, r.tc.phase, d.Phase, "%s: the phase reached", d.Host)
		_, cut := r.cutAt.Load(d.Host)
		assert.True(t, cut, "%s: the link was cut", d.Host)
	}
}

// recordShowsPhase: the run store holds the phase and outcome reported,
// and a rolled-back device was read back as its snapshot.
func (r *linkCutRun) recordShowsPhase(t *testing.T) {
	outcome := map[string]apply.Outcome{}
	for _, d := range r.rep.Devices {
		outcome[d.Host] = d.Outcome
	}
	_, es, err := r.st.Run(r.run.ID)
	require.NoError(t, err)
	require.Len(t, es, len(r.hosts))
	for _, en := range es {
		assert.Equal(t, r.tc.phase, en.Phase, "%s: the run record shows the phase", en.Host)
		assert.Equal(t, string(outcome[en.Host]), en.Outcome, en.Host)
		if en.Outcome == string(apply.RolledBack) && assert.NotNil(t, en.After, en.Host) && assert.NotNil(t, en.Before, en.Host) {
			assert.Equal(t, en.Before.String(), en.After.String(), "%s: rolled back: read back as the snapshot", en.Host)
		}
	}
}

// devicesRevertByThemselves waits out each armed timer: every device
// ends on the old ruleset, its boot config untouched, no timer left.
func (r *linkCutRun) devicesRevertByThemselves(t *testing.T) {
	for _, h := range r.hosts {
		v, ok := r.cutAt.Load(h)
		if ok && r.tc.armed {
			r.views[h].expire(t, v.(time.Time).Add(r.sys.within+5*time.Second))
		}
	}
	for _, h := range r.hosts {
		v := r.views[h]
		r.watches[h].stop(t)
		assert.Equal(t, r.old[h], v.enforced(t), "%s: the old ruleset after the deadline + 5 s", h)
		assert.Equal(t, r.boot[h], v.persisted(t), "%s: boot config untouched", h)
		assert.False(t, v.armed(t), "%s: no timer armed past its deadline", h)
	}
}

// nextRunReconciles: a run with the standard options settles what the
// cut run left, releases nothing stale, and pushes cleanly.
func (r *linkCutRun) nextRunReconciles(t *testing.T) {
	nrun, err := journal.NewRun("apply", "fwpush apply (next run)", r.pb, r.inv)
	require.NoError(t, err)
	res, err := journal.Apply(r.ctx, r.st, nrun, r.next.p, nil, r.e.with(t, r.sys.next).opener(),
		apply.Options{ConfirmWithin: okTimer, Settle: 2 * time.Second, Engine: eo()})
	require.NoError(t, err)
	for _, rc := range res.Reconciled {
		t.Logf("%s: reconciled run %s (stopped at %s): %s: %s", rc.Host, rc.Run, rc.Phase, rc.Result, rc.Detail)
	}
	assert.NotContains(t, strings.Join(res.Warnings, "\n"), "stale lock", "the cut run released its locks")
	for _, d := range res.Devices {
		assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
	}
	locks, err := r.st.Locks()
	require.NoError(t, err)
	assert.Empty(t, locks, "no lock left")
	left, err := r.st.UnfinishedHosts()
	require.NoError(t, err)
	assert.Empty(t, left, "nothing left to reconcile")
	_, es, err := r.st.Run(r.run.ID)
	require.NoError(t, err)
	for _, en := range es {
		t.Logf("%s: the cut run's record: phase %s, %s", en.Host, en.Phase, en.State())
		assert.NotEqual(t, string(apply.Indeterminate), en.State(),
			"%s: the device has long since settled (old ruleset, no timer), yet the cut run's record stays indeterminate and no later run reconciles it", en.Host)
	}
	for _, h := range r.hosts {
		assert.False(t, r.views[h].armed(t), "%s: no stale timer after the next run", h)
		assert.NotEqual(t, r.boot[h], r.views[h].persisted(t), "%s: the new policy persisted", h)
	}
}

// neverAMix: every host's ruleset was the old or the new one at every
// moment of the cut run; whether the new one ever showed depends on where
// the link was cut.
func (r *linkCutRun) neverAMix(t *testing.T) {
	for _, h := range r.hosts {
		seq := names(r.watches[h].named(t, r.old[h], r.views[h].enforced(t)))
		t.Logf("%s: states seen during the cut run and until its deadline + 5 s: %v", h, seq)
		seq = settled(seq)
		switch {
		case r.tc.landed:
			assert.Equal(t, []string{"old", "new", "old"}, seq, "%s: changed, then reverted by the device", h)
		case r.tc.mayLand && len(seq) > 1:
			assert.Equal(t, []string{"old", "new", "old"}, seq, "%s: changed (the device went on with the command), then reverted by the device", h)
		default:
			assert.Equal(t, []string{"old"}, seq, "%s: the change never reached the device", h)
		}
	}
}
