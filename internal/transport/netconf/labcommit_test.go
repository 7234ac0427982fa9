package netconf_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/transport/netconf"
)

// TestLabConfirmedCommitRevertsWhenTransportDies is A5 without persist: a
// confirmed commit (30 s) whose session dies with its TCP connection is
// reverted by the server at once, and its lock released.
func TestLabConfirmedCommitRevertsWhenTransportDies(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pusher := e.open(t, ctx)
	commit(t, ctx, pusher.Session, "before", netconf.CommitOptions{})
	require.NoError(t, pusher.Lock(ctx, netconf.Candidate))
	require.NoError(t, pusher.EditConfig(ctx, netconf.Candidate, hwConfig("trial"), netconf.Merge))
	require.NoError(t, pusher.Commit(ctx, netconf.CommitOptions{Confirmed: true, ConfirmTimeout: 30 * time.Second}))

	observer := e.open(t, ctx)
	got, err := message(ctx, observer.Session)
	require.NoError(t, err)
	require.Equal(t, "trial", got)

	t0 := time.Now()
	pusher.kill()
	took := waitFor(t, ctx, observer.Session, "before", t0, 5*time.Second, fastPoll)
	t.Logf("reverted %s after the TCP reset", took.Round(time.Millisecond))
	assert.LessOrEqual(t, took, time.Second, "A5: revert within 1 s of the transport dying")

	// The dead session's candidate lock went with it.
	require.NoError(t, observer.Lock(ctx, netconf.Candidate))
	require.NoError(t, observer.Unlock(ctx, netconf.Candidate))
}

// persistedTrial commits "before", then "trial" as a confirmed commit with
// persist, and kills the session's transport. It returns when the commit
// was acknowledged.
func persistedTrial(t *testing.T, ctx context.Context, e *ncLab, timeout time.Duration, persist string) time.Time {
	t.Helper()
	pusher := e.open(t, ctx)
	commit(t, ctx, pusher.Session, "before", netconf.CommitOptions{})
	require.NoError(t, pusher.Lock(ctx, netconf.Candidate))
	require.NoError(t, pusher.EditConfig(ctx, netconf.Candidate, hwConfig("trial"), netconf.Merge))
	require.NoError(t, pusher.Commit(ctx, netconf.CommitOptions{Confirmed: true, ConfirmTimeout: timeout, Persist: persist}))
	committed := time.Now()
	pusher.kill()
	return committed
}

// TestLabPersistedCommitWrongIDRevertsAtDeadline is A5 with persist: the
// trial outlives its session; a new session naming the wrong persist-id is
// refused, and the change reverts at the deadline (A6: within ±5 s).
func TestLabPersistedCommitWrongIDRevertsAtDeadline(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	const window = 10 * time.Second
	committed := persistedTrial(t, ctx, e, window, "fwpush-run-1")
	time.Sleep(time.Second) // long enough for an unpersisted trial to be gone (see the 53 ms above)
	other := e.open(t, ctx)
	got, err := message(ctx, other.Session)
	require.NoError(t, err)
	require.Equal(t, "trial", got, "a persisted confirmed commit survives its session")

	err = other.Commit(ctx, netconf.CommitOptions{PersistID: "fwpush-run-0"})
	var re *netconf.RPCError
	require.ErrorAs(t, err, &re, "confirming with the wrong persist-id")
	t.Logf("wrong persist-id: %v", err)
	assert.Equal(t, netconf.TagInvalidValue, re.Tag)
	got, err = message(ctx, other.Session)
	require.NoError(t, err)
	require.Equal(t, "trial", got, "a refused confirmation changes nothing")

	took := waitFor(t, ctx, other.Session, "before", committed, window+10*time.Second, idlePoll)
	t.Logf("reverted %s after the confirmed commit (confirm-timeout %s)", took.Round(time.Millisecond), window)
	assert.InDelta(t, window.Seconds(), took.Seconds(), 5, "A6: device-observed deadline within ±5 s")
}

// TestLabPersistedCommitConfirmedFromNewSession is A5's last case: the
// right persist-id from a new session confirms, and the change stays past
// the deadline.
func TestLabPersistedCommitConfirmedFromNewSession(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	const window = 10 * time.Second
	committed := persistedTrial(t, ctx, e, window, "fwpush-run-2")
	other := e.open(t, ctx)
	require.NoError(t, other.Commit(ctx, netconf.CommitOptions{PersistID: "fwpush-run-2"}))

	time.Sleep(time.Until(committed.Add(window + 2*time.Second)))
	got, err := message(ctx, other.Session)
	require.NoError(t, err)
	assert.Equal(t, "trial", got, "confirmed with the right persist-id: kept past the deadline")
	// Nothing left to cancel.
	var re *netconf.RPCError
	require.ErrorAs(t, other.CancelCommit(ctx, "fwpush-run-2"), &re)
	t.Logf("cancel after confirm: %v", re)
}

// TestLabConfirmTimeoutHonoured is A6 for NETCONF: confirm-timeout goes
// out in seconds, and the server reverts an unconfirmed commit of a live
// session at that deadline.
func TestLabConfirmTimeoutHonoured(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	const window = 10 * time.Second
	pusher := e.open(t, ctx)
	commit(t, ctx, pusher.Session, "before", netconf.CommitOptions{})
	commit(t, ctx, pusher.Session, "trial", netconf.CommitOptions{Confirmed: true, ConfirmTimeout: window})
	committed := time.Now()
	took := waitFor(t, ctx, pusher.Session, "before", committed, window+10*time.Second, idlePoll)
	t.Logf("reverted %s after the confirmed commit (confirm-timeout %s)", took.Round(time.Millisecond), window)
	assert.InDelta(t, window.Seconds(), took.Seconds(), 5, "A6: device-observed deadline within ±5 s")
	assert.Nil(t, pusher.Err(), "the session outlives its reverted commit")
}

// TestLabCancelCommit reverts a persisted trial at once from another
// session.
func TestLabCancelCommit(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	persistedTrial(t, ctx, e, 60*time.Second, "fwpush-run-3")
	other := e.open(t, ctx)
	require.NoError(t, other.CancelCommit(ctx, "fwpush-run-3"))
	got, err := message(ctx, other.Session)
	require.NoError(t, err)
	assert.Equal(t, "before", got)
}
