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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/internal/store/storetest"
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

// TestConformance: the bbolt store passes the suite every backend
// passes; a second Store on the same file plays a second controller.
func TestConformance(t *testing.T) {
	storetest.Conformance(t, storetest.Opener{
		Open: func(t *testing.T) store.Backend { return open(t) },
		Reopen: func(t *testing.T, st store.Backend) store.Backend {
			again, err := store.Open(st.Path(), store.WithTimeout(time.Second))
			require.NoError(t, err)
			return again
		},
	})
}

// TestConcurrentProcesses: two fwpush processes share the file through
// bbolt's file lock, each holding it for one short transaction at a time.
func TestConcurrentProcesses(t *testing.T) {
	if path := os.Getenv("FWPUSH_STORE_HELPER"); path != "" {
		st, err := store.Open(path, store.WithTimeout(10*time.Second))
		if err == nil {
			err = storetest.WriteRuns(st, os.Getenv("FWPUSH_STORE_HOST"), 30)
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
	require.NoError(t, storetest.WriteRuns(st, "parent", 30)) // and this process at the same time
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
