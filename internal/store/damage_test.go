package store_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/fwpush/fwpush/internal/store"
)

// corrupt overwrites one record of a closed store with bytes that are not
// JSON, the way a bad disk block or a hand edit leaves it.
func corrupt(t *testing.T, path string, bucket ...string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket[0]))
		for _, name := range bucket[1 : len(bucket)-1] {
			b = b.Bucket([]byte(name))
		}
		return b.Put([]byte(bucket[len(bucket)-1]), []byte(`{"id": "trunc`))
	}))
}

// TestCorruptRecordSkipped: one damaged run record and one damaged entry
// do not make the whole history unreadable: listings skip them and name
// each once in Skipped; asking for the damaged run itself is an error
// naming it.
func TestCorruptRecordSkipped(t *testing.T) {
	st := open(t)
	var ids []string
	for i, host := range []string{"web-1", "web-2", "web-3"} {
		r := store.NewRun("apply", "")
		r.ID = store.NewRunID(time.Date(2030, 1, 1, i, 0, 0, 0, time.UTC))
		require.NoError(t, st.CreateRun(r))
		require.NoError(t, st.PutEntry(store.Entry{Run: r.ID, Host: host, Phase: "apply", Before: cfg("")}))
		require.NoError(t, st.PutEntry(store.Entry{Run: r.ID, Host: "db-1", Phase: "confirm", Outcome: "confirmed"}))
		ids = append(ids, r.ID)
	}
	require.NoError(t, st.CreateRun(store.NewRun("apply", "")))
	_, err := st.Acquire(store.Lock{Host: "web-9", Run: ids[0], PID: 1, Hostname: "elsewhere"})
	require.NoError(t, err)
	corrupt(t, st.Path(), "runs", ids[1])
	corrupt(t, st.Path(), "entries", ids[2], "web-3")
	corrupt(t, st.Path(), "locks", "web-9")

	for name, s := range map[string]func() *store.Store{
		"writable":  func() *store.Store { return st },
		"read-only": func() *store.Store { r, err := store.OpenReadOnly(st.Path()); require.NoError(t, err); return r },
	} {
		t.Run(name, func(t *testing.T) {
			st := s()
			sums, err := st.Runs(0)
			require.NoError(t, err)
			var got []string
			for _, sm := range sums {
				got = append(got, sm.ID)
				if sm.ID == ids[2] {
					assert.Equal(t, map[string]int{"confirmed": 1}, sm.Counts, "the damaged entry is not counted")
				}
			}
			assert.Len(t, got, 3)
			assert.NotContains(t, got, ids[1])

			es, err := st.HostEntries("web-3")
			require.NoError(t, err)
			assert.Empty(t, es)
			es, err = st.HostEntries("db-1")
			require.NoError(t, err)
			assert.Len(t, es, 3, "db-1's entries are intact")
			byID, err := st.RunsByID(ids)
			require.NoError(t, err)
			assert.Len(t, byID, 2)
			hosts, err := st.UnfinishedHosts()
			require.NoError(t, err)
			assert.Equal(t, []string{"web-1", "web-2"}, hosts, "web-3's entry is damaged (web-2's run record is, not its entry)")
			locks, err := st.Locks()
			require.NoError(t, err)
			assert.Empty(t, locks)

			_, _, err = st.Run(ids[1])
			require.Error(t, err)
			assert.Contains(t, err.Error(), "run "+ids[1]+": unreadable record")

			var skipped []string
			for _, b := range st.Skipped() {
				skipped = append(skipped, b.String())
				assert.Equal(t, st.Path(), b.Path)
			}
			joined := strings.Join(skipped, "\n")
			assert.Contains(t, joined, "record runs/"+ids[1]+" is unreadable, skipped")
			assert.Contains(t, joined, "record entries/"+ids[2]+"/web-3 is unreadable, skipped")
			assert.Contains(t, joined, "record locks/web-9 is unreadable, skipped")
			assert.Len(t, skipped, 3, "each named once however often it was read")
		})
	}
	_, err = st.Acquire(store.Lock{Host: "web-9", Run: ids[2]})
	assert.ErrorContains(t, err, "lock web-9", "a lock that cannot be read is not taken over")
}

// TestReadOnlyStoreNeverWrites: a read-only store creates nothing, refuses
// every write, and reads a store without changing a byte of it (or its
// modification time).
func TestReadOnlyStoreNeverWrites(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none", "runs.db")
	ro, err := store.OpenReadOnly(missing)
	require.NoError(t, err)
	sums, err := ro.Runs(0)
	require.NoError(t, err)
	assert.Empty(t, sums)
	_, _, err = ro.Run("2030")
	assert.ErrorContains(t, err, "does not exist")
	assert.NoDirExists(t, filepath.Join(dir, "none"), "reading created nothing")

	st := open(t)
	r := store.NewRun("apply", "")
	require.NoError(t, st.CreateRun(r))
	before, err := os.ReadFile(st.Path())
	require.NoError(t, err)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, os.Chtimes(st.Path(), old, old))

	ro, err = store.OpenReadOnly(st.Path())
	require.NoError(t, err)
	got, _, err := ro.Run(r.ID)
	require.NoError(t, err)
	assert.Equal(t, r.ID, got.ID)
	assert.ErrorContains(t, ro.CreateRun(store.NewRun("apply", "")), "opened read-only")
	assert.ErrorContains(t, ro.PutEntry(store.Entry{Run: r.ID, Host: "x"}), "opened read-only")

	after, err := os.ReadFile(st.Path())
	require.NoError(t, err)
	assert.Equal(t, before, after)
	fi, err := os.Stat(st.Path())
	require.NoError(t, err)
	assert.Equal(t, old, fi.ModTime(), "not opened for writing")
}
