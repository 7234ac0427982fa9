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
