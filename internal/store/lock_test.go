package store_test

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/store"
)

func TestLockHolderNamed(t *testing.T) {
	st := open(t)
	a, b := store.NewRun("apply", ""), store.NewRun("rollback", "")
	b.ID += "b"
	broken, err := st.Acquire(store.LockFor(a, "web-1"))
	require.NoError(t, err)
	assert.Nil(t, broken)
	_, err = st.Acquire(store.LockFor(a, "web-1"))
	require.NoError(t, err, "re-acquiring one's own lock")

	_, err = st.Acquire(store.LockFor(b, "web-1"))
	var le *store.LockedError
	require.True(t, errors.As(err, &le), err)
	assert.Equal(t, a.ID, le.Holder.Run)
	for _, want := range []string{a.ID, "pid " + strconv.Itoa(os.Getpid()), a.Who, time.Now().UTC().Format("2006-01-02")} {
		assert.Contains(t, err.Error(), want)
	}

	require.NoError(t, st.Release("web-1", b.ID), "another run's release is a no-op")
	locks, err := st.Locks()
	require.NoError(t, err)
	require.Len(t, locks, 1)
	assert.Equal(t, a.ID, locks[0].Run)
	require.NoError(t, st.Release("web-1", a.ID))
	_, err = st.Acquire(store.LockFor(b, "web-1"))
	require.NoError(t, err)
}

func TestStaleLockBroken(t *testing.T) {
	st := open(t)
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	a, b := store.NewRun("apply", ""), store.NewRun("apply", "")
	b.ID += "b"
	a.PID = dead.Process.Pid // a controller that was kill -9'd
	_, err := st.Acquire(store.LockFor(a, "db-1"))
	require.NoError(t, err)
	broken, err := st.Acquire(store.LockFor(b, "db-1"))
	require.NoError(t, err)
	require.NotNil(t, broken)
	assert.Equal(t, a.ID, broken.Run)
	locks, err := st.Locks()
	require.NoError(t, err)
	assert.Equal(t, b.ID, locks[0].Run)
}

func TestOtherMachinesLockIsNeverBroken(t *testing.T) {
	st := open(t)
	a, b := store.NewRun("apply", ""), store.NewRun("apply", "")
	b.ID += "b"
	a.Hostname, a.PID = "elsewhere.invalid", 1<<30
	_, err := st.Acquire(store.LockFor(a, "db-1"))
	require.NoError(t, err)
	_, err = st.Acquire(store.LockFor(b, "db-1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another machine")
}
