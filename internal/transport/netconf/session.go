package netconf

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Base namespace and the capabilities this package looks for.
const (
	NS                   = "urn:ietf:params:xml:ns:netconf:base:1.0"
	CapBase10            = "urn:ietf:params:netconf:base:1.0"
	CapBase11            = "urn:ietf:params:netconf:base:1.1"
	CapCandidate         = "urn:ietf:params:netconf:capability:candidate:1.0"
	CapConfirmedCommit10 = "urn:ietf:params:netconf:capability:confirmed-commit:1.0"
	CapConfirmedCommit11 = "urn:ietf:params:netconf:capability:confirmed-commit:1.1"
	CapValidate10        = "urn:ietf:params:netconf:capability:validate:1.0"
	CapValidate11        = "urn:ietf:params:netconf:capability:validate:1.1"
	CapStartup           = "urn:ietf:params:netconf:capability:startup:1.0"
	CapWritableRunning   = "urn:ietf:params:netconf:capability:writable-running:1.0"
)

// Session is one NETCONF session. Its methods are safe for concurrent use;
// RPCs may be in flight together and replies are matched by message-id.
type Session struct {
	name    string
	rwc     io.ReadWriteCloser
	owned   io.Closer // the SSH connection when Dial made it
	dec     *decoder
	chunked bool
	id      uint32
	caps    []string

	wmu       sync.Mutex // one message on the wire at a time
	notBefore time.Time  // WithHelloSettle: no rpc goes out earlier
	nextID    atomic.Uint64

	mu      sync.Mutex
	pending map[string]chan []byte
	err     error         // why the session ended; set once
	done    chan struct{} // closed when it ends
}

// New starts NETCONF on a stream to the server (an SSH "netconf"
// subsystem channel, usually; see OverSSH and Dial): it exchanges hellos,
// picks the framing (chunked when both sides speak base:1.1, RFC 6242 §4.1)
// and starts reading replies. name is used in errors. On failure rwc is
// closed.
func New(ctx context.Context, name string, rwc io.ReadWriteCloser, opts ...Option) (*Session, error) {
	return newSession(ctx, name, rwc, nil, opts)
}

// newSession is New, also closing owned when the session ends.
func newSession(ctx context.Context, name string, rwc io.ReadWriteCloser, owned io.Closer, opts []Option) (*Session, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			rwc.Close()
			return nil, fmt.Errorf("%s: netconf: %w", name, err)
		}
	}
	s := &Session{
		name:    name,
		rwc:     rwc,
		owned:   owned,
		dec:     newDecoder(rwc, cfg.maxMsg),
		pending: map[string]chan []byte{},
		done:    make(chan struct{}),
	}
	if err := s.hello(ctx, cfg); err != nil {
		rwc.Close()
		return nil, fmt.Errorf("%s: netconf hello: %w", name, err)
	}
	if cfg.settle > 0 {
		s.notBefore = time.Now().Add(cfg.settle)
	}
	go s.readLoop()
	return s, nil
}

type helloMsg struct {
	XMLName   xml.Name `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 hello"`
	Caps      []string `xml:"capabilities>capability"`
	SessionID string   `xml:"session-id,omitempty"`
}

// hello sends ours and reads the server's, both in end-of-message framing.
// x/crypto channels take no deadline, so ctx is enforced by closing rwc.
func (s *Session) hello(ctx context.Context, cfg config) error {
	ours := helloMsg{Caps: []string{CapBase10}}
	if !cfg.eomOnly {
		ours.Caps = append(ours.Caps, CapBase11)
	}
	ours.Caps = append(ours.Caps, cfg.extra...)
	b, err := xml.Marshal(ours)
	if err != nil {
		return err
	}
	msg, err := encode(append([]byte(xml.Header), b...), false)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { s.rwc.Close() })
	if _, err := s.rwc.Write(msg); err != nil {
		stop()
		return ioErr(ctx, "send", err)
	}
	raw, err := s.dec.read()
	if !stop() {
		return ctxErr(ctx.Err())
	}
	if err != nil {
		return ioErr(ctx, "receive", err)
	}
	var theirs helloMsg
	if err := xml.Unmarshal(raw, &theirs); err != nil {
		return fmt.Errorf("server hello: %w: %s", err, clip(raw))
	}
	for _, c := range theirs.Caps {
		if c = strings.TrimSpace(c); c != "" {
			s.caps = append(s.caps, c)
		}
	}
	// RFC 6241 §8.1: the server must send a session-id; without one,
	// kill-session and lock-denied holders mean nothing.
	id, err := strconv.ParseUint(strings.TrimSpace(theirs.SessionID), 10, 32)
	if err != nil || id == 0 {
		return fmt.Errorf("server hello: bad session-id %q", theirs.SessionID)
	}
	s.id = uint32(id)
	switch {
	case !cfg.eomOnly && s.HasCapability(CapBase11):
		s.chunked = true
		s.dec.chunked = true
	case !s.HasCapability(CapBase10):
		return fmt.Errorf("server hello: no common base version (it offers %s)", strings.Join(s.bases(), ", "))
	}
	return nil
}

func (s *Session) bases() []string {
	var out []string
	for _, c := range s.caps {
		if strings.HasPrefix(c, "urn:ietf:params:netconf:base:") {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// ID is the session-id the server assigned; other sessions see it as the
// holder of our locks.
func (s *Session) ID() uint32 { return s.id }

// Name is how errors name the device.
func (s *Session) Name() string { return s.name }

// Capabilities are the server's, as its hello listed them.
func (s *Session) Capabilities() []string { return slices.Clone(s.caps) }

// HasCapability reports whether the server advertised uri, ignoring the
// parameters after '?' on either side.
func (s *Session) HasCapability(uri string) bool {
	uri, _, _ = strings.Cut(uri, "?")
	for _, c := range s.caps {
		if base, _, _ := strings.Cut(c, "?"); base == uri {
			return true
		}
	}
	return false
}

// Framing is "chunked" (base:1.1) or "end-of-message" (base:1.0).
func (s *Session) Framing() string {
	if s.chunked {
		return "chunked"
	}
	return "end-of-message"
}

// Done is closed when the session has ended; Err then says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is nil while the session is up, then why it ended.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the session at once, without <close-session> (see
// CloseSession), and closes the SSH connection if Dial made it. It does
// not wait for the reader: on a shared SSH connection to a dead peer that
// ends only when the keepalive gives up.
func (s *Session) Close() error {
	s.fail(ErrClosed)
	return nil
}

// fail ends the session: every waiting call gets err, later calls get it
// too. Only the first reason is kept.
func (s *Session) fail(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	close(s.done)
	s.pending = nil
	s.mu.Unlock()
	s.rwc.Close()
	if s.owned != nil {
		s.owned.Close()
	}
}
