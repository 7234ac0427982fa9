package netconf_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/transport/netconf"
	fwssh "github.com/fwpush/fwpush/internal/transport/ssh"
)

// TestLabNetconfdDeadlineStarvedByTraffic pins down why the deadline
// tests poll slowly: while some session talks to netconfd at least once a
// second, an expired confirmed commit is not reverted.
func TestLabNetconfdDeadlineStarvedByTraffic(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	const window = 5 * time.Second
	pusher := e.open(t, ctx)
	commit(t, ctx, pusher.Session, "before", netconf.CommitOptions{})
	commit(t, ctx, pusher.Session, "trial", netconf.CommitOptions{Confirmed: true, ConfirmTimeout: window})
	committed := time.Now()
	for time.Since(committed) < 2*window {
		got, err := message(ctx, pusher.Session)
		require.NoError(t, err)
		require.Equal(t, "trial", got, "reverted after %s despite traffic every 200 ms", time.Since(committed))
		time.Sleep(200 * time.Millisecond)
	}
	took := waitFor(t, ctx, pusher.Session, "before", committed, 2*window+5*time.Second, idlePoll)
	t.Logf("confirm-timeout %s: reverted only %s after the commit, once traffic stopped at %s", window, took.Round(time.Millisecond), 2*window)
}

// TestLabNetconfdValidateQuirk pins down a netconfd 2.13 bug a driver
// must work around: after <validate> of the candidate, <commit> answers
// <ok/> but applies nothing and resets the candidate to running, so the
// change is silently lost. Validating running instead, or not at all, is
// harmless.
func TestLabNetconfdValidateQuirk(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s := e.open(t, ctx)
	commit(t, ctx, s.Session, "before", netconf.CommitOptions{})
	require.NoError(t, s.EditConfig(ctx, netconf.Candidate, hwConfig("after"), netconf.Merge))
	require.NoError(t, s.Validate(ctx, netconf.Candidate))
	cand, err := s.GetConfig(ctx, netconf.Candidate, hwFilt)
	require.NoError(t, err)
	require.Contains(t, cand, "<message>after</message>", "validate leaves the candidate as edited")
	require.NoError(t, s.Commit(ctx, netconf.CommitOptions{}), "commit says ok")
	got, err := message(ctx, s.Session)
	require.NoError(t, err)
	assert.Equal(t, "before", got, "netconfd 2.13: commit after validate applied nothing")
	cand, err = s.GetConfig(ctx, netconf.Candidate, hwFilt)
	require.NoError(t, err)
	assert.Contains(t, cand, "<message>before</message>", "netconfd 2.13: and dropped the candidate's change")

	require.NoError(t, s.EditConfig(ctx, netconf.Candidate, hwConfig("after"), netconf.Merge))
	require.NoError(t, s.Validate(ctx, netconf.Running))
	require.NoError(t, s.Commit(ctx, netconf.CommitOptions{}))
	got, err = message(ctx, s.Session)
	require.NoError(t, err)
	assert.Equal(t, "after", got, "validating running does not trigger it")
}

// coalesced is a netconf subsystem channel whose first write (the
// client's hello) is held back and sent with the second (the first rpc)
// in one write, as a fast client on a busy link would deliver them.
type coalesced struct {
	io.Reader
	w      io.WriteCloser
	sess   *ssh.Session
	writes int
	held   []byte
}

func (c *coalesced) Write(p []byte) (int, error) {
	c.writes++
	switch c.writes {
	case 1:
		c.held = append([]byte{}, p...)
		return len(p), nil
	case 2:
		p = append(c.held, p...)
	}
	if _, err := c.w.Write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *coalesced) Close() error {
	c.w.Close()
	return c.sess.Close()
}

// TestLabNetconfdRPCWithHelloQuirk pins down the netconfd 2.13 bug
// behind WithHelloSettle: an rpc that reaches netconfd in the same read as
// the client's hello is left unprocessed until the session's next input,
// in both framings; that input then runs it late.
func TestLabNetconfdRPCWithHelloQuirk(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	client, err := fwssh.Dial(ctx, e.sshConfig(&conn{}))
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	watcher := e.open(t, ctx)
	for _, opts := range [][]netconf.Option{nil, {netconf.WithEOMFraming()}} {
		sess, err := client.NewSession()
		require.NoError(t, err)
		stdin, err := sess.StdinPipe()
		require.NoError(t, err)
		stdout, err := sess.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, sess.RequestSubsystem("netconf"))
		s, err := netconf.New(ctx, "nc", &coalesced{Reader: stdout, w: stdin, sess: sess}, opts...)
		require.NoError(t, err)

		lctx, lcancel := context.WithTimeout(ctx, 2*time.Second)
		err = s.Lock(lctx, netconf.Candidate)
		lcancel()
		assert.ErrorIs(t, err, fault.ErrTimeout, "%s: an rpc sent with the hello gets no reply", s.Framing())
		assert.ErrorIs(t, err, fault.ErrIndeterminate)
		require.NoError(t, watcher.Lock(ctx, netconf.Candidate), "%s: nor did it run", s.Framing())
		require.NoError(t, watcher.Unlock(ctx, netconf.Candidate))

		_, err = s.GetConfig(ctx, netconf.Running, hwFilt)
		assert.NoError(t, err, "%s: the next rpc is answered", s.Framing())
		var re *netconf.RPCError
		require.ErrorAs(t, watcher.Lock(ctx, netconf.Candidate), &re, "%s: and the stale lock ran before it", s.Framing())
		id, _ := re.LockHolder()
		assert.Equal(t, s.ID(), id)
		s.Close()
	}
}
