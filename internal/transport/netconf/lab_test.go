package netconf_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/transport/netconf"
	fwssh "github.com/fwpush/fwpush/internal/transport/ssh"
	"github.com/fwpush/fwpush/testbed"
)

// These tests run against yuma123's netconfd (Debian package netconfd)
// behind a lab host's sshd, editing the helloworld example module
// shipped with it: one leaf, /helloworld/message.

const (
	labAddr = "198.18.5.10"
	hwNS    = "http://helloworld.com/ns/helloworld"
	hwFilt  = `<helloworld xmlns="` + hwNS + `"/>`
)

func hwConfig(msg string) string {
	return `<helloworld xmlns="` + hwNS + `"><message>` + msg + `</message></helloworld>`
}

// ncLab is one lab host running netconfd.
type ncLab struct {
	lab *testbed.Lab
	nd  *testbed.Netconfd
}

func startNetconfLab(t *testing.T) *ncLab {
	t.Helper()
	lab := testbed.StartT(t, []testbed.HostSpec{{
		Name:  "nc",
		Addrs: []netip.Prefix{netip.MustParsePrefix(labAddr + "/15")},
	}}, testbed.WithNetconfSubsystem())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nd, err := lab.StartNetconfd(ctx, "nc", "--module=helloworld")
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("netconfd log:\n%s", nd.LogTail())
		}
	})
	return &ncLab{lab: lab, nd: nd}
}

// conn is a session plus its TCP connection, which kill resets.
type conn struct {
	*netconf.Session
	mu  sync.Mutex
	tcp net.Conn
}

// kill drops the transport the way a crashed controller or a cut link
// does: a TCP reset, no close-session, no SSH disconnect.
func (c *conn) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc, ok := c.tcp.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.tcp.Close()
}

func (e *ncLab) sshConfig(c *conn) fwssh.Config {
	return fwssh.Config{
		Host:            labAddr,
		Port:            22, // the lab's sshd serves the subsystem on 22, not 830
		User:            "root",
		IdentityFiles:   []string{e.lab.ClientKeyPath()},
		KnownHostsFiles: []string{e.lab.KnownHostsPath()},
		SSHConfigFile:   "none",
		ConnectTimeout:  10 * time.Second,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := e.lab.DialContext(ctx, network, addr)
			c.mu.Lock()
			c.tcp = nc
			c.mu.Unlock()
			return nc, err
		},
	}
}

func (e *ncLab) open(t *testing.T, ctx context.Context, opts ...netconf.Option) *conn {
	t.Helper()
	c := &conn{}
	cfg := e.sshConfig(c)
	// Every test session pays the settle, so chunked framing (the
	// default) is exercised everywhere without tripping netconfd's
	// hello bug (TestLabNetconfdChunkedAfterHelloQuirk).
	opts = append([]netconf.Option{netconf.WithHelloSettle(250 * time.Millisecond)}, opts...)
	s, err := netconf.Dial(ctx, cfg, opts...)
	require.NoError(t, err)
	c.Session = s
	t.Cleanup(func() { s.Close() })
	return c
}

// message reads /helloworld/message from running.
func message(ctx context.Context, s *netconf.Session) (string, error) {
	data, err := s.GetConfig(ctx, netconf.Running, hwFilt)
	if err != nil {
		return "", err
	}
	var v struct {
		Message string `xml:"helloworld>message"`
	}
	if err := xml.Unmarshal([]byte("<data>"+data+"</data>"), &v); err != nil {
		return "", err
	}
	return v.Message, nil
}

// commit puts msg in running, under a candidate lock. No <validate>
// first: see TestLabNetconfdValidateQuirk.
func commit(t *testing.T, ctx context.Context, s *netconf.Session, msg string, o netconf.CommitOptions) {
	t.Helper()
	require.NoError(t, s.Lock(ctx, netconf.Candidate))
	require.NoError(t, s.EditConfig(ctx, netconf.Candidate, hwConfig(msg), netconf.Merge))
	require.NoError(t, s.Commit(ctx, o))
	require.NoError(t, s.Unlock(ctx, netconf.Candidate))
}

// Polling intervals for waitFor. netconfd checks confirmed-commit
// deadlines only when a whole second passes with no traffic on any of its
// sessions (agt_ncxserver_run: the check runs on select's 1 s timeout), so
// a watcher of a deadline must leave gaps longer than that, or it keeps
// the revert from ever happening (TestLabNetconfdDeadlineStarvedByTraffic).
// Session ends are handled at once, so a fast poll is fine for those.
const (
	fastPoll = 50 * time.Millisecond
	idlePoll = 2 * time.Second
)

// waitFor polls running through s every interval until it reads want or
// limit passes, and returns how long that took from since.
func waitFor(t *testing.T, ctx context.Context, s *netconf.Session, want string, since time.Time, limit, interval time.Duration) time.Duration {
	t.Helper()
	deadline := time.Now().Add(limit)
	for i := 0; ; i++ {
		got, err := message(ctx, s)
		require.NoError(t, err)
		if got == want {
			return time.Since(since)
		}
		if time.Now().After(deadline) || i > int(limit/interval)+10 {
			t.Fatalf("running still says %q after %s, want %q", got, time.Since(since).Round(time.Millisecond), want)
		}
		time.Sleep(interval)
	}
}

// TestLabHello checks what netconfd offers and that both framings carry a
// real exchange.
func TestLabHello(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s11 := e.open(t, ctx)
	s10 := e.open(t, ctx, netconf.WithEOMFraming())
	t.Logf("netconfd capabilities:\n%s", strings.Join(s11.Capabilities(), "\n"))
	assert.Equal(t, "chunked", s11.Framing())
	assert.Equal(t, "end-of-message", s10.Framing())
	for _, c := range []string{netconf.CapBase11, netconf.CapCandidate, netconf.CapConfirmedCommit11, netconf.CapValidate11} {
		assert.True(t, s11.HasCapability(c), c)
	}
	assert.NotEqual(t, s10.ID(), s11.ID())

	commit(t, ctx, s11.Session, "hello-1.1", netconf.CommitOptions{})
	got, err := message(ctx, s10.Session)
	require.NoError(t, err)
	assert.Equal(t, "hello-1.1", got)
	commit(t, ctx, s10.Session, "hello-1.0", netconf.CommitOptions{})
	got, err = message(ctx, s11.Session)
	require.NoError(t, err)
	assert.Equal(t, "hello-1.0", got)

	// A large message spans many SSH packets and, from the server, many
	// reads of netconf-subsystem's 2000-byte buffer.
	big := strings.Repeat("x", 200<<10)
	commit(t, ctx, s11.Session, big, netconf.CommitOptions{})
	for _, s := range []*conn{s10, s11} {
		got, err = message(ctx, s.Session)
		require.NoError(t, err)
		assert.True(t, got == big, "%s framing: read back %d bytes, want %d", s.Framing(), len(got), len(big))
	}

	// A schema error comes back as a parsed rpc-error, and discard-changes
	// clears the candidate it left.
	err = s11.EditConfig(ctx, netconf.Candidate, `<helloworld xmlns="`+hwNS+`"><nosuch>1</nosuch></helloworld>`, "")
	var re *netconf.RPCError
	require.ErrorAs(t, err, &re)
	t.Logf("bad edit: %v", err)
	assert.Equal(t, "error", re.Severity)
	assert.NotEmpty(t, re.Tag)
	require.NoError(t, s11.DiscardChanges(ctx))

	require.NoError(t, s10.CloseSession(ctx))
	require.ErrorIs(t, s10.Lock(ctx, netconf.Candidate), netconf.ErrClosed)
}

// TestLabLockHeldFailsFast is A15's NETCONF half: a second session's lock
// is refused at once, naming the holder; kill-session then frees it.
func TestLabLockHeldFailsFast(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	holder := e.open(t, ctx)
	other := e.open(t, ctx)
	require.NoError(t, holder.Lock(ctx, netconf.Candidate))
	require.NoError(t, holder.Lock(ctx, netconf.Running))

	_, err := message(ctx, other.Session) // past the hello settle, so only the lock is timed
	require.NoError(t, err)
	for _, ds := range []netconf.Datastore{netconf.Candidate, netconf.Running} {
		lctx, lcancel := context.WithTimeout(ctx, 2*time.Second)
		t0 := time.Now()
		err := other.Lock(lctx, ds)
		took := time.Since(t0)
		lcancel()
		t.Logf("lock %s: %v (%s)", ds, err, took.Round(time.Microsecond))
		var re *netconf.RPCError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, netconf.TagLockDenied, re.Tag)
		id, ok := re.LockHolder()
		assert.True(t, ok)
		assert.Equal(t, holder.ID(), id)
		assert.Contains(t, err.Error(), fmt.Sprintf("held by session-id %d", holder.ID()))
		assert.Less(t, took, 500*time.Millisecond, "lock contention fails fast")
	}

	require.NoError(t, other.KillSession(ctx, holder.ID()))
	select {
	case <-holder.Done():
		t.Logf("killed session ended: %v", holder.Err())
	case <-time.After(5 * time.Second):
		t.Fatal("killed session still up after 5 s")
	}
	require.NoError(t, other.Lock(ctx, netconf.Candidate), "kill-session released the lock")
}
