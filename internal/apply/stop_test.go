package apply

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/internal/engine"
)

// hooked lets a test hold a device inside Fetch or Apply, the way a slow
// link holds a real one mid-upload.
type hooked struct {
	drivers.Session
	fetch, apply func()
}

func (h hooked) Fetch(ctx context.Context) (drivers.Config, error) {
	if h.fetch != nil {
		h.fetch()
	}
	return h.Session.Fetch(ctx)
}

func (h hooked) Apply(ctx context.Context, c drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	if h.apply != nil {
		h.apply()
	}
	return h.Session.Apply(ctx, c, o)
}

// TestStopFinishesInFlightStartsNothing is the first Ctrl-C of a push:
// every device has been read once (the preflight); with two forks, the
// first device the push starts is held inside Apply (a slow upload) and
// the second inside its push-time Fetch when Stop closes. The first
// finishes its whole trial (checked over a new connection, confirmed:
// never left half-way); the second, read but not yet changed, is left
// untouched; the three devices not started are never contacted again;
// the summary says the run was stopped.
func TestStopFinishesInFlightStartsNothing(t *testing.T) {
	p, devs, open := setup(t)
	held, release := make(chan string, 2), make(chan struct{})
	var mu sync.Mutex
	var holdApply sync.Once
	started := map[string]int{} // host → its order of push-time Fetch
	fetches := map[string]int{} // host → Fetch calls; the first is the preflight's
	hookedOpen := func(ctx context.Context, host string) (drivers.Session, error) {
		s, err := open(ctx, host)
		if err != nil {
			return nil, err
		}
		h := hooked{Session: s}
		h.fetch = func() {
			mu.Lock()
			fetches[host]++
			if _, ok := started[host]; ok || fetches[host] < 2 {
				mu.Unlock()
				return
			}
			started[host] = len(started) + 1
			n := started[host]
			mu.Unlock()
			if n == 2 {
				held <- host
				<-release
			}
		}
		h.apply = func() {
			mu.Lock()
			first := started[host] == 1
			mu.Unlock()
			if first {
				holdApply.Do(func() {
					held <- host
					<-release
				})
			}
		}
		return h, nil
	}
	stop := make(chan struct{})
	o := Options{ConfirmWithin: time.Minute, Engine: engine.Options{Forks: 2, MaxFailPercentage: engine.NeverStop, Stop: stop}}
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := Run(context.Background(), p, hookedOpen, o)
		done <- result{rep, err}
	}()
	for range 2 {
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatal("two devices never got held in Apply and Fetch")
		}
	}
	mu.Lock()
	var inApply, inFetch string
	for h, n := range started {
		switch n {
		case 1:
			inApply = h
		case 2:
			inFetch = h
		}
	}
	require.Len(t, started, 2, "only two forks")
	mu.Unlock()
	close(stop)
	close(release)
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the push did not return after Stop")
	}
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), engine.StopRequested)
	oc := outcomes(r.rep)
	assert.Equal(t, Confirmed, oc[inApply], "%s was mid-Apply at the stop: finished, not abandoned", inApply)
	assert.Equal(t, 1, devs[inApply].Confirms)
	assert.NotEmpty(t, devs[inApply].Running().String())

	assert.Equal(t, 0, devs[inFetch].Applies, "%s was read before the stop, never changed after it", inFetch)
	assert.Equal(t, "", devs[inFetch].Running().String())
	for _, d := range r.rep.Devices {
		switch d.Host {
		case inApply:
		case inFetch:
			assert.Equal(t, engine.Skipped, d.Status)
			assert.Contains(t, d.Error, "the device is untouched")
		default:
			assert.Equal(t, 1, devs[d.Host].Opens, "%s was only read by the preflight, never started", d.Host)
			assert.Equal(t, 0, devs[d.Host].Applies, d.Host)
		}
	}
	assert.Equal(t, engine.StopRequested, r.rep.Summary.Aborted)
	assert.Equal(t, 4, r.rep.Summary.Counts[engine.Skipped])
}

// TestStopAbandonsRevertWait: a device that failed its check waits for
// its own revert timer before being read back; asked to stop, the push
// does not sit out the timer (a minute here): it reports the device
// indeterminate, still armed, so the timer reverts it.
func TestStopAbandonsRevertWait(t *testing.T) {
	dev := &driverstest.Device{Name: "web-1", LockOut: true}
	open := func(ctx context.Context, host string) (drivers.Session, error) { return dev.Open(ctx) }
	stop := make(chan struct{})
	time.AfterFunc(300*time.Millisecond, func() { close(stop) })
	t0 := time.Now()
	rep, err := RunConfigs(context.Background(), "t", map[string]drivers.Config{"web-1": driverstest.Config("new\n")}, open,
		Options{ConfirmWithin: time.Minute, Engine: engine.Options{Stop: stop}})
	require.Error(t, err)
	assert.Less(t, time.Since(t0), 10*time.Second, "did not wait for the one-minute timer")
	require.Len(t, rep.Devices, 1)
	assert.Equal(t, Indeterminate, rep.Devices[0].Outcome)
	assert.Contains(t, rep.Devices[0].Error, "did not wait for its revert timer")
	assert.Equal(t, 0, dev.Confirms, "never confirmed: its timer still reverts it")
}

// TestNoRevertOnlyByChoice: a zero (or negative) ConfirmWithin is refused
// before any device is contacted; pushing without a revert takes
// NoConfirm, and NoConfirm refuses what would contradict it.
func TestNoRevertOnlyByChoice(t *testing.T) {
	cases := map[string]struct {
		o    Options
		want string
	}{
		"zero value":             {Options{}, "ConfirmWithin 0s: commit-confirm needs a revert delay above 0"},
		"negative":               {Options{ConfirmWithin: -time.Second}, "ConfirmWithin -1s"},
		"no-confirm with delay":  {Options{NoConfirm: true, ConfirmWithin: time.Minute}, "contradict"},
		"no-confirm post-check":  {Options{NoConfirm: true, PostCheck: func(context.Context, string) error { return nil }}, "needs commit-confirm"},
		"engine NaN max-fail":    {Options{ConfirmWithin: time.Minute, Engine: engine.Options{MaxFailPercentage: nan()}}, "MaxFailPercentage NaN"},
		"engine negative forks":  {Options{ConfirmWithin: time.Minute, Engine: engine.Options{Forks: -1}}, "Forks -1"},
		"engine negative canary": {Options{ConfirmWithin: time.Minute, Engine: engine.Options{Canary: -1}}, "Canary -1"},
		"engine bad serial":      {Options{ConfirmWithin: time.Minute, Engine: engine.Options{Serial: []string{"0"}}}, `Serial "0"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, devs, open := setup(t)
			_, err := Run(context.Background(), p, open, tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			for h, d := range devs {
				assert.Zero(t, d.Opens, "%s contacted", h)
			}
		})
	}

	p, devs, open := setup(t)
	rep, err := Run(context.Background(), p, open, Options{NoConfirm: true, Engine: engine.Options{MaxFailPercentage: engine.NeverStop}})
	require.NoError(t, err)
	for h, oc := range outcomes(rep) {
		assert.Equal(t, Applied, oc, h)
		assert.Zero(t, devs[h].Confirms, h)
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}
