package serve_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/check/checktest"
	"github.com/fwpush/fwpush/internal/pgtest"
	"github.com/fwpush/fwpush/internal/serve"
	"github.com/fwpush/fwpush/internal/store/pgstore"
)

// TestTwoServersShareDevices: two serve instances, each with its own
// connection to one PostgreSQL run store, re-push the same drifted fleet
// at the same moment. Each device is pushed once: the instance that did
// not get a device's lock in the store leaves it (locked, or unchanged
// when it read it after the repair), and both see every run.
func TestTwoServersShareDevices(t *testing.T) {
	c := pgtest.StartT(t)
	url := c.NewDB(t)
	f := checktest.NewFleet(t, root)
	checktest.Edit(t, f.Devs["web-1"], "tcp dport { 80, 443 }", "tcp dport { 80, 443, 8443 }")
	checktest.Edit(t, f.Devs["db-1"], "ip saddr @db_v4 tcp dport 5432 accept", "ip saddr @db_v4 tcp dport 5433 accept")
	// Each push dwells before its confirm, so the two instances overlap.
	slow := func(ctx context.Context, host string) error { time.Sleep(400 * time.Millisecond); return nil }
	var servers []*running
	for range 2 {
		st, err := pgstore.Open(url)
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		servers = append(servers, start(t, config(t, serve.Repush, ""), serve.Options{Store: st, Open: fleetOpener(f), PostCheck: slow}))
	}
	var wg sync.WaitGroup
	results := make([]*serve.Result, 2)
	for i, r := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.runOnce(t, "webapp")
		}()
	}
	wg.Wait()
	for _, h := range []string{"web-1", "db-1"} {
		assert.Equal(t, 1, f.Devs[h].Applies, "%s: pushed once, by one instance", h)
		assert.Equal(t, 1, f.Devs[h].Confirms, h)
		assert.Nil(t, f.Devs[h].Holder(), h)
	}
	confirmed, other := 0, 0
	for i, res := range results {
		require.NotNil(t, res.Push, "instance %d", i)
		assert.NotEqual(t, serve.OutcomeError, res.Outcome, "instance %d: %v", i, res.Err)
		confirmed += int(servers[i].metric(t, `fwpush_serve_push_devices_total{job="webapp",outcome="confirmed"}`))
		other += int(servers[i].metric(t, `fwpush_serve_push_devices_total{job="webapp",outcome="locked"}`) +
			servers[i].metric(t, `fwpush_serve_push_devices_total{job="webapp",outcome="unchanged"}`))
	}
	assert.Equal(t, 2, confirmed, "each drifted device confirmed once in all")
	assert.Equal(t, 2, other, "and left alone by the other instance")

	st, err := pgstore.OpenReadOnly(url)
	require.NoError(t, err)
	defer st.Close()
	runs, err := st.Runs(0)
	require.NoError(t, err)
	assert.Len(t, runs, 2, "both instances' runs in the one store")
	locks, err := st.Locks()
	require.NoError(t, err)
	assert.Empty(t, locks, "every lock released")
}
