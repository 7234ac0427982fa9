package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/inventory"
)

// applied runs one apply of the webapp fleet's host into state and
// returns the run id.
func applied(t *testing.T, state, host string) string {
	t.Helper()
	code, out, errOut := fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", state, "--limit", host, "--format", "json")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	var res struct{ Run string }
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	return res.Run
}

// damage overwrites one record of the (closed) store with non-JSON.
func damage(t *testing.T, state string, path ...string) {
	t.Helper()
	db, err := bolt.Open(state, 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(path[0]))
		for _, p := range path[1 : len(path)-1] {
			b = b.Bucket([]byte(p))
		}
		return b.Put([]byte(path[len(path)-1]), []byte("\x00not json"))
	}))
}

// TestHistorySkipsCorruptRecord: one damaged record used to make history
// fail entirely. Now the damaged run is left out with a warning naming
// the record, and everything else is listed.
func TestHistorySkipsCorruptRecord(t *testing.T) {
	fakeFleet(t)
	state := filepath.Join(t.TempDir(), "runs.db")
	bad, good := applied(t, state, "web-1"), applied(t, state, "db-1")
	damage(t, state, "runs", bad)
	damage(t, state, "entries", good, "db-1")

	code, out, errOut := fwpush(t, "history", "--state", state)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, good)
	assert.NotContains(t, out, bad)
	assert.Contains(t, errOut, "warning: run store "+state+": record runs/"+bad+" is unreadable, skipped")
	assert.Contains(t, errOut, "warning: run store "+state+": record entries/"+good+"/db-1 is unreadable, skipped")

	code, out, errOut = fwpush(t, "history", "--state", state, "--format", "json")
	require.Equal(t, 0, code, errOut)
	var runs []struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(out), &runs), "stdout stays JSON: %s", out)
	require.Len(t, runs, 1)
	assert.Equal(t, good, runs[0].ID)

	code, out, errOut = fwpush(t, "history", "db-1", "--state", state)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "no run recorded for db-1")
	assert.Contains(t, errOut, "entries/"+good+"/db-1 is unreadable")

	code, _, errOut = fwpush(t, "history", "--state", state, "--show", bad)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "run "+bad+": unreadable record")
}

// childEnv marks a test binary re-run as one test's child process.
const childEnv = "FWPUSH_TEST_CHILD"

// childResult is what a child reports to its parent.
type childResult struct {
	Code   int    `json:"code"`
	Out    string `json:"out"`
	ErrOut string `json:"err_out"`
	Note   string `json:"note"`
}

// needRoot: mount namespaces need root, which CI has.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root for a private mount namespace (CI runs as root)")
		}
		t.Skip("needs root for a private mount namespace")
	}
}

// inMountNamespace re-runs the calling test in a child process with a
// mount namespace of its own (Go marks / private in it), so the child can
// mount a read-only bind or a tiny tmpfs that nothing else ever sees and
// that vanishes with it. env are extra KEY=VALUE; the child writes its
// childResults as JSON to the file $FWPUSH_TEST_RESULT.
func inMountNamespace(t *testing.T, env ...string) []childResult {
	t.Helper()
	result := filepath.Join(t.TempDir(), "result.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	c.Env = append(append(os.Environ(), childEnv+"="+t.Name(), "FWPUSH_TEST_RESULT="+result), env...)
	c.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := c.CombinedOutput()
	require.NoError(t, err, "child: %s", out)
	data, err := os.ReadFile(result)
	require.NoError(t, err, "child wrote no result: %s", out)
	var rs []childResult
	require.NoError(t, json.Unmarshal(data, &rs))
	return rs
}

func writeResults(t *testing.T, rs []childResult) {
	data, err := json.Marshal(rs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(os.Getenv("FWPUSH_TEST_RESULT"), data, 0o600))
}

// TestHistoryReadOnlyStore: a store on a read-only file system used to be
// unreadable (history opened it for writing). As root, file modes prove
// nothing (root writes through them), so the child makes the store's
// directory a read-only bind mount: any write attempt fails with EROFS.
// history, history HOST, history --show and an empty store all work.
func TestHistoryReadOnlyStore(t *testing.T) {
	if os.Getenv(childEnv) == t.Name() {
		dir := os.Getenv("FWPUSH_RO_DIR")
		require.NoError(t, syscall.Mount(dir, dir, "", syscall.MS_BIND, ""))
		require.NoError(t, syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""))
		var rs []childResult
		werr := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o600)
		rs = append(rs, childResult{}.note(werr))
		for _, args := range [][]string{
			{"history", "--state", filepath.Join(dir, "runs.db")},
			{"history", "web-1", "--state", filepath.Join(dir, "runs.db")},
			{"history", "--show", os.Getenv("FWPUSH_RO_RUN"), "--state", filepath.Join(dir, "runs.db")},
			{"history", "--state", filepath.Join(dir, "empty.db")},
		} {
			code, out, errOut := fwpush(t, args...)
			rs = append(rs, childResult{Code: code, Out: out, ErrOut: errOut})
		}
		writeResults(t, rs)
		return
	}
	needRoot(t)
	fakeFleet(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "runs.db")
	run := applied(t, state, "web-1")
	before, err := os.ReadFile(state)
	require.NoError(t, err)

	rs := inMountNamespace(t, "FWPUSH_RO_DIR="+dir, "FWPUSH_RO_RUN="+run)
	require.Len(t, rs, 5)
	assert.Equal(t, "EROFS", rs[0].Note, "the store directory is read-only even for root")
	for i, r := range rs[1:] {
		assert.Equal(t, 0, r.Code, "command %d: %s\n%s", i, r.Out, r.ErrOut)
	}
	assert.Contains(t, rs[1].Out, run)
	assert.Contains(t, rs[2].Out, run, "history HOST")
	assert.Contains(t, rs[3].Out, "=== web-1 (linux-nftables): confirmed")
	assert.Contains(t, rs[4].Out, "no runs recorded in "+filepath.Join(dir, "empty.db"))
	after, err := os.ReadFile(state)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.NoFileExists(t, filepath.Join(dir, "empty.db"), "reading created nothing")
}

// note records whether err is EROFS.
func (r childResult) note(err error) childResult {
	r.Note = ""
	if errors.Is(err, syscall.EROFS) {
		r.Note = "EROFS"
	} else if err != nil {
		r.Note = err.Error()
	}
	return r
}

// fillOnFetch fills the disk the moment a device is first read: after
// the run is recorded, before its journal writes the snapshot.
type fillOnFetch struct {
	drivers.Session
	fill func()
}

func (f fillOnFetch) Fetch(ctx context.Context) (drivers.Config, error) {
	f.fill()
	return f.Session.Fetch(ctx)
}

// TestJournalWriteFailure: with the disk full (ENOSPC) the journal cannot
// record the push. That used to end with "recorded as run X" all the
// same. Now no success line is printed, the error names the run store
// and the run, and the exit status is 1. The child puts the store on a
// 1 MiB tmpfs of its own and fills it once the run has started.
func TestJournalWriteFailure(t *testing.T) {
	if os.Getenv(childEnv) == t.Name() {
		var rs []childResult
		for _, format := range []string{"text", "json"} {
			code, out, errOut := fullDiskApply(t, filepath.Join(os.Getenv("FWPUSH_FULL_DIR"), format), format)
			rs = append(rs, childResult{Code: code, Out: out, ErrOut: errOut})
		}
		writeResults(t, rs)
		return
	}
	needRoot(t)
	dir := t.TempDir()
	for _, format := range []string{"text", "json"} {
		require.NoError(t, os.Mkdir(filepath.Join(dir, format), 0o700))
	}
	rs := inMountNamespace(t, "FWPUSH_FULL_DIR="+dir)
	require.Len(t, rs, 2)
	text, js := rs[0], rs[1]
	assert.Equal(t, exitError, text.Code, "%s\n%s", text.Out, text.ErrOut)
	assert.NotContains(t, text.Out, "recorded as run")
	assert.Contains(t, text.ErrOut, "no space left on device")
	store := filepath.Join(dir, "text", "runs.db")
	assert.Regexp(t, regexp.MustCompile(`run \S+ is not fully recorded in the run store `+regexp.QuoteMeta(store)+`: \d+ journal writes failed`), text.ErrOut)

	assert.Equal(t, exitError, js.Code, js.ErrOut)
	var res struct {
		Run        string
		Unrecorded []string
	}
	require.NoError(t, json.Unmarshal([]byte(js.Out), &res), "%s\n%s", js.Out, js.ErrOut)
	assert.NotEmpty(t, res.Unrecorded)
	for _, u := range res.Unrecorded {
		assert.Contains(t, u, "no space left on device")
	}
	assert.Contains(t, js.ErrOut, "run "+res.Run+" is not fully recorded in the run store "+filepath.Join(dir, "json", "runs.db"))
}

// fullDiskApply mounts a 1 MiB tmpfs on dir, and applies the webapp fleet
// with the store there; the disk fills up as the first device is read.
func fullDiskApply(t *testing.T, dir, format string) (int, string, string) {
	require.NoError(t, syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"))
	devs := fakeFleet(t)
	var once sync.Once
	fill := func() { // on a device's goroutine: report with Errorf only
		once.Do(func() {
			f, err := os.Create(filepath.Join(dir, "filler"))
			if err != nil {
				t.Errorf("filler: %v", err)
				return
			}
			defer f.Close()
			block := make([]byte, 4096)
			for range 1 << 10 {
				if _, err := f.Write(block); err != nil {
					if !errors.Is(err, syscall.ENOSPC) {
						t.Errorf("filler: %v, want ENOSPC", err)
					}
					return
				}
			}
			t.Errorf("the tmpfs never filled")
		})
	}
	testOpener = func(*inventory.Inventory) plan.Opener {
		return func(ctx context.Context, host string) (drivers.Session, error) {
			s, err := devs[host].Open(ctx)
			return fillOnFetch{Session: s, fill: fill}, err
		}
	}
	return fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", filepath.Join(dir, "runs.db"), "--format", format)
}
