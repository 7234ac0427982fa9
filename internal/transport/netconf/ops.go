package netconf

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/internal/fault"
)

// Datastore names a configuration datastore.
type Datastore string

// The datastores of RFC 6241.
const (
	Running   Datastore = "running"
	Candidate Datastore = "candidate"
	Startup   Datastore = "startup"
)

var datastoreRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// DefaultOperation is edit-config's default-operation.
type DefaultOperation string

// The default operations; "" leaves the server's default (merge).
const (
	Merge   DefaultOperation = "merge"
	Replace DefaultOperation = "replace"
	None    DefaultOperation = "none"
)

// raw is XML placed as-is inside an element.
type raw struct {
	Inner string `xml:",innerxml"`
}

func (d Datastore) elem() (raw, error) {
	if !datastoreRE.MatchString(string(d)) {
		return raw{}, fmt.Errorf("datastore %q: want a name like running or candidate", d)
	}
	return raw{"<" + string(d) + "/>"}, nil
}

// Lock locks target for this session (RFC 6241 §7.5). If another session
// holds it the server refuses at once: the *RPCError says lock-denied and
// LockHolder names the holder.
func (s *Session) Lock(ctx context.Context, target Datastore) error {
	t, err := target.elem()
	if err != nil {
		return fmt.Errorf("%s: lock: %w", s.name, err)
	}
	body := struct {
		XMLName xml.Name `xml:"lock"`
		Target  raw      `xml:"target"`
	}{Target: t}
	return s.okCall(ctx, "lock "+string(target), body, true)
}

// Unlock releases a lock this session holds.
func (s *Session) Unlock(ctx context.Context, target Datastore) error {
	t, err := target.elem()
	if err != nil {
		return fmt.Errorf("%s: unlock: %w", s.name, err)
	}
	body := struct {
		XMLName xml.Name `xml:"unlock"`
		Target  raw      `xml:"target"`
	}{Target: t}
	return s.okCall(ctx, "unlock "+string(target), body, true)
}

// GetConfig returns the contents of source's <data>, restricted by a
// subtree filter unless filter is empty.
func (s *Session) GetConfig(ctx context.Context, source Datastore, filter string) (string, error) {
	src, err := source.elem()
	if err != nil {
		return "", fmt.Errorf("%s: get-config: %w", s.name, err)
	}
	body := struct {
		XMLName xml.Name `xml:"get-config"`
		Source  raw      `xml:"source"`
		Filter  *struct {
			Type  string `xml:"type,attr"`
			Inner string `xml:",innerxml"`
		} `xml:"filter"`
	}{Source: src}
	if filter != "" {
		if err := wellFormed(filter); err != nil {
			return "", fmt.Errorf("%s: get-config: filter: %w", s.name, err)
		}
		body.Filter = &struct {
			Type  string `xml:"type,attr"`
			Inner string `xml:",innerxml"`
		}{"subtree", filter}
	}
	r, err := s.call(ctx, body, false)
	if err != nil {
		return "", fmt.Errorf("%s: get-config %s: %w", s.name, source, err)
	}
	if r.Data == nil {
		return "", fmt.Errorf("%s: get-config %s: reply has no <data>", s.name, source)
	}
	return strings.TrimSpace(r.Data.Inner), nil
}

// EditConfig loads config (the XML that goes inside <config>, each top
// element carrying its namespace) into target. op "" keeps the server's
// default-operation.
func (s *Session) EditConfig(ctx context.Context, target Datastore, config string, op DefaultOperation) error {
	return s.editConfig(ctx, target, config, op, "")
}

func (s *Session) editConfig(ctx context.Context, target Datastore, config string, op DefaultOperation, test string) error {
	t, err := target.elem()
	if err != nil {
		return fmt.Errorf("%s: edit-config: %w", s.name, err)
	}
	switch op {
	case "", Merge, Replace, None:
	default:
		return fmt.Errorf("%s: edit-config: default-operation %q: want merge, replace or none", s.name, op)
	}
	// A broken payload would be refused anyway, but checking here names
	// the problem instead of the server's parser state.
	if err := wellFormed(config); err != nil {
		return fmt.Errorf("%s: edit-config: config: %w", s.name, err)
	}
	body := struct {
		XMLName xml.Name `xml:"edit-config"`
		Target  raw      `xml:"target"`
		DefOp   string   `xml:"default-operation,omitempty"`
		Test    string   `xml:"test-option,omitempty"`
		Config  raw      `xml:"config"`
	}{Target: t, DefOp: string(op), Test: test, Config: raw{config}}
	what := "edit-config " + string(target)
	if test != "" {
		what += " (" + test + ")"
	}
	return s.okCall(ctx, what, body, test == "")
}

// TestEdit checks an edit-config without applying it: test-option
// test-only (RFC 6241 §8.6.4, :validate:1.1). The target keeps what it had.
func (s *Session) TestEdit(ctx context.Context, target Datastore, config string, op DefaultOperation) error {
	if err := s.need("edit-config test-only", CapValidate11); err != nil {
		return err
	}
	return s.editConfig(ctx, target, config, op, "test-only")
}

// DiscardChanges resets the candidate to running (RFC 6241 §8.3.4.2).
func (s *Session) DiscardChanges(ctx context.Context) error {
	if err := s.need("discard-changes", CapCandidate); err != nil {
		return err
	}
	body := struct {
		XMLName xml.Name `xml:"discard-changes"`
	}{}
	return s.okCall(ctx, "discard-changes", body, true)
}

// Validate asks the server to check source (RFC 6241 §8.6).
func (s *Session) Validate(ctx context.Context, source Datastore) error {
	if err := s.need("validate", CapValidate10, CapValidate11); err != nil {
		return err
	}
	src, err := source.elem()
	if err != nil {
		return fmt.Errorf("%s: validate: %w", s.name, err)
	}
	body := struct {
		XMLName xml.Name `xml:"validate"`
		Source  raw      `xml:"source"`
	}{Source: src}
	return s.okCall(ctx, "validate "+string(source), body, false)
}

// CommitOptions are <commit>'s parameters (RFC 6241 §8.3.4.1, §8.4).
type CommitOptions struct {
	// Confirmed makes the commit revert by itself unless confirmed in
	// time by a second commit (without Confirmed).
	Confirmed bool
	// ConfirmTimeout is the window; zero leaves the server's default
	// (600 s). Sent in whole seconds: anything finer is refused rather
	// than rounded.
	ConfirmTimeout time.Duration
	// Persist, with Confirmed, keeps the pending commit alive after this
	// session ends; any session may then confirm or cancel it by naming
	// the same token as PersistID. Needs :confirmed-commit:1.1.
	Persist string
	// PersistID confirms (or, with Confirmed, extends) a persisted
	// confirmed commit from any session.
	PersistID string
}

func (o CommitOptions) validate() error {
	switch {
	case o.ConfirmTimeout != 0 && !o.Confirmed:
		return errors.New("confirm-timeout without confirmed")
	case o.Persist != "" && !o.Confirmed:
		return errors.New("persist without confirmed")
	case o.ConfirmTimeout < 0:
		return errors.New("negative confirm-timeout")
	case o.ConfirmTimeout%time.Second != 0:
		return fmt.Errorf("confirm-timeout %s: NETCONF counts whole seconds", o.ConfirmTimeout)
	case o.ConfirmTimeout/time.Second > math.MaxUint32:
		return fmt.Errorf("confirm-timeout %s: over its uint32 seconds", o.ConfirmTimeout)
	case !validText(o.Persist) || !validText(o.PersistID):
		return errors.New("persist/persist-id: no surrounding space or control characters")
	}
	return nil
}

// Commit commits the candidate to running.
func (s *Session) Commit(ctx context.Context, o CommitOptions) error {
	if err := o.validate(); err != nil {
		return fmt.Errorf("%s: commit: %w", s.name, err)
	}
	if err := s.need("commit", CapCandidate); err != nil {
		return err
	}
	if o.Confirmed {
		if err := s.need("confirmed commit", CapConfirmedCommit10, CapConfirmedCommit11); err != nil {
			return err
		}
	}
	if o.Persist != "" || o.PersistID != "" {
		if err := s.need("commit persist", CapConfirmedCommit11); err != nil {
			return err
		}
	}
	body := struct {
		XMLName        xml.Name  `xml:"commit"`
		Confirmed      *struct{} `xml:"confirmed"`
		ConfirmTimeout string    `xml:"confirm-timeout,omitempty"`
		Persist        string    `xml:"persist,omitempty"`
		PersistID      string    `xml:"persist-id,omitempty"`
	}{Persist: o.Persist, PersistID: o.PersistID}
	if o.Confirmed {
		body.Confirmed = &struct{}{}
	}
	if o.ConfirmTimeout > 0 {
		body.ConfirmTimeout = strconv.FormatInt(int64(o.ConfirmTimeout/time.Second), 10)
	}
	return s.okCall(ctx, "commit", body, true)
}

// CancelCommit reverts a pending confirmed commit at once: this session's,
// or with persistID a persisted one from any session.
func (s *Session) CancelCommit(ctx context.Context, persistID string) error {
	if err := s.need("cancel-commit", CapConfirmedCommit11); err != nil {
		return err
	}
	if !validText(persistID) {
		return fmt.Errorf("%s: cancel-commit: persist-id %q: no surrounding space or control characters", s.name, persistID)
	}
	body := struct {
		XMLName   xml.Name `xml:"cancel-commit"`
		PersistID string   `xml:"persist-id,omitempty"`
	}{PersistID: persistID}
	return s.okCall(ctx, "cancel-commit", body, true)
}

// KillSession ends another session, releasing its locks and cancelling
// its unpersisted confirmed commit (RFC 6241 §7.9).
func (s *Session) KillSession(ctx context.Context, id uint32) error {
	if id == 0 || id == s.id {
		return fmt.Errorf("%s: kill-session %d: want another session's id", s.name, id)
	}
	body := struct {
		XMLName   xml.Name `xml:"kill-session"`
		SessionID uint32   `xml:"session-id"`
	}{SessionID: id}
	return s.okCall(ctx, "kill-session "+strconv.FormatUint(uint64(id), 10), body, true)
}

// CloseSession ends the session gracefully (RFC 6241 §7.8): the server
// releases its locks and, for an unpersisted confirmed commit, reverts it.
// The transport is closed whatever the reply.
func (s *Session) CloseSession(ctx context.Context) error {
	body := struct {
		XMLName xml.Name `xml:"close-session"`
	}{}
	err := s.okCall(ctx, "close-session", body, false)
	s.Close()
	return err
}

// Call runs an operation given as XML text: body is the operation
// element (with its namespace, unless the server takes none, as the
// native Junos XML API does). It returns the reply's content, what is
// inside <rpc-reply>; rpc-errors of error severity at its top level are
// returned as errors (*RPCError), as for every other operation. mutating
// says the operation may change the device, so a lost reply leaves it
// indeterminate.
func (s *Session) Call(ctx context.Context, what, body string, mutating bool) (string, error) {
	if err := wellFormed(body); err != nil {
		return "", fmt.Errorf("%s: %s: %w", s.name, what, err)
	}
	r, err := s.call(ctx, rawOp(body), mutating)
	if err != nil {
		return "", fmt.Errorf("%s: %s: %w", s.name, what, err)
	}
	return strings.TrimSpace(r.Inner), nil
}

// okCall runs an operation whose success is an <ok/>.
func (s *Session) okCall(ctx context.Context, what string, body any, mutating bool) error {
	r, err := s.call(ctx, body, mutating)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", s.name, what, err)
	}
	if r.OK == nil {
		return fmt.Errorf("%s: %s: reply has neither <ok/> nor an rpc-error", s.name, what)
	}
	return nil
}

// need refuses an operation the server did not advertise, before anything
// is sent.
func (s *Session) need(op string, anyOf ...string) error {
	for _, c := range anyOf {
		if s.HasCapability(c) {
			return nil
		}
	}
	return fmt.Errorf("%s: %s: %w: server lacks %s", s.name, op, fault.ErrUnsupported, strings.Join(anyOf, " or "))
}

// wellFormed checks that s is an XML fragment (several top elements are
// fine) whose tags balance.
func wellFormed(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty")
	}
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := d.Token(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
