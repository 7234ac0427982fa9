// Package storetest is the conformance suite every run store backend
// passes (store.Store on bbolt, pgstore on PostgreSQL): the same records,
// orderings, errors and lock behaviour, so journal, history, rollback and
// reconcile work the same on either.
package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/store"
)

// Opener opens a fresh, empty store for one test. Reopen, when set,
// opens a second handle on the same store (another controller sharing
// it), for the sharing tests.
type Opener struct {
	Open   func(t *testing.T) store.Backend
	Reopen func(t *testing.T, st store.Backend) store.Backend
}

// Conformance runs the suite; each case gets its own store.
func Conformance(t *testing.T, o Opener) {
	cases := map[string]func(t *testing.T, o Opener){
		"RoundTrip":               roundTrip,
		"RunsNewestFirstPrefixes": runsNewestFirst,
		"RunsByID":                runsByID,
		"EntryNeedsRun":           entryNeedsRun,
		"UnfinishedAndReconcile":  unfinishedAndReconcile,
		"ConcurrentWriters":       concurrentWriters,
		"LockHolderNamed":         lockHolderNamed,
		"OneWinnerAmongManyRuns":  oneWinner,
		"SharedRunsAndLocks":      shared,
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c(t, o)
		})
	}
}

func open(t *testing.T, o Opener) store.Backend {
	t.Helper()
	st := o.Open(t)
	t.Cleanup(func() { assert.NoError(t, st.Close()) })
	return st
}

func cfg(text string) *drivers.Config {
	return &drivers.Config{Platform: "linux-nftables", Parts: []drivers.Part{{Name: "nftables", Text: text}}}
}

// run is a new run started at t0 + i hours, so ids sort as created.
func run(i int) store.Run {
	r := store.NewRun("apply", "fwpush apply -i inv -p pb.yml")
	r.ID = store.NewRunID(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Hour))
	r.Started = r.Started.Round(time.Microsecond)
	return r
}

func roundTrip(t *testing.T, o Opener) {
	st := open(t, o)
	r := store.NewRun("apply", "fwpush apply -i inv -p pb.yml")
	r.Started = r.Started.Round(time.Microsecond)
	r.Playbook, r.PlaybookSHA256 = "webapp", "ab12"
	r.Restores = map[string]string{"web-1": "earlier"}
	require.NoError(t, st.CreateRun(r))
	require.Error(t, st.CreateRun(r), "ids are unique")

	d := diff.Compute(*cfg("old\n"), *cfg("new\n"), nil)
	dl := time.Now().UTC().Add(time.Minute).Round(time.Microsecond)
	e := store.Entry{Run: r.ID, Host: "web-1", Platform: "linux-nftables", Phase: "confirm",
		Desired: cfg("new\n"), Before: cfg("old\n"), After: cfg("new\n"), Diff: &d,
		ConfirmWithin: 2 * time.Minute, Deadline: &dl, Outcome: "confirmed", Error: "a \"quoted\"\nerror \x00 with NUL",
		Updated: time.Now().UTC().Round(time.Microsecond)}
	require.NoError(t, st.PutEntry(e))
	e2 := store.Entry{Run: r.ID, Host: "web-2", Phase: "apply", Before: cfg(""), Desired: cfg("new\n"), Updated: e.Updated}
	require.NoError(t, st.PutEntry(e2))
	finished := time.Now().UTC().Round(time.Microsecond)
	require.NoError(t, st.FinishRun(r.ID, finished, "boom"))
	require.Error(t, st.FinishRun("nope", finished, ""), "finishing an unknown run")

	got, es, err := st.Run(r.ID[:10]) // unique prefix
	require.NoError(t, err)
	want := r
	want.Finished, want.Error = &finished, "boom"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("run (-want +got):\n%s", d)
	}
	require.Len(t, es, 2)
	if d := cmp.Diff([]store.Entry{e, e2}, es); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}

	// Writing an entry again replaces it.
	e2.Phase, e2.Outcome = "confirm", "confirmed"
	require.NoError(t, st.PutEntry(e2))
	sums, err := st.Runs(0)
	require.NoError(t, err)
	require.Len(t, sums, 1)
	assert.Equal(t, map[string]int{"confirmed": 2}, sums[0].Counts)
	hist, err := st.HostEntries("web-2")
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, "confirm", hist[0].Phase)
	assert.Empty(t, st.Skipped())
}

func runsNewestFirst(t *testing.T, o Opener) {
	st := open(t, o)
	var ids []string
	for i := range 3 {
		r := run(i)
		require.NoError(t, st.CreateRun(r))
		ids = append(ids, r.ID)
	}
	sums, err := st.Runs(2)
	require.NoError(t, err)
	require.Len(t, sums, 2)
	assert.Equal(t, ids[2], sums[0].ID)
	assert.Equal(t, ids[1], sums[1].ID)
	assert.Equal(t, map[string]int{}, sums[0].Counts)
	all, err := st.Runs(0)
	require.NoError(t, err)
	assert.Len(t, all, 3)

	_, _, err = st.Run("20300102T")
	assert.ErrorContains(t, err, "ambiguous")
	_, _, err = st.Run("19990101")
	assert.ErrorContains(t, err, "no run")
	_, _, err = st.Run("")
	assert.Error(t, err)
	_, _, err = st.Run("20300102T05")
	assert.NoError(t, err)
	// A prefix is matched literally: LIKE or glob characters match
	// nothing.
	_, _, err = st.Run("2030%")
	assert.ErrorContains(t, err, "no run")
	_, _, err = st.Run("2030_")
	assert.ErrorContains(t, err, "no run")
}

func runsByID(t *testing.T, o Opener) {
	st := open(t, o)
	a, b := run(0), run(1)
	require.NoError(t, st.CreateRun(a))
	require.NoError(t, st.CreateRun(b))
	got, err := st.RunsByID([]string{a.ID, "missing", b.ID, a.ID})
	require.NoError(t, err)
	assert.Len(t, got, 2)
	assert.Equal(t, a.Who, got[a.ID].Who)
	got, err = st.RunsByID(nil)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func entryNeedsRun(t *testing.T, o Opener) {
	st := open(t, o)
	require.Error(t, st.PutEntry(store.Entry{Run: "nope", Host: "x"}), "an entry needs its run")
	require.Error(t, st.CreateRun(store.Run{}), "a run needs an id")
	es, err := st.HostEntries("x")
	require.NoError(t, err)
	assert.Empty(t, es)
}

func unfinishedAndReconcile(t *testing.T, o Opener) {
	st := open(t, o)
	var ids []string
	for i, host := range []string{"web-2", "db-1", "web-2"} {
		r := run(i)
		require.NoError(t, st.CreateRun(r))
		ids = append(ids, r.ID)
		require.NoError(t, st.PutEntry(store.Entry{Run: r.ID, Host: host, Phase: "apply", Before: cfg(""), Desired: cfg("x\n")}))
		require.NoError(t, st.PutEntry(store.Entry{Run: r.ID, Host: "app-1", Phase: "confirm", Outcome: "confirmed"}))
	}
	require.NoError(t, st.PutEntry(store.Entry{Run: ids[0], Host: "app-2", Phase: "check", Outcome: store.Indeterminate}))
	hosts, err := st.UnfinishedHosts()
	require.NoError(t, err)
	assert.Equal(t, []string{"app-2", "db-1", "web-2"}, hosts, "sorted, each once; an indeterminate outcome is unfinished")

	left, err := store.Unfinished(st, "web-2", ids[2])
	require.NoError(t, err)
	require.Len(t, left, 1)
	assert.Equal(t, ids[0], left[0].Run)
	es, err := st.HostEntries("web-2")
	require.NoError(t, err)
	require.Len(t, es, 2)
	assert.Equal(t, ids[0], es[0].Run, "oldest run first")

	for _, id := range []string{ids[0], ids[2]} {
		require.NoError(t, st.Reconcile(store.Reconciliation{Run: id, Host: "web-2", Phase: "apply", Result: store.RolledBack, By: "later", At: time.Now().UTC()}))
	}
	require.NoError(t, st.Reconcile(store.Reconciliation{Run: ids[0], Host: "app-2", Phase: "check", Result: store.Applied, By: "later"}))
	require.Error(t, st.Reconcile(store.Reconciliation{Run: ids[0], Host: "nope"}))
	require.Error(t, st.Reconcile(store.Reconciliation{Run: "nope", Host: "web-2"}))
	hosts, err = st.UnfinishedHosts()
	require.NoError(t, err)
	assert.Equal(t, []string{"db-1"}, hosts)
	es, err = st.HostEntries("web-2")
	require.NoError(t, err)
	for _, e := range es {
		assert.Equal(t, "reconciled:rolled-back", e.State())
		assert.Equal(t, "later", e.Reconciled.By)
	}
	sums, err := st.Runs(0)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"confirmed": 1, "reconciled:rolled-back": 1, "reconciled:applied": 1}, sums[len(sums)-1].Counts)
}

// concurrentWriters: writers in one process lose nothing.
func concurrentWriters(t *testing.T, o Opener) {
	st := open(t, o)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- WriteRuns(st, fmt.Sprintf("g%d", w), 15)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	sums, err := st.Runs(0)
	require.NoError(t, err)
	assert.Len(t, sums, 60)
	for w := range 4 {
		es, err := st.HostEntries(fmt.Sprintf("g%d", w))
		require.NoError(t, err)
		assert.Len(t, es, 15)
	}
}

// WriteRuns records n runs, each with one entry for host.
func WriteRuns(st store.Backend, host string, n int) error {
	for range n {
		r := store.NewRun("apply", "")
		if err := st.CreateRun(r); err != nil {
			return err
		}
		if err := st.PutEntry(store.Entry{Run: r.ID, Host: host, Phase: "fetch", Outcome: "unchanged"}); err != nil {
			return err
		}
	}
	return nil
}

func lockHolderNamed(t *testing.T, o Opener) {
	st := open(t, o)
	a, b := store.NewRun("apply", ""), store.NewRun("rollback", "")
	b.ID += "b"
	broken, err := st.Acquire(store.LockFor(a, "web-1"))
	require.NoError(t, err)
	assert.Nil(t, broken)
	_, err = st.Acquire(store.LockFor(a, "web-1"))
	require.NoError(t, err, "re-acquiring one's own lock")

	_, err = st.Acquire(store.LockFor(b, "web-1"))
	var le *store.LockedError
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Equal(t, a.ID, le.Holder.Run)
	assert.Equal(t, a.Who, le.Holder.Who)
	assert.Contains(t, err.Error(), a.ID)

	require.NoError(t, st.Release("web-1", b.ID), "another run's release is a no-op")
	locks, err := st.Locks()
	require.NoError(t, err)
	require.Len(t, locks, 1)
	assert.Equal(t, a.ID, locks[0].Run)
	assert.Equal(t, "web-1", locks[0].Host)
	_, err = st.Acquire(store.LockFor(a, "web-2"))
	require.NoError(t, err)
	require.NoError(t, st.Release("web-1", a.ID))
	_, err = st.Acquire(store.LockFor(b, "web-1"))
	require.NoError(t, err, "free once released")
	require.NoError(t, st.Release("web-1", b.ID))
	require.NoError(t, st.Release("web-2", a.ID))
	locks, err = st.Locks()
	require.NoError(t, err)
	assert.Empty(t, locks)
	require.NoError(t, st.Release("web-9", a.ID), "releasing what nobody holds")
}

// oneWinner: runs racing for one device: exactly one gets the lock, every
// other one is told who holds it, and their other writes all land.
func oneWinner(t *testing.T, o Opener) {
	st := open(t, o)
	const n = 32
	runs := make([]store.Run, n)
	for i := range runs {
		runs[i] = store.NewRun("apply", "")
		runs[i].ID += "-" + strconv.Itoa(i)
		require.NoError(t, st.CreateRun(runs[i]))
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, errs[i] = st.Acquire(store.LockFor(runs[i], "web-1")); errs[i] == nil {
				return
			}
			errs[i] = errors.Join(errs[i], st.PutEntry(store.Entry{Run: runs[i].ID, Host: "web-1", Phase: "fetch", Outcome: "failed"}))
		}()
	}
	wg.Wait()
	locks, err := st.Locks()
	require.NoError(t, err)
	require.Len(t, locks, 1)
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			assert.Equal(t, runs[i].ID, locks[0].Run)
			continue
		}
		var le *store.LockedError
		require.True(t, errors.As(err, &le), "%v", err)
		assert.Equal(t, locks[0].Run, le.Holder.Run)
	}
	assert.Equal(t, 1, won)
	es, err := st.HostEntries("web-1")
	require.NoError(t, err)
	assert.Len(t, es, n-1)
}

// shared: two handles on one store (two controllers) see each other's
// runs, entries and locks at once.
func shared(t *testing.T, o Opener) {
	if o.Reopen == nil {
		t.Skip("this backend has no second handle")
	}
	a := open(t, o)
	b := o.Reopen(t, a)
	t.Cleanup(func() { assert.NoError(t, b.Close()) })
	ra, rb := run(0), run(1)
	ra.Hostname, ra.Who = "ctl-a", "alice@ctl-a"
	require.NoError(t, a.CreateRun(ra))
	require.NoError(t, a.PutEntry(store.Entry{Run: ra.ID, Host: "web-1", Phase: "apply", Before: cfg("old\n")}))
	_, err := a.Acquire(store.LockFor(ra, "web-1"))
	require.NoError(t, err)

	sums, err := b.Runs(0)
	require.NoError(t, err)
	require.Len(t, sums, 1)
	assert.Equal(t, ra.ID, sums[0].ID)
	hosts, err := b.UnfinishedHosts()
	require.NoError(t, err)
	assert.Equal(t, []string{"web-1"}, hosts)
	_, err = b.Acquire(store.LockFor(rb, "web-1"))
	var le *store.LockedError
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Equal(t, ra.ID, le.Holder.Run)
	assert.Equal(t, "alice@ctl-a", le.Holder.Who)

	require.NoError(t, a.Release("web-1", ra.ID))
	require.NoError(t, b.CreateRun(rb))
	broken, err := b.Acquire(store.LockFor(rb, "web-1"))
	require.NoError(t, err)
	assert.Nil(t, broken, "a released lock is not a broken one")
	require.NoError(t, b.Reconcile(store.Reconciliation{Run: ra.ID, Host: "web-1", Phase: "apply", Result: store.RolledBack, By: rb.ID}))
	es, err := a.HostEntries("web-1")
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, "reconciled:rolled-back", es[0].State(), "a sees b's reconciliation")
	locks, err := a.Locks()
	require.NoError(t, err)
	require.Len(t, locks, 1)
	assert.Equal(t, rb.ID, locks[0].Run)
	require.NoError(t, b.Release("web-1", rb.ID))
}
