package netconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fwpush/fwpush/internal/fault"
)

var allCaps = []string{CapBase10, CapBase11, CapCandidate, CapConfirmedCommit10, CapConfirmedCommit11, CapValidate11}

// fakeServer is the server side of one NETCONF session over a net.Pipe;
// the test reads each rpc with next and answers with reply.
type fakeServer struct {
	t       *testing.T
	conn    net.Conn
	dec     *decoder
	chunked bool
	hello   string // the client's hello
	reqs    chan []byte
	wmu     sync.Mutex
}

// newFake starts a session against a server advertising caps (and
// session-id sid unless empty).
func newFake(t *testing.T, caps []string, sid string, opts ...Option) (*Session, *fakeServer, error) {
	t.Helper()
	cli, srv := net.Pipe()
	f := &fakeServer{t: t, conn: srv, dec: newDecoder(srv, DefaultMaxMessageSize), reqs: make(chan []byte, 16)}
	t.Cleanup(func() { srv.Close() })
	var hello strings.Builder
	hello.WriteString(`<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>`)
	for _, c := range caps {
		hello.WriteString("<capability>" + c + "</capability>\n")
	}
	hello.WriteString("</capabilities>")
	if sid != "" {
		hello.WriteString("<session-id>" + sid + "</session-id>")
	}
	hello.WriteString("</hello>")
	go srv.Write([]byte(hello.String() + eom))
	ready := make(chan struct{})
	go func() {
		defer close(f.reqs)
		msg, err := f.dec.read()
		if err != nil {
			close(ready)
			return
		}
		f.hello = string(msg)
		f.chunked = strings.Contains(f.hello, CapBase11) && contains(caps, CapBase11)
		f.dec.chunked = f.chunked
		close(ready)
		for {
			msg, err := f.dec.read()
			if err != nil {
				return
			}
			f.reqs <- msg
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := New(ctx, "dev1", cli, opts...)
	if err == nil {
		<-ready
		t.Cleanup(func() { s.Close() })
	}
	return s, f, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var idRE = regexp.MustCompile(`message-id="([^"]+)"`)

// next returns the next rpc and its message-id.
func (f *fakeServer) next() (string, string) {
	f.t.Helper()
	select {
	case m, ok := <-f.reqs:
		if !ok {
			f.t.Fatal("client closed the session")
		}
		id := idRE.FindStringSubmatch(string(m))
		if id == nil {
			f.t.Fatalf("rpc without message-id: %s", m)
		}
		return string(m), id[1]
	case <-time.After(2 * time.Second):
		f.t.Fatal("no rpc from the client")
	}
	return "", ""
}

// none checks that the client sent nothing.
func (f *fakeServer) none() {
	f.t.Helper()
	select {
	case m := <-f.reqs:
		f.t.Fatalf("client sent %s", m)
	case <-time.After(50 * time.Millisecond):
	}
}

func (f *fakeServer) send(msg string) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	b, err := encode([]byte(msg), f.chunked)
	if err != nil {
		f.t.Error(err)
		return
	}
	f.conn.Write(b)
}

func (f *fakeServer) reply(id, body string) {
	f.send(`<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="` + id + `">` + body + `</rpc-reply>`)
}

func TestHello(t *testing.T) {
	tests := map[string]struct {
		caps        []string
		sid         string
		opts        []Option
		wantFraming string
		wantErr     string
		wantClient  []string // capabilities the client must advertise
		wantNot     []string // and must not
	}{
		"both 1.1": {caps: allCaps, sid: "7", wantFraming: "chunked", wantClient: []string{CapBase10, CapBase11}},
		"server 1.0 only": {
			caps: []string{CapBase10, CapCandidate}, sid: "7", wantFraming: "end-of-message",
		},
		"client EOM only": {
			caps: allCaps, sid: "7", opts: []Option{WithEOMFraming()}, wantFraming: "end-of-message",
			wantClient: []string{CapBase10}, wantNot: []string{CapBase11},
		},
		"extra client capability": {
			caps: allCaps, sid: "7", opts: []Option{WithCapabilities("urn:example:x")}, wantFraming: "chunked",
			wantClient: []string{"urn:example:x"},
		},
		"server 1.1 only, client 1.0 only": {
			caps: []string{CapBase11}, sid: "7", opts: []Option{WithEOMFraming()},
			wantErr: "no common base version",
		},
		"no session-id":   {caps: allCaps, wantErr: `bad session-id ""`},
		"zero session-id": {caps: allCaps, sid: "0", wantErr: `bad session-id "0"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, f, err := newFake(t, tc.caps, tc.sid, tc.opts...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Framing() != tc.wantFraming {
				t.Errorf("Framing() = %s, want %s", s.Framing(), tc.wantFraming)
			}
			if s.ID() != 7 {
				t.Errorf("ID() = %d", s.ID())
			}
			for _, c := range tc.wantClient {
				if !strings.Contains(f.hello, ">"+c+"<") {
					t.Errorf("client hello lacks %s: %s", c, f.hello)
				}
			}
			for _, c := range tc.wantNot {
				if strings.Contains(f.hello, ">"+c+"<") {
					t.Errorf("client hello has %s: %s", c, f.hello)
				}
			}
			// The framing both sides chose carries an rpc.
			errc := make(chan error, 1)
			go func() { errc <- s.Lock(context.Background(), Candidate) }()
			_, id := f.next()
			f.reply(id, "<ok/>")
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestHelloTimeout(t *testing.T) {
	cli, srv := net.Pipe()
	defer srv.Close()
	go func() { // swallow the client's hello, never answer
		buf := make([]byte, 4096)
		for {
			if _, err := srv.Read(buf); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := New(ctx, "dev1", cli)
	if !errors.Is(err, fault.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("took %s", d)
	}
}

// Replies are matched by message-id, not by order; notifications and
// replies nobody waits for are skipped.
func TestMessageIDMatching(t *testing.T) {
	s, f, err := newFake(t, allCaps, "3")
	if err != nil {
		t.Fatal(err)
	}
	type res struct {
		data string
		err  error
	}
	results := make([]chan res, 2)
	for i := range results {
		results[i] = make(chan res, 1)
		go func() {
			d, err := s.GetConfig(context.Background(), Running, fmt.Sprintf(`<f%d xmlns="urn:x"/>`, i))
			results[i] <- res{d, err}
		}()
	}
	byFilter := map[string]string{}
	for range 2 {
		rpc, id := f.next()
		for i := range 2 {
			if strings.Contains(rpc, fmt.Sprintf("<f%d ", i)) {
				byFilter[fmt.Sprint(i)] = id
			}
		}
	}
	f.send(`<notification xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"><eventTime>2026-01-01T00:00:00Z</eventTime></notification>`)
	f.reply("999", "<ok/>")
	f.reply(byFilter["1"], "<data><r>one</r></data>")
	f.reply(byFilter["0"], "<data><r>zero</r></data>")
	for i, want := range []string{"<r>zero</r>", "<r>one</r>"} {
		r := <-results[i]
		if r.err != nil || r.data != want {
			t.Errorf("call %d: %q, %v; want %q", i, r.data, r.err, want)
		}
	}
}

func TestContextDeadline(t *testing.T) {
	s, f, err := newFake(t, allCaps, "3")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	err = s.Lock(ctx, Candidate)
	if !errors.Is(err, fault.ErrTimeout) || !errors.Is(err, fault.ErrIndeterminate) {
		t.Fatalf("lock: %v; want ErrTimeout and ErrIndeterminate", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("lock returned after %s", d)
	}
	_, late := f.next()

	// A read-only call is a plain timeout; the session survives, and
	// the late reply to the lock is not mistaken for this call's.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	_, err = s.GetConfig(ctx2, Running, "")
	if !errors.Is(err, fault.ErrTimeout) || errors.Is(err, fault.ErrIndeterminate) {
		t.Fatalf("get-config: %v; want ErrTimeout only", err)
	}
	f.next()
	errc := make(chan error, 1)
	go func() { errc <- s.Unlock(context.Background(), Candidate) }()
	_, id := f.next()
	f.reply(late, `<rpc-error><error-tag>lock-denied</error-tag><error-severity>error</error-severity></rpc-error>`)
	f.reply(id, "<ok/>")
	if err := <-errc; err != nil {
		t.Fatalf("unlock after the timeouts: %v", err)
	}
}

func TestServerGone(t *testing.T) {
	s, f, err := newFake(t, allCaps, "3")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Commit(context.Background(), CommitOptions{}) }()
	f.next()
	f.conn.Close()
	err = <-errc
	if !errors.Is(err, fault.ErrUnreachable) || !errors.Is(err, fault.ErrIndeterminate) {
		t.Fatalf("commit: %v; want ErrUnreachable and ErrIndeterminate", err)
	}
	if !strings.HasPrefix(err.Error(), "dev1: commit: ") {
		t.Errorf("error does not name device and step: %v", err)
	}
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("Done not closed")
	}
	if err := s.Lock(context.Background(), Candidate); !errors.Is(err, fault.ErrUnreachable) {
		t.Errorf("lock on a dead session: %v", err)
	}
}

func TestClose(t *testing.T) {
	s, _, err := newFake(t, allCaps, "3")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if err := s.Lock(context.Background(), Candidate); !errors.Is(err, ErrClosed) {
		t.Errorf("lock after Close: %v", err)
	}
}

// TestOperationsSent checks what goes on the wire for each operation
// (golden-in), and that invalid requests are refused before sending.
func TestOperationsSent(t *testing.T) {
	const hw = `<helloworld xmlns="http://helloworld.com/ns/helloworld"><message>hi</message></helloworld>`
	tests := map[string]struct {
		caps    []string
		call    func(context.Context, *Session) error
		want    string // the rpc's body; "" when nothing may be sent
		wantErr error  // errors.Is; nil for success
	}{
		"lock": {call: func(ctx context.Context, s *Session) error { return s.Lock(ctx, Candidate) },
			want: `<lock><target><candidate/></target></lock>`},
		"unlock running": {call: func(ctx context.Context, s *Session) error { return s.Unlock(ctx, Running) },
			want: `<unlock><target><running/></target></unlock>`},
		"edit-config": {call: func(ctx context.Context, s *Session) error { return s.EditConfig(ctx, Candidate, hw, Replace) },
			want: `<edit-config><target><candidate/></target><default-operation>replace</default-operation><config>` + hw + `</config></edit-config>`},
		"edit-config test-only": {call: func(ctx context.Context, s *Session) error { return s.TestEdit(ctx, Candidate, hw, Merge) },
			want: `<edit-config><target><candidate/></target><default-operation>merge</default-operation><test-option>test-only</test-option><config>` + hw + `</config></edit-config>`},
		"test-only without validate:1.1": {caps: []string{CapBase11, CapCandidate, CapValidate10},
			call: func(ctx context.Context, s *Session) error { return s.TestEdit(ctx, Candidate, hw, "") }, wantErr: fault.ErrUnsupported},
		"edit-config default op": {call: func(ctx context.Context, s *Session) error { return s.EditConfig(ctx, Candidate, hw, "") },
			want: `<edit-config><target><candidate/></target><config>` + hw + `</config></edit-config>`},
		"get-config with filter": {call: func(ctx context.Context, s *Session) error {
			_, err := s.GetConfig(ctx, Running, `<helloworld xmlns="http://helloworld.com/ns/helloworld"/>`)
			return err
		}, want: `<get-config><source><running/></source><filter type="subtree"><helloworld xmlns="http://helloworld.com/ns/helloworld"/></filter></get-config>`},
		"get-config": {call: func(ctx context.Context, s *Session) error { _, err := s.GetConfig(ctx, Candidate, ""); return err },
			want: `<get-config><source><candidate/></source></get-config>`},
		"validate": {call: func(ctx context.Context, s *Session) error { return s.Validate(ctx, Candidate) },
			want: `<validate><source><candidate/></source></validate>`},
		"discard-changes": {call: func(ctx context.Context, s *Session) error { return s.DiscardChanges(ctx) },
			want: `<discard-changes></discard-changes>`},
		"commit": {call: func(ctx context.Context, s *Session) error { return s.Commit(ctx, CommitOptions{}) },
			want: `<commit></commit>`},
		"confirmed commit, seconds": {call: func(ctx context.Context, s *Session) error {
			return s.Commit(ctx, CommitOptions{Confirmed: true, ConfirmTimeout: 2 * time.Minute})
		}, want: `<commit><confirmed></confirmed><confirm-timeout>120</confirm-timeout></commit>`},
		"confirmed commit, server default": {call: func(ctx context.Context, s *Session) error {
			return s.Commit(ctx, CommitOptions{Confirmed: true})
		}, want: `<commit><confirmed></confirmed></commit>`},
		"persist": {call: func(ctx context.Context, s *Session) error {
			return s.Commit(ctx, CommitOptions{Confirmed: true, ConfirmTimeout: 30 * time.Second, Persist: "run-1"})
		}, want: `<commit><confirmed></confirmed><confirm-timeout>30</confirm-timeout><persist>run-1</persist></commit>`},
		"confirm by persist-id": {call: func(ctx context.Context, s *Session) error {
			return s.Commit(ctx, CommitOptions{PersistID: "run-1"})
		}, want: `<commit><persist-id>run-1</persist-id></commit>`},
		"persist-id escaped": {call: func(ctx context.Context, s *Session) error {
			return s.Commit(ctx, CommitOptions{PersistID: "a<&b"})
		}, want: `<commit><persist-id>a&lt;&amp;b</persist-id></commit>`},
		"cancel-commit": {call: func(ctx context.Context, s *Session) error { return s.CancelCommit(ctx, "run-1") },
			want: `<cancel-commit><persist-id>run-1</persist-id></cancel-commit>`},
		"cancel own commit": {call: func(ctx context.Context, s *Session) error { return s.CancelCommit(ctx, "") },
			want: `<cancel-commit></cancel-commit>`},
		"kill-session": {call: func(ctx context.Context, s *Session) error { return s.KillSession(ctx, 42) },
			want: `<kill-session><session-id>42</session-id></kill-session>`},
		"close-session": {call: func(ctx context.Context, s *Session) error { return s.CloseSession(ctx) },
			want: `<close-session></close-session>`},
		"raw call": {call: func(ctx context.Context, s *Session) error {
			got, err := s.Call(ctx, "commit-configuration", `<commit-configuration><confirmed/><confirm-timeout>2</confirm-timeout></commit-configuration>`, true)
			if err == nil && got != "<ok/>" {
				err = fmt.Errorf("reply content %q, want <ok/>", got)
			}
			return err
		}, want: `<commit-configuration><confirmed/><confirm-timeout>2</confirm-timeout></commit-configuration>`},
		"raw call, malformed": {call: func(ctx context.Context, s *Session) error {
			_, err := s.Call(ctx, "x", `<a><b></a>`, false)
			return err
		}, wantErr: errAny},

		"sub-second timeout": {call: func(ctx context.Context, s *Session) error {
			return s.Commit(ctx, CommitOptions{Confirmed: true, ConfirmTimeout: 1500 * time.Millisecond})
		}, wantErr: errAny},
		"timeout without confirmed": {call: func(ctx context.Context, s *Session) error {
			return s.Commit(ctx, CommitOptions{ConfirmTimeout: 30 * time.Second})
		}, wantErr: errAny},
		"persist without confirmed": {call: func(ctx context.Context, s *Session) error {
			return s.Commit(ctx, CommitOptions{Persist: "x"})
		}, wantErr: errAny},
		"persist on 1.0 server": {caps: []string{CapBase11, CapCandidate, CapConfirmedCommit10},
			call: func(ctx context.Context, s *Session) error {
				return s.Commit(ctx, CommitOptions{Confirmed: true, Persist: "x"})
			}, wantErr: fault.ErrUnsupported},
		"confirmed without capability": {caps: []string{CapBase11, CapCandidate},
			call: func(ctx context.Context, s *Session) error {
				return s.Commit(ctx, CommitOptions{Confirmed: true})
			}, wantErr: fault.ErrUnsupported},
		"cancel-commit on 1.0 server": {caps: []string{CapBase11, CapCandidate, CapConfirmedCommit10},
			call: func(ctx context.Context, s *Session) error { return s.CancelCommit(ctx, "") }, wantErr: fault.ErrUnsupported},
		"validate without capability": {caps: []string{CapBase11, CapCandidate},
			call: func(ctx context.Context, s *Session) error { return s.Validate(ctx, Candidate) }, wantErr: fault.ErrUnsupported},
		"malformed config": {call: func(ctx context.Context, s *Session) error {
			return s.EditConfig(ctx, Candidate, `<a><b></a>`, "")
		}, wantErr: errAny},
		"bad datastore": {call: func(ctx context.Context, s *Session) error { return s.Lock(ctx, "<x/>") }, wantErr: errAny},
		"bad default op": {call: func(ctx context.Context, s *Session) error {
			return s.EditConfig(ctx, Candidate, hw, "delete")
		}, wantErr: errAny},
		"kill own session": {call: func(ctx context.Context, s *Session) error { return s.KillSession(ctx, 3) }, wantErr: errAny},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			caps := tc.caps
			if caps == nil {
				caps = allCaps
			}
			s, f, err := newFake(t, caps, "3")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- tc.call(ctx, s) }()
			if tc.want == "" {
				err := <-errc
				if err == nil || (tc.wantErr != errAny && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "dev1: ") {
					t.Errorf("error does not name the device: %v", err)
				}
				f.none()
				return
			}
			rpc, id := f.next()
			wantRPC := `<rpc xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="` + id + `">` + tc.want + `</rpc>`
			if rpc != wantRPC {
				t.Errorf("sent\n%s\nwant\n%s", rpc, wantRPC)
			}
			if strings.HasPrefix(tc.want, "<get-config>") {
				f.reply(id, "<data/>")
			} else {
				f.reply(id, "<ok/>")
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// errAny marks a table case that must fail, whatever the error.
var errAny = errors.New("any error")

func TestHelloSettle(t *testing.T) {
	s, f, err := newFake(t, allCaps, "3", WithHelloSettle(150*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- s.Lock(context.Background(), Candidate) }()
	_, id := f.next()
	if d := time.Since(t0); d < 100*time.Millisecond {
		t.Errorf("first rpc went out %s after the hello", d)
	}
	f.reply(id, "<ok/>")
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// A deadline inside the settle fails without sending anything.
	s2, f2, err := newFake(t, allCaps, "4", WithHelloSettle(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s2.Lock(ctx, Candidate); !errors.Is(err, fault.ErrTimeout) || errors.Is(err, fault.ErrIndeterminate) {
		t.Errorf("lock during the settle: %v; want a plain timeout", err)
	}
	f2.none()
}
