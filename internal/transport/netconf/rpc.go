package netconf

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/logging"
)

// readLoop hands each rpc-reply to the call waiting for its message-id.
func (s *Session) readLoop() {
	for {
		msg, err := s.dec.read()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: connection closed by the server: %w", fault.ErrUnreachable, err)
			}
			s.fail(err)
			return
		}
		root, id := peek(msg)
		if root != "rpc-reply" {
			continue // notifications: fwpush subscribes to none
		}
		s.mu.Lock()
		ch, ok := s.pending[id]
		if !ok && id == "" && len(s.pending) == 1 {
			// A reply to an rpc the server could not parse may lack the
			// message-id (RFC 6241 §4.1 missing-attribute); with one call
			// in flight it can only be that call's.
			for _, c := range s.pending {
				ch, ok = c, true
			}
		}
		s.mu.Unlock()
		if ok {
			select {
			case ch <- msg:
			default: // a duplicate reply; the first one counts
			}
		}
	}
}

// peek returns the local name of msg's root element and its message-id.
func peek(msg []byte) (root, id string) {
	d := xml.NewDecoder(bytes.NewReader(msg))
	for range 64 {
		tok, err := d.RawToken()
		if err != nil {
			return "", ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "message-id" {
					id = a.Value
				}
			}
			return se.Name.Local, id
		}
	}
	return "", ""
}

type rpcMsg struct {
	XMLName   xml.Name `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 rpc"`
	MessageID string   `xml:"message-id,attr"`
	Op        any
}

// rawRPC is an rpc whose operation is XML given as text.
type rawRPC struct {
	XMLName   xml.Name `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 rpc"`
	MessageID string   `xml:"message-id,attr"`
	Body      string   `xml:",innerxml"`
}

// rawOp marks an operation given as XML text (see Session.Call).
type rawOp string

type replyMsg struct {
	Inner  string     `xml:",innerxml"`
	Errors []RPCError `xml:"rpc-error"`
	OK     *struct{}  `xml:"ok"`
	Data   *struct {
		Inner string `xml:",innerxml"`
	} `xml:"data"`
}

// call sends op and waits for its reply. mutating says the operation
// changes server state, so a lost reply makes its outcome indeterminate.
func (s *Session) call(ctx context.Context, op any, mutating bool) (*replyMsg, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err)
	}
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	var b []byte
	var err error
	if r, ok := op.(rawOp); ok {
		b, err = xml.Marshal(rawRPC{MessageID: id, Body: string(r)})
	} else {
		b, err = xml.Marshal(rpcMsg{MessageID: id, Op: op})
	}
	if err != nil {
		return nil, err
	}
	msg, err := encode(b, s.chunked)
	if err != nil {
		return nil, err
	}
	ch := make(chan []byte, 1)
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return nil, err
	}
	s.pending[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()

	if wait := time.Until(s.notBefore); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting out the hello settle: %w", ctxErr(ctx.Err()))
		}
	}
	log := logging.From(ctx).With("device", s.name, "message_id", id)
	log.Debug("netconf rpc", "rpc", string(b))
	if err := s.send(ctx, msg); err != nil {
		return nil, lost(err, mutating)
	}
	select {
	case raw := <-ch:
		log.Debug("netconf reply", "reply", debugClip(raw))
		return parseReply(raw)
	case <-s.done:
		select {
		case raw := <-ch: // the reply beat the end of the session
			return parseReply(raw)
		default:
		}
		return nil, lost(s.Err(), mutating)
	case <-ctx.Done():
		// The session stays usable: the late reply is dropped on arrival.
		return nil, lost(fmt.Errorf("no reply: %w", ctxErr(ctx.Err())), mutating)
	}
}

func parseReply(raw []byte) (*replyMsg, error) {
	var r replyMsg
	if err := xml.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("bad reply: %w: %s", err, clip(raw))
	}
	if err := replyError(r.Errors); err != nil {
		return nil, err
	}
	return &r, nil
}

// send writes one framed message. A write cut short by ctx leaves half a
// message on the stream, so the session ends.
func (s *Session) send(ctx context.Context, msg []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		s.fail(fmt.Errorf("write interrupted: %w", ctxErr(ctx.Err())))
	})
	_, err := s.rwc.Write(msg)
	if !stop() {
		return s.Err()
	}
	if err != nil {
		err = fmt.Errorf("%w: write: %w", fault.ErrUnreachable, err)
		s.fail(err)
		return err
	}
	return nil
}

// lost marks an error after which the server may or may not have acted.
func lost(err error, mutating bool) error {
	if mutating && !errors.Is(err, fault.ErrIndeterminate) {
		return fmt.Errorf("%w: %w", fault.ErrIndeterminate, err)
	}
	return err
}

// ctxErr maps a context error: a passed deadline is fault.ErrTimeout.
func ctxErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", fault.ErrTimeout, err)
	}
	return err
}

func ioErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctxErr(ctx.Err()))
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w: %w", what, fault.ErrUnreachable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// clip shortens server text quoted in errors.
func clip(b []byte) string {
	const n = 300
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// validText reports whether s is safe to place in an element unescaped by
// a server that trims: no surrounding space, no control characters.
func validText(s string) bool {
	if strings.TrimSpace(s) != s {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// debugClip bounds one reply in a debug log.
func debugClip(b []byte) string {
	const n = 8 << 10
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
