package engine

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBatches(t *testing.T) {
	cases := map[string]struct {
		n, canary int
		serial    []string
		want      []int
	}{
		"one batch":              {10, 0, nil, []int{10}},
		"canary then rest":       {10, 2, nil, []int{2, 8}},
		"serial repeats last":    {10, 0, []string{"1", "3"}, []int{1, 3, 3, 3}},
		"percent":                {10, 0, []string{"30%"}, []int{3, 3, 3, 1}},
		"canary and serial":      {7, 1, []string{"50%"}, []int{1, 3, 3}},
		"tiny percent rounds up": {3, 0, []string{"1%"}, []int{1, 1, 1}},
		"no hosts":               {0, 2, nil, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Batches(tc.n, tc.canary, tc.serial)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{"0", "-1", "x", "0%", "101%"} {
		_, err := Batches(5, 0, []string{bad})
		assert.Error(t, err, bad)
	}
}

func hosts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("h%02d", i)
	}
	return out
}

func TestForksBound(t *testing.T) {
	var cur, peak atomic.Int32
	task := func(ctx context.Context, h string) Result {
		c := cur.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		cur.Add(-1)
		return Result{Status: Unchanged}
	}
	rs, sum, err := Run(context.Background(), hosts(40), Options{Forks: 4, MaxFailPercentage: -1}, task)
	require.NoError(t, err)
	assert.Len(t, rs, 40)
	assert.LessOrEqual(t, peak.Load(), int32(4))
	assert.Equal(t, 40, sum.Counts[Unchanged])
}

func TestMaxFailStopsLaterBatches(t *testing.T) {
	task := func(ctx context.Context, h string) Result {
		if h == "h00" || h == "h01" {
			return Result{Status: Failed, Error: "boom"}
		}
		return Result{Status: Changed}
	}
	// Batches 2, 3, 3, 2: the first has 2/2 failed (100% > 50%).
	rs, sum, err := Run(context.Background(), hosts(10), Options{Serial: []string{"2", "3"}, MaxFailPercentage: 50}, task)
	require.NoError(t, err)
	assert.Contains(t, sum.Aborted, "batch 1: 2 of 2 hosts failed")
	assert.Equal(t, 2, sum.Counts[Failed])
	assert.Equal(t, 8, sum.Counts[Skipped])
	assert.Equal(t, Skipped, rs[9].Status)
}

func TestPanicIsolated(t *testing.T) {
	task := func(ctx context.Context, h string) Result {
		if h == "h03" {
			panic("driver bug")
		}
		return Result{Status: Changed}
	}
	rs, sum, err := Run(context.Background(), hosts(6), Options{MaxFailPercentage: -1}, task)
	require.NoError(t, err)
	assert.Equal(t, Failed, rs[3].Status)
	assert.Contains(t, rs[3].Error, "h03: internal error: driver bug")
	assert.Equal(t, 5, sum.Counts[Changed])
}

func TestCancelSkipsUnstarted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	task := func(ctx context.Context, h string) Result {
		cancel()
		return Result{Status: Changed}
	}
	_, sum, err := Run(ctx, hosts(10), Options{Canary: 1, MaxFailPercentage: -1}, task)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Counts[Changed])
	assert.Equal(t, 9, sum.Counts[Skipped])
	assert.Contains(t, sum.Aborted, "cancelled")
}

// TestOptionsRefused: the values the CLI and the playbook refuse are
// refused by the library too, before any task runs.
func TestOptionsRefused(t *testing.T) {
	zero := 0.0
	cases := map[string]struct {
		o    Options
		want string
	}{
		"negative forks":    {Options{Forks: -1}, "Forks -1: want 1 or more"},
		"negative canary":   {Options{Canary: -1}, "Canary -1: want 0"},
		"NaN max-fail":      {Options{MaxFailPercentage: zero / zero}, "MaxFailPercentage NaN: want 0 to 100"},
		"max-fail over 100": {Options{MaxFailPercentage: 101}, "MaxFailPercentage 101: want 0 to 100"},
		"serial zero":       {Options{Serial: []string{"0"}}, `Serial "0"`},
		"serial signed":     {Options{Serial: []string{"+5"}}, `Serial "+5"`},
		"serial fraction":   {Options{Serial: []string{"2.5%"}}, `Serial "2.5%"`},
		"serial over 100%":  {Options{Serial: []string{"101%"}}, `Serial "101%"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ran := false
			_, _, err := Run(context.Background(), hosts(3), tc.o, func(context.Context, string) Result {
				ran = true
				return Result{Status: Changed}
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.False(t, ran)
		})
	}
	for name, o := range map[string]Options{
		"zero value":          {},
		"never stop":          {MaxFailPercentage: NeverStop},
		"100 never stops":     {MaxFailPercentage: 100},
		"spaced serial":       {Serial: []string{" 2", "50%"}},
		"forks 1, canary 0":   {Forks: 1},
		"whole percent 100%":  {Serial: []string{"100%"}},
		"canary above fleet":  {Canary: 10},
		"max-fail 0 (strict)": {MaxFailPercentage: 0},
	} {
		_, _, err := Run(context.Background(), hosts(3), o, func(context.Context, string) Result { return Result{Status: Changed} })
		assert.NoError(t, err, name)
	}
}

// TestStopStartsNothingMore: closing Stop leaves every host not yet
// started skipped, in this batch (waiting for a fork) and in later ones,
// while the task in flight runs to its end with its context intact.
func TestStopStartsNothingMore(t *testing.T) {
	stop := make(chan struct{})
	var started atomic.Int32
	var ctxErr atomic.Value
	var first atomic.Value
	task := func(ctx context.Context, h string) Result {
		if started.Add(1) == 1 {
			first.Store(h)
			close(stop)
			time.Sleep(50 * time.Millisecond) // finishing its change after the stop
			ctxErr.Store(fmt.Sprint(ctx.Err()))
		}
		return Result{Status: Changed}
	}
	// Forks 1: two hosts of the first batch of three wait for the fork the
	// first holds; h03-h09 are later batches.
	rs, sum, err := Run(context.Background(), hosts(10), Options{Forks: 1, Serial: []string{"3"}, MaxFailPercentage: NeverStop, Stop: stop}, task)
	require.NoError(t, err)
	assert.Equal(t, int32(1), started.Load())
	for _, r := range rs {
		if r.Host == first.Load() {
			assert.Equal(t, Changed, r.Status, "in flight: finished")
		}
	}
	assert.Equal(t, "<nil>", ctxErr.Load(), "the task's context is not cancelled by Stop")
	assert.Equal(t, 9, sum.Counts[Skipped])
	assert.Equal(t, StopRequested, sum.Aborted)
}
