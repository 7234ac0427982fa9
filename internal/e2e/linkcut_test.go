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
// (RELIABILITY.md A4; the switch port of the host goes down) at four
// points of a journaled, commit-confirmed push to an nftables and an
// iptables host: before upload (once the snapshot is journaled, before
// anything is staged), after arming (the device-side timer runs, the
// change was not sent), mid-apply (the device-side apply command runs)
// and before confirm. The link comes back once the controller has given
// up on the connection (or after linkCutBound). The device has exactly
// the old or the new ruleset at every moment and ends with the old one;
// the report's outcome is read back from the device; the run record shows
// the phase reached; the next run leaves no timer armed, nothing
// unreconciled and pushes cleanly.
func TestLinkCut(t *testing.T) {
	const within = 8 * time.Second // the read-back after a cut must come before the revert
	cases := []struct {
		name   string
		cutAt  string // the journal phase at which the cut is set off
		marker string // wait for this device-side file before cutting ("": at once)
		slow   string // slowDevice marker
		phase  string // the phase recorded
		// outcomes the report may give, established by reading back
		outcomes []apply.Outcome
		landed   bool // the change reached the device
		// the change may reach the device or not: a driver that arms and
		// applies in one command finishes it on the device after the cut
		mayLand bool
		armed   bool // a revert timer was armed
	}{
		{name: "before upload", cutAt: "apply", phase: "apply",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Failed}},
		{name: "after arming", cutAt: "apply", marker: "at-arm", slow: "slow-arm", phase: "apply",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Indeterminate}, mayLand: true, armed: true},
		{name: "mid-apply", cutAt: "apply", marker: "at-apply", slow: "slow-apply", phase: "apply",
			outcomes: []apply.Outcome{apply.RolledBack, apply.Indeterminate}, landed: true, armed: true},
		{name: "before confirm", cutAt: "confirm", phase: "confirm",
			outcomes: []apply.Outcome{apply.RolledBack}, landed: true, armed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newRelEnv(t, "baseline.yml", nil)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			e.push(t, ctx)
			next := e.with(t, "disjoint-a.yml")
			// Give up on a dead connection in ~4 s, not the default ~8 s.
			next.opts.Keepalive, next.opts.ConnectTimeout, next.opts.ConnectRetries = time.Second, 3*time.Second, 1
			hosts := e.hostNames()
			old, boot, watches := map[string]string{}, map[string]string{}, map[string]*famWatch{}
			for _, h := range hosts {
				if tc.slow != "" {
					slowDevice(t, e, h, tc.slow)
				}
				old[h], boot[h] = e.hash(t, h), e.persisted(t, h)
				watches[h] = watchFamilies(e.lab, h)
			}
			t.Cleanup(func() {
				for _, w := range watches {
					w.Stop(t)
				}
			})

			cutter := newLinkCutter(t, e.lab)
			st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
			require.NoError(t, err)
			inv, err := filepath.Abs(next.p.Inv.Dir)
			require.NoError(t, err)
			pb, err := filepath.Abs(rel + "disjoint-a.yml")
			require.NoError(t, err)
			run, err := journal.NewRun("apply", "fwpush apply (link cut)", pb, inv)
			require.NoError(t, err)
			open := next.opener()
			rec, err := journal.Start(st, run, open)
			require.NoError(t, err)
			o := rec.Attach(apply.Options{ConfirmWithin: within, Settle: 2 * time.Second, Engine: eo()})
			var cutAt sync.Map // host → time of the cut
			var waiting sync.WaitGroup
			defer waiting.Wait() // bounded by waitDeviceFile
			o.Journal = &hookJournal{Recorder: rec, hook: func(d apply.Device) {
				if d.Phase != tc.cutAt {
					return
				}
				if tc.marker == "" {
					cutAt.Store(d.Host, time.Now())
					cutter.cut(d.Host, "before "+d.Phase)
					return
				}
				waiting.Add(1)
				go func() {
					defer waiting.Done()
					if err := waitDeviceFile(ctx, e.lab, d.Host, "/root/"+tc.marker); err != nil {
						t.Errorf("%v", err)
						return
					}
					cutAt.Store(d.Host, time.Now())
					cutter.cut(d.Host, "on "+tc.marker)
				}()
			}}
			restoring := func(ctx context.Context, host string) (drivers.Session, error) {
				s, err := open(ctx, host)
				if err != nil {
					return nil, err
				}
				return &hookSession{Session: s, host: host, failed: func(host string) {
					cutter.restore(host, "once the controller gave up")
				}}, nil
			}
			t0 := time.Now()
			rep, pushErr := apply.Run(ctx, next.p, restoring, o)
			waiting.Wait()
			require.NoError(t, rec.Finish(pushErr))
			t.Logf("push took %v: %v", time.Since(t0).Round(10*time.Millisecond), pushErr)
			for _, l := range cutter.Log() {
				t.Log(l)
			}
			require.Error(t, pushErr, "no device can confirm through a cut link")
			require.NotNil(t, rep)
			require.Len(t, rep.Devices, len(hosts))
			outcome := map[string]apply.Outcome{}
			for _, d := range rep.Devices {
				t.Logf("%s: %s in %s: %s", d.Host, d.Outcome, d.Phase, d.Error)
				outcome[d.Host] = d.Outcome
				assert.Contains(t, tc.outcomes, d.Outcome, d.Host)
				assert.Equal(t, tc.phase, d.Phase, "%s: the phase reached", d.Host)
				_, cut := cutAt.Load(d.Host)
				assert.True(t, cut, "%s: the link was cut", d.Host)
			}

			// The run record shows the phase, and the outcome reported.
			_, es, err := st.Run(run.ID)
			require.NoError(t, err)
			require.Len(t, es, len(hosts))
			for _, en := range es {
				assert.Equal(t, tc.phase, en.Phase, "%s: the run record shows the phase", en.Host)
				assert.Equal(t, string(outcome[en.Host]), en.Outcome, en.Host)
				if en.Outcome == string(apply.RolledBack) && assert.NotNil(t, en.After, en.Host) && assert.NotNil(t, en.Before, en.Host) {
					assert.Equal(t, en.Before.String(), en.After.String(), "%s: rolled back: read back as the snapshot", en.Host)
				}
			}

			// The device ends with the old policy: wait out its timer.
			for _, h := range hosts {
				v, ok := cutAt.Load(h)
				if ok && tc.armed {
					time.Sleep(time.Until(v.(time.Time).Add(within + 5*time.Second)))
				}
			}
			seen := map[string][]famSample{}
			for _, h := range hosts {
				seen[h] = watches[h].Stop(t)
				assert.Equal(t, old[h], e.hash(t, h), "%s: the old ruleset after the deadline + 5 s", h)
				assert.Equal(t, boot[h], e.persisted(t, h), "%s: boot config untouched", h)
				assert.False(t, e.armed(t, h), "%s: no timer armed past its deadline", h)
			}

			// The next run (the standard options) reconciles and pushes.
			nrun, err := journal.NewRun("apply", "fwpush apply (next run)", pb, inv)
			require.NoError(t, err)
			res, err := journal.Apply(ctx, st, nrun, next.p, nil, e.with(t, "disjoint-a.yml").opener(),
				apply.Options{ConfirmWithin: okTimer, Settle: 2 * time.Second, Engine: eo()})
			require.NoError(t, err)
			for _, r := range res.Reconciled {
				t.Logf("%s: reconciled run %s (stopped at %s): %s: %s", r.Host, r.Run, r.Phase, r.Result, r.Detail)
			}
			assert.NotContains(t, strings.Join(res.Warnings, "\n"), "stale lock", "the cut run released its locks")
			for _, d := range res.Devices {
				assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
			}
			locks, err := st.Locks()
			require.NoError(t, err)
			assert.Empty(t, locks, "no lock left")
			left, err := st.UnfinishedHosts()
			require.NoError(t, err)
			assert.Empty(t, left, "nothing left to reconcile")
			_, es, err = st.Run(run.ID)
			require.NoError(t, err)
			for _, en := range es {
				t.Logf("%s: the cut run's record: phase %s, %s", en.Host, en.Phase, en.State())
				assert.NotEqual(t, string(apply.Indeterminate), en.State(),
					"%s: the device has long since settled (old ruleset, no timer), yet the cut run's record stays indeterminate and no later run reconciles it", en.Host)
			}
			for _, h := range hosts {
				assert.False(t, e.armed(t, h), "%s: no stale timer after the next run", h)
				assert.NotEqual(t, boot[h], e.persisted(t, h), "%s: the new policy persisted", h)
				seq := states(t, h, e.p.Inv.Hosts[h].Platform, seen[h], old[h], e.hash(t, h))
				t.Logf("%s: states seen during the cut run and until its deadline + 5 s: %v", h, seq)
				seq = settled(seq)
				switch {
				case tc.landed:
					assert.Equal(t, []string{"old", "new", "old"}, seq, "%s: changed, then reverted by the device", h)
				case tc.mayLand && len(seq) > 1:
					assert.Equal(t, []string{"old", "new", "old"}, seq, "%s: changed (the device went on with the command), then reverted by the device", h)
				default:
					assert.Equal(t, []string{"old"}, seq, "%s: the change never reached the device", h)
				}
			}
		})
	}
}
