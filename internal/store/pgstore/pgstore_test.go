package pgstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/pgtest"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/internal/store/pgstore"
	"github.com/fwpush/fwpush/internal/store/storetest"
)

// TestConformance: the PostgreSQL store passes the suite the bbolt store
// passes, each case in a database of its own; a second Store on the same
// database plays a second controller.
func TestConformance(t *testing.T) {
	c := pgtest.StartT(t)
	storetest.Conformance(t, storetest.Opener{
		Open: func(t *testing.T) store.Backend {
			st, err := pgstore.Open(c.NewDB(t))
			require.NoError(t, err)
			return st
		},
		Reopen: func(t *testing.T, st store.Backend) store.Backend {
			again, err := pgstore.Open(st.(*pgstore.Store).URL())
			require.NoError(t, err)
			return again
		},
	})
}

// TestMigrations: an empty database is migrated to the current version;
// a database left at version 1 with records in it is brought up to date
// with the records intact; opening again changes nothing; a database a
// newer fwpush migrated further is refused, read-only or not.
func TestMigrations(t *testing.T) {
	c := pgtest.StartT(t)
	ctx := context.Background()
	versions := func(t *testing.T, url string) []int {
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, "SELECT version FROM fwpush_schema ORDER BY version")
		require.NoError(t, err)
		v, err := pgx.CollectRows(rows, pgx.RowTo[int])
		require.NoError(t, err)
		return v
	}
	all := make([]int, pgstore.SchemaVersion())
	for i := range all {
		all[i] = i + 1
	}

	t.Run("empty", func(t *testing.T) {
		url := c.NewDB(t)
		st, err := pgstore.Open(url)
		require.NoError(t, err)
		require.NoError(t, st.Close())
		assert.Equal(t, all, versions(t, url))
		st, err = pgstore.Open(url)
		require.NoError(t, err, "opening a current store again")
		require.NoError(t, st.Close())
		assert.Equal(t, all, versions(t, url))
	})
	t.Run("from version 1", func(t *testing.T) {
		url := c.NewDB(t)
		old, err := pgstore.OpenAt(url, 1)
		require.NoError(t, err)
		r := store.NewRun("apply", "at v1")
		require.NoError(t, old.CreateRun(r))
		require.NoError(t, old.PutEntry(store.Entry{Run: r.ID, Host: "web-1", Phase: "apply"}))
		require.NoError(t, old.Close())
		assert.Equal(t, []int{1}, versions(t, url))

		st, err := pgstore.Open(url)
		require.NoError(t, err)
		defer st.Close()
		assert.Equal(t, all, versions(t, url))
		hosts, err := st.UnfinishedHosts()
		require.NoError(t, err)
		assert.Equal(t, []string{"web-1"}, hosts, "records written at version 1 read at the current one")
		got, _, err := st.Run(r.ID)
		require.NoError(t, err)
		assert.Equal(t, "at v1", got.Command)
	})
	t.Run("newer than this fwpush", func(t *testing.T) {
		url := c.NewDB(t)
		st, err := pgstore.Open(url)
		require.NoError(t, err)
		require.NoError(t, st.Close())
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		_, err = conn.Exec(ctx, "INSERT INTO fwpush_schema (version, name) VALUES ($1, 'from the future')", pgstore.SchemaVersion()+1)
		require.NoError(t, err)
		conn.Close(ctx)
		_, err = pgstore.Open(url)
		assert.ErrorContains(t, err, "newer than this fwpush knows")
		_, err = pgstore.OpenReadOnly(url)
		assert.ErrorContains(t, err, "newer than this fwpush knows")
	})
	t.Run("concurrent opens", func(t *testing.T) {
		url := c.NewDB(t)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				st, err := pgstore.Open(url)
				if err == nil {
					err = st.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			require.NoError(t, <-errs)
		}
		assert.Equal(t, all, versions(t, url), "each step once")
	})
}

// TestReadOnly: a read-only store creates nothing in an empty database
// (it reads as empty), and the server refuses its writes.
func TestReadOnly(t *testing.T) {
	c := pgtest.StartT(t)
	url := c.NewDB(t)
	ro, err := pgstore.OpenReadOnly(url)
	require.NoError(t, err)
	defer ro.Close()
	sums, err := ro.Runs(0)
	require.NoError(t, err)
	assert.Empty(t, sums)
	_, _, err = ro.Run("2030")
	assert.ErrorContains(t, err, "no run")
	hosts, err := ro.UnfinishedHosts()
	require.NoError(t, err)
	assert.Empty(t, hosts)
	assert.ErrorContains(t, ro.CreateRun(store.NewRun("apply", "")), "opened read-only")
	_, err = ro.Acquire(store.Lock{Host: "x", Run: "y"})
	assert.ErrorContains(t, err, "opened read-only")

	st, err := pgstore.Open(url)
	require.NoError(t, err)
	defer st.Close()
	r := store.NewRun("apply", "")
	require.NoError(t, st.CreateRun(r))
	got, _, err := ro.Run(r.ID)
	require.NoError(t, err)
	assert.Equal(t, r.ID, got.ID)
	// The session itself is read-only: even SQL that bypassed the
	// store's own check would be refused by the server.
	_, err = ro.ExecForTest("DELETE FROM fwpush_runs")
	assert.ErrorContains(t, err, "read-only transaction")
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"postgres://alice:s3cret@db.example:5432/fwpush":         "postgres://alice:redacted@db.example:5432/fwpush",
		"postgresql://db/fwpush?sslmode=require&password=s3cret": "postgresql://db/fwpush?password=redacted&sslmode=require",
		"postgres:///fwpush?host=/run/postgresql":                "postgres:///fwpush?host=/run/postgresql",
	}
	for in, want := range cases {
		assert.Equal(t, want, pgstore.Redact(in))
	}
	_, err := pgstore.Open("postgres://alice:s3cret@[::1/x")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
}

// TestTwoControllers: two fwpush processes, one PostgreSQL store. A
// records a run and takes a device's lock; B (this process) sees A's run
// at once and is refused the device, naming A's run and user. Then A is
// killed (-9, no chance to release anything): its session ends, and B's
// next Acquire takes the device and reports A's lock as broken.
func TestTwoControllers(t *testing.T) {
	if url := os.Getenv("FWPUSH_PG_HELPER"); url != "" {
		controllerA(url)
		return
	}
	c := pgtest.StartT(t)
	url := c.NewDB(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestTwoControllers$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FWPUSH_PG_HELPER="+url)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var runA string
	select {
	case l := <-lines:
		var ok bool
		runA, ok = strings.CutPrefix(l, "holding ")
		require.True(t, ok, "controller A said %q", l)
	case <-time.After(time.Minute):
		t.Fatal("controller A did not take the lock within a minute")
	}

	b, err := pgstore.Open(url)
	require.NoError(t, err)
	defer b.Close()
	sums, err := b.Runs(0)
	require.NoError(t, err)
	require.Len(t, sums, 1)
	assert.Equal(t, runA, sums[0].ID)
	assert.Equal(t, "alice@ctl-a", sums[0].Who)
	assert.Equal(t, map[string]int{"unfinished": 1}, sums[0].Counts)

	runB := store.NewRun("apply", "controller B")
	require.NoError(t, b.CreateRun(runB))
	_, err = b.Acquire(store.LockFor(runB, "web-1"))
	var le *store.LockedError
	require.True(t, errors.As(err, &le), "%v", err)
	assert.Equal(t, runA, le.Holder.Run)
	assert.True(t, le.Alive)
	assert.Contains(t, err.Error(), "alice@ctl-a")
	assert.Contains(t, err.Error(), "still connected to the shared run store")

	// Killed, not stopped: nothing of A releases the lock but the server.
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	_ = stdin.Close()
	var broken *store.Lock
	deadline := time.Now().Add(30 * time.Second)
	for {
		broken, err = b.Acquire(store.LockFor(runB, "web-1"))
		if err == nil || !errors.As(err, &le) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // the server notices the closed socket
	}
	require.NoError(t, err)
	require.NotNil(t, broken, "A's record is reported as a broken lock")
	assert.Equal(t, runA, broken.Run)
	locks, err := b.Locks()
	require.NoError(t, err)
	require.Len(t, locks, 1)
	assert.Equal(t, runB.ID, locks[0].Run)
}

// controllerA is the helper process: it records a run, locks web-1, says
// so, and waits until killed.
func controllerA(url string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "controller A:", err)
		os.Exit(3)
	}
	st, err := pgstore.Open(url)
	if err != nil {
		fail(err)
	}
	r := store.NewRun("apply", "controller A")
	r.Hostname, r.Who = "ctl-a", "alice@ctl-a"
	if err := st.CreateRun(r); err != nil {
		fail(err)
	}
	if err := st.PutEntry(store.Entry{Run: r.ID, Host: "web-1", Phase: "apply"}); err != nil {
		fail(err)
	}
	if _, err := st.Acquire(store.LockFor(r, "web-1")); err != nil {
		fail(err)
	}
	fmt.Println("holding " + r.ID)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until killed
	os.Exit(0)
}
