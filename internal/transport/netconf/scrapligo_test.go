package netconf_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scrapli/scrapligo/driver/netconf"
	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/response"
	"github.com/scrapli/scrapligo/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	fwnc "github.com/fwpush/fwpush/internal/transport/netconf"
	fwssh "github.com/fwpush/fwpush/internal/transport/ssh"
)

// The NETCONF client decision (docs/netconf-client.md): these are the
// lab tests of this package (lab_test.go, labcommit_test.go) run through
// github.com/scrapli/scrapligo's NETCONF driver (v1.4.3, the version the
// module requires) instead of fwpush's own client. Only the SSH layer is
// fwpush's: scrapligo's standard transport dials with net.Dial, which
// cannot reach into the lab's namespaces, so a custom transport (its
// documented extension point) opens the "netconf" subsystem on an SSH
// connection made like fwpush's. Everything NETCONF — hello, framing,
// message-ids, replies, errors — is scrapligo's.
//
// Each test asserts what a push needs from its client. Where scrapligo
// cannot provide it the test does not fail (the decision is recorded, the
// suite stays green): it logs "SCRAPLIGO FAILS <what>: <why>" and the
// document lists each.

// scrapli is one scrapligo NETCONF session and the TCP connection under
// it.
type scrapli struct {
	*netconf.Driver
	t *subsystem
}

// subsystem is scrapligo's transport: the netconf subsystem of an SSH
// connection fwpush's transport made through the lab.
type subsystem struct {
	e      *ncLab
	c      conn
	client *fwssh.Client
	sess   *ssh.Session
	r      io.Reader
	w      io.WriteCloser
	alive  bool
	mu     sync.Mutex
}

func (s *subsystem) Open(*transport.Args) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := fwssh.Dial(ctx, s.e.sshConfig(&s.c))
	if err != nil {
		return err
	}
	sess, err := client.NewSession()
	if err != nil {
		client.Close()
		return err
	}
	s.w, _ = sess.StdinPipe()
	s.r, _ = sess.StdoutPipe()
	if err := sess.RequestSubsystem("netconf"); err != nil {
		client.Close()
		return err
	}
	s.client, s.sess, s.alive = client, sess, true
	return nil
}

func (s *subsystem) Close() error {
	s.mu.Lock()
	s.alive = false
	s.mu.Unlock()
	return s.client.Close()
}

func (s *subsystem) IsAlive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alive
}

func (s *subsystem) Read(n int) ([]byte, error) {
	b := make([]byte, n)
	k, err := s.r.Read(b)
	return b[:k], err
}

func (s *subsystem) Write(b []byte) error { _, err := s.w.Write(b); return err }

// scrapligoFails records an assertion of this package's lab tests that
// scrapligo's driver does not meet: it logs it and the verdict lists it,
// without failing the suite (the decision is recorded in
// docs/netconf-client.md; the lab itself must still work).
type scrapligoFails struct {
	t    *testing.T
	what string
}

func (r scrapligoFails) Errorf(format string, args ...any) {
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	r.t.Logf("SCRAPLIGO FAILS %s: %s", r.what, msg)
}

// expect checks one of the original tests' assertions against scrapligo.
func expect(t *testing.T, what string) scrapligoFails { return scrapligoFails{t: t, what: what} }

func (e *ncLab) scrapli(t *testing.T, version string) *scrapli {
	t.Helper()
	tr := &subsystem{e: e}
	d, err := netconf.NewDriver("nc", options.WithCustomTransport(tr), options.WithPort(22),
		options.WithNetconfPreferredVersion(version), options.WithTimeoutOps(15*time.Second))
	require.NoError(t, err)
	require.NoError(t, d.Open())
	// netconfd 2.13 drops an rpc read together with the hello (see
	// TestLabNetconfdRPCWithHelloQuirk); scrapligo has no settle option.
	time.Sleep(250 * time.Millisecond)
	t.Cleanup(func() {
		if tr.IsAlive() {
			_ = tr.Close()
		}
	})
	return &scrapli{Driver: d, t: tr}
}

var messageRE = regexp.MustCompile(`<message>([^<]*)</message>`)

func (s *scrapli) message(t *testing.T) string {
	t.Helper()
	r, err := s.GetConfig("running", opoptions.WithFilter(hwFilt))
	require.NoError(t, err)
	require.NoError(t, r.Failed, r.Result)
	m := messageRE.FindStringSubmatch(r.Result)
	if m == nil {
		return ""
	}
	return m[1]
}

func mustOK(t *testing.T, r *response.NetconfResponse, err error, what string) {
	t.Helper()
	require.NoError(t, err, what)
	require.NoError(t, r.Failed, "%s: %s", what, r.Result)
}

// asRPCError is how the original tests read a device's refusal:
// errors.As into fwpush's *netconf.RPCError.
func asRPCError(r *response.NetconfResponse) (*fwnc.RPCError, bool) {
	var re *fwnc.RPCError
	return re, errors.As(r.Failed, &re)
}

// TestScrapligoHello mirrors TestLabHello.
func TestScrapligoHello(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	s11 := e.scrapli(t, netconf.V1Dot1)
	s10 := e.scrapli(t, netconf.V1Dot0)
	assert.Equal(t, netconf.V1Dot1, s11.SelectedVersion)
	assert.Equal(t, netconf.V1Dot0, s10.SelectedVersion)
	assert.NotEqual(t, s10.SessionID(), s11.SessionID())
	for _, c := range []string{fwnc.CapBase11, fwnc.CapCandidate, fwnc.CapConfirmedCommit11, fwnc.CapValidate11} {
		assert.True(t, s11.ServerHasCapability(c), c)
	}

	for _, c := range []struct {
		s, other *scrapli
		msg      string
	}{{s11, s10, "hello-1.1"}, {s10, s11, "hello-1.0"}} {
		r, err := c.s.Lock("candidate")
		mustOK(t, r, err, "lock")
		r, err = c.s.EditConfig("candidate", "<config>"+hwConfig(c.msg)+"</config>")
		mustOK(t, r, err, "edit-config")
		r, err = c.s.Commit()
		mustOK(t, r, err, "commit")
		r, err = c.s.Unlock("candidate")
		mustOK(t, r, err, "unlock")
		assert.Equal(t, c.msg, c.other.message(t))
	}

	// A large message spans many SSH packets and, from the server, many
	// reads of netconf-subsystem's 2000-byte buffer.
	big := strings.Repeat("x", 200<<10)
	r, err := s11.EditConfig("candidate", "<config>"+hwConfig(big)+"</config>")
	mustOK(t, r, err, "edit-config big")
	r, err = s11.Commit()
	mustOK(t, r, err, "commit big")
	for _, s := range []*scrapli{s10, s11} {
		got := s.message(t)
		assert.True(expect(t, "200 KB message over "+s.SelectedVersion), got == big, "read back %d bytes, want %d", len(got), len(big))
	}

	// A schema error comes back as a parsed rpc-error.
	r, err = s11.EditConfig("candidate", `<config><helloworld xmlns="`+hwNS+`"><nosuch>1</nosuch></helloworld></config>`)
	require.NoError(t, err)
	require.Error(t, r.Failed)
	t.Logf("bad edit: %v", r.Failed)
	re, ok := asRPCError(r)
	if assert.True(expect(t, "rpc-error as a typed error"), ok, "errors.As(%T, *RPCError)", r.Failed) {
		assert.Equal(t, "error", re.Severity)
	}
	r, err = s11.Discard()
	mustOK(t, r, err, "discard")

	// close-session: no operation in scrapligo; a bare RPC carries it.
	r, err = s10.RPC(opoptions.WithFilter("<close-session/>"))
	if assert.NoError(expect(t, "close-session answered"), err) {
		assert.NoError(expect(t, "close-session answered"), r.Failed)
	}
	_, err = s10.Lock("candidate")
	assert.Error(expect(t, "a call on a closed session fails"), err)
}

// TestScrapligoLockHeldFailsFast mirrors TestLabLockHeldFailsFast.
func TestScrapligoLockHeldFailsFast(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	holder := e.scrapli(t, netconf.V1Dot1)
	other := e.scrapli(t, netconf.V1Dot1)
	r, err := holder.Lock("candidate")
	mustOK(t, r, err, "lock candidate")
	r, err = holder.Lock("running")
	mustOK(t, r, err, "lock running")
	_ = other.message(t)
	for _, ds := range []string{"candidate", "running"} {
		t0 := time.Now()
		r, err = other.Lock(ds)
		took := time.Since(t0)
		require.NoError(t, err)
		require.Error(t, r.Failed, "lock %s refused", ds)
		re, ok := asRPCError(r)
		if assert.True(expect(t, "lock-denied as a typed error"), ok, "errors.As(%T, *RPCError)", r.Failed) {
			id, _ := re.LockHolder()
			assert.Equal(t, uint32(holder.SessionID()), id)
		}
		assert.Contains(expect(t, "error text names the holder"), fmt.Sprint(r.Failed), fmt.Sprintf("held by session-id %d", holder.SessionID()))
		assert.Less(t, took, 500*time.Millisecond, "lock contention fails fast")
	}
	// kill-session: no operation in scrapligo; a bare RPC carries it.
	r, err = other.RPC(opoptions.WithFilter(fmt.Sprintf("<kill-session><session-id>%d</session-id></kill-session>", holder.SessionID())))
	mustOK(t, r, err, "kill-session")
	r, err = other.Lock("candidate")
	mustOK(t, r, err, "lock after kill-session")
}

// TestScrapligoConfirmedCommitRevertsWhenTransportDies mirrors
// TestLabConfirmedCommitRevertsWhenTransportDies (A5 without persist),
// then asks the dead session for something, as a push's next step would.
func TestScrapligoConfirmedCommitRevertsWhenTransportDies(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	pusher := e.scrapli(t, netconf.V1Dot1)
	r, err := pusher.EditConfig("candidate", "<config>"+hwConfig("before")+"</config>")
	mustOK(t, r, err, "edit")
	r, err = pusher.Commit()
	mustOK(t, r, err, "commit")
	r, err = pusher.Lock("candidate")
	mustOK(t, r, err, "lock")
	r, err = pusher.EditConfig("candidate", "<config>"+hwConfig("trial")+"</config>")
	mustOK(t, r, err, "edit")
	r, err = pusher.Commit(opoptions.WithCommitConfirmed(), opoptions.WithCommitConfirmTimeout(30))
	mustOK(t, r, err, "confirmed commit")
	observer := e.scrapli(t, netconf.V1Dot1)
	require.Equal(t, "trial", observer.message(t))

	t0 := time.Now()
	pusher.t.c.kill()
	for i := 0; observer.message(t) != "before"; i++ {
		require.Less(t, i, 100, "reverted within 5 s")
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(t0)
	t.Logf("reverted %s after the TCP reset", took.Round(time.Millisecond))
	assert.LessOrEqual(t, took, time.Second, "A5: revert within 1 s of the transport dying")
	r, err = observer.Lock("candidate")
	mustOK(t, r, err, "the dead session's lock went with it")

	// fwpush's client fails every call on an ended session at once
	// (TestServerGone); scrapligo's reader goroutine blocks sending the
	// transport's error to a channel only a call reads.
	done := make(chan error, 1)
	go func() {
		_, err := pusher.GetConfig("running")
		done <- err
	}()
	select {
	case err := <-done:
		t.Logf("call on the dead session: %v", err)
		assert.Error(expect(t, "a call on a dead session fails"), err)
	case <-time.After(20 * time.Second):
		expect(t, "a call on a dead session returns").Errorf("no answer 20 s after the call (operation timeout 15 s)")
	}
}

// TestScrapligoPersistedCommit mirrors the persist cases of
// labcommit_test.go: the wrong persist-id from a new session is refused
// with invalid-value, the right one confirms, cancel-commit reverts.
func TestScrapligoPersistedCommit(t *testing.T) {
	t.Parallel()
	e := startNetconfLab(t)
	trial := func(persist string) {
		pusher := e.scrapli(t, netconf.V1Dot1)
		r, err := pusher.EditConfig("candidate", "<config>"+hwConfig("before")+"</config>")
		mustOK(t, r, err, "edit")
		r, err = pusher.Commit()
		mustOK(t, r, err, "commit")
		r, err = pusher.EditConfig("candidate", "<config>"+hwConfig("trial")+"</config>")
		mustOK(t, r, err, "edit")
		r, err = pusher.Commit(opoptions.WithCommitConfirmed(), opoptions.WithCommitConfirmTimeout(60), opoptions.WithCommitConfirmedPersist(persist))
		mustOK(t, r, err, "persisted confirmed commit")
		pusher.t.c.kill()
		time.Sleep(time.Second)
	}
	trial("fwpush-run-1")
	other := e.scrapli(t, netconf.V1Dot1)
	require.Equal(t, "trial", other.message(t), "a persisted confirmed commit survives its session")
	r, err := other.Commit(opoptions.WithCommitConfirmedPersistID("fwpush-run-0"))
	require.NoError(t, err)
	require.Error(t, r.Failed, "confirming with the wrong persist-id")
	re, ok := asRPCError(r)
	if assert.True(expect(t, "wrong persist-id as a typed error"), ok, "errors.As(%T, *RPCError)", r.Failed) {
		assert.Equal(t, fwnc.TagInvalidValue, re.Tag)
	}
	assert.Equal(t, "trial", other.message(t), "a refused confirmation changes nothing")
	r, err = other.Commit(opoptions.WithCommitConfirmedPersistID("fwpush-run-1"))
	mustOK(t, r, err, "confirm with the right persist-id")

	trial("fwpush-run-3")
	// cancel-commit: no operation in scrapligo; a bare RPC carries it.
	r, err = other.RPC(opoptions.WithFilter("<cancel-commit><persist-id>fwpush-run-3</persist-id></cancel-commit>"))
	mustOK(t, r, err, "cancel-commit")
	assert.Equal(t, "before", other.message(t))
}

// silent is a transport whose server never says anything.
type silent struct{ closed chan struct{} }

func (s *silent) Open(*transport.Args) error { s.closed = make(chan struct{}); return nil }
func (s *silent) Close() error {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	return nil
}
func (s *silent) IsAlive() bool { return true }
func (s *silent) Read(int) ([]byte, error) {
	<-s.closed
	return nil, io.EOF
}
func (s *silent) Write([]byte) error { return nil }

// TestScrapligoHelloTimeout mirrors TestHelloTimeout: a server that never
// sends its hello must not hold the caller past its deadline (here 2 s:
// scrapligo's Open takes no context, its operation timeout is set to it).
func TestScrapligoHelloTimeout(t *testing.T) {
	t.Parallel()
	tr := &silent{}
	d, err := netconf.NewDriver("nc", options.WithCustomTransport(tr), options.WithTimeoutOps(2*time.Second),
		options.WithTimeoutSocket(2*time.Second))
	require.NoError(t, err)
	done := make(chan error, 1)
	t0 := time.Now()
	go func() { done <- d.Open() }()
	select {
	case err := <-done:
		t.Logf("Open without a hello: %v after %s", err, time.Since(t0).Round(time.Millisecond))
		assert.Error(t, err)
		assert.Less(expect(t, "hello bounded by its deadline"), time.Since(t0), 4*time.Second)
	case <-time.After(10 * time.Second):
		expect(t, "hello bounded by its deadline").Errorf("Open still waiting for the hello after 10 s (timeouts 2 s)")
		tr.Close()
	}
}
