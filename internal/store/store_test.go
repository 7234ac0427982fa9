package store_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/store"
)

func open(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state", "runs.db"), store.WithTimeout(time.Second))
	require.NoError(t, err)
	return st
}

func cfg(text string) *drivers.Config {
	return &drivers.Config{Platform: "linux-nftables", Parts: []drivers.Part{{Name: "nftables", Text: text}}}
}

func TestRoundTrip(t *testing.T) {
	st := open(t)
	r := store.NewRun("apply", "fwpush apply -i inv -p pb.yml")
	r.Playbook, r.PlaybookSHA256 = "webapp", "ab12"
	require.NoError(t, st.CreateRun(r))
	require.Error(t, st.CreateRun(r), "ids are unique")

	d := diff.Compute(*cfg("old\n"), *cfg("new\n"), nil)
	e := store.Entry{Run: r.ID, Host: "web-1", Platform: "linux-nftables", Phase: "confirm",
		Desired: cfg("new\n"), Before: cfg("old\n"), After: cfg("new\n"), Diff: &d,
		ConfirmWithin: 2 * time.Minute, Outcome: "confirmed", Updated: time.Now().UTC().Round(0)}
	require.NoError(t, st.PutEntry(e))
	unfinished := store.Entry{Run: r.ID, Host: "web-2", Phase: "apply", Before: cfg(""), Desired: cfg("new\n"), Updated: e.Updated}
	require.NoError(t, st.PutEntry(unfinished))
	require.Error(t, st.PutEntry(store.Entry{Run: "nope", Host: "x"}), "an entry needs its run")
	require.NoError(t, st.FinishRun(r.ID, time.Now(), ""))

	got, es, err := st.Run(r.ID[:10]) // unique prefix
	require.NoError(t, err)
	assert.Equal(t, r.ID, got.ID)
	assert.Equal(t, "webapp", got.Playbook)
	assert.NotNil(t, got.Finished)
	require.Len(t, es, 2)
	if d := cmp.Diff(e, es[0]); d != "" {
		t.Errorf("entry (-want +got):\n%s", d)
	}

	sums, err := st.Runs(0)
	require.NoError(t, err)
	require.Len(t, sums, 1)
	assert.Equal(t, map[string]int{"confirmed": 1, "unfinished": 1}, sums[0].Counts)

	left, err := st.Unfinished("web-2", "")
	require.NoError(t, err)
	require.Len(t, left, 1)
	hosts, err := st.UnfinishedHosts()
	require.NoError(t, err)
	assert.Equal(t, []string{"web-2"}, hosts)

	require.NoError(t, st.Reconcile(store.Reconciliation{Run: r.ID, Host: "web-2", Phase: "apply", Result: store.RolledBack, By: "later"}))
	left, err = st.Unfinished("web-2", "")
	require.NoError(t, err)
	assert.Empty(t, left)
	hist, err := st.HostEntries("web-2")
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, "reconciled:rolled-back", hist[0].State())
	require.Error(t, st.Reconcile(store.Reconciliation{Run: r.ID, Host: "nope"}))
}

func TestRunsNewestFirstAndPrefixes(t *testing.T) {
	st := open(t)
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i := range 3 {
		r := store.NewRun("apply", "")
		r.ID = store.NewRunID(t0.Add(time.Duration(i) * time.Hour))
		require.NoError(t, st.CreateRun(r))
		ids = append(ids, r.ID)
	}
	sums, err := st.Runs(2)
	require.NoError(t, err)
	require.Len(t, sums, 2)
	assert.Equal(t, ids[2], sums[0].ID)
	assert.Equal(t, ids[1], sums[1].ID)

	_, _, err = st.Run("20300102T")
	assert.ErrorContains(t, err, "ambiguous")
	_, _, err = st.Run("19990101")
	assert.ErrorContains(t, err, "no run")
	_, _, err = st.Run("20300102T05")
	assert.NoError(t, err)
}

// TestConcurrentGoroutines: writers in one process queue on the store's
// own mutex and lose nothing.
func TestConcurrentGoroutines(t *testing.T) {
	st := open(t)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- writeRuns(st, fmt.Sprintf("g%d", w), 25)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	sums, err := st.Runs(0)
	require.NoError(t, err)
	assert.Len(t, sums, 50)
}

func writeRuns(st *store.Store, host string, n int) error {
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

// TestConcurrentProcesses: two fwpush processes share the file through
// bbolt's file lock, each holding it for one short transaction at a time.
func TestConcurrentProcesses(t *testing.T) {
	if path := os.Getenv("FWPUSH_STORE_HELPER"); path != "" {
		st, err := store.Open(path, store.WithTimeout(10*time.Second))
		if err == nil {
			err = writeRuns(st, os.Getenv("FWPUSH_STORE_HOST"), 30)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	st := open(t)
	var cmds []*exec.Cmd
	for i := range 2 {
		c := exec.Command(os.Args[0], "-test.run=^TestConcurrentProcesses$", "-test.count=1")
		c.Env = append(os.Environ(), "FWPUSH_STORE_HELPER="+st.Path(), "FWPUSH_STORE_HOST=p"+strconv.Itoa(i))
		cmds = append(cmds, c)
	}
	outs := make([][]byte, len(cmds))
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = c.CombinedOutput()
		}()
	}
	require.NoError(t, writeRuns(st, "parent", 30)) // and this process at the same time
	wg.Wait()
	for i := range cmds {
		require.NoError(t, errs[i], "%s", outs[i])
	}
	sums, err := st.Runs(0)
	require.NoError(t, err)
	assert.Len(t, sums, 90)
	for _, h := range []string{"p0", "p1", "parent"} {
		es, err := st.HostEntries(h)
		require.NoError(t, err)
		assert.Len(t, es, 30, h)
	}
}

// TestBusyFileFailsClearly: a process holding the file open makes a
// store call fail after the timeout, naming the file, instead of hanging.
func TestBusyFileFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	st, err := store.Open(path, store.WithTimeout(300*time.Millisecond))
	require.NoError(t, err)
	db, err := bolt.Open(path, 0o600, nil) // another process's handle: flock is per open file
	require.NoError(t, err)
	t0 := time.Now()
	err = st.CreateRun(store.NewRun("apply", ""))
	assert.Less(t, time.Since(t0), 3*time.Second)
	require.Error(t, err)
	assert.True(t, errors.Is(err, store.ErrBusy), err)
	assert.Contains(t, err.Error(), path)
	require.NoError(t, db.Close())
	assert.NoError(t, st.CreateRun(store.NewRun("apply", "")), "usable again once released")
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/xdg")
	p, err := store.DefaultPath()
	require.NoError(t, err)
	assert.Equal(t, "/xdg/fwpush/runs.db", p)
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	p, err = store.DefaultPath()
	require.NoError(t, err)
	assert.Equal(t, "/home/u/.local/state/fwpush/runs.db", p)
}
