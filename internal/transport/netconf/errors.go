package netconf

import (
	"errors"
	"strconv"
	"strings"
)

// ErrClosed is returned by calls on a session that has ended.
var ErrClosed = errors.New("netconf session closed")

// Error tags (RFC 6241 appendix A) that callers act on.
const (
	TagInUse           = "in-use"
	TagInvalidValue    = "invalid-value"
	TagAccessDenied    = "access-denied"
	TagLockDenied      = "lock-denied"
	TagOperationFailed = "operation-failed"
	TagDataMissing     = "data-missing"
	TagMalformed       = "malformed-message"
)

// RPCError is one <rpc-error> of a reply (RFC 6241 §4.3). Find it in a
// returned error with errors.As.
type RPCError struct {
	Type     string    `xml:"error-type"`     // transport, rpc, protocol or application
	Tag      string    `xml:"error-tag"`      // e.g. lock-denied
	Severity string    `xml:"error-severity"` // error or warning
	AppTag   string    `xml:"error-app-tag"`
	Path     string    `xml:"error-path"` // XPath of the offending node
	Message  string    `xml:"error-message"`
	Info     ErrorInfo `xml:"error-info"`
}

// ErrorInfo is an rpc-error's <error-info>: the standard fields, and the
// raw XML for the vendor's own.
type ErrorInfo struct {
	// SessionID is the lock holder for lock-denied and in-use; "0" means
	// the lock is held by something other than a NETCONF session.
	SessionID    string `xml:"session-id"`
	BadAttribute string `xml:"bad-attribute"`
	BadElement   string `xml:"bad-element"`
	BadNamespace string `xml:"bad-namespace"`
	Raw          string `xml:",innerxml"`
}

func (e *RPCError) Error() string {
	var b strings.Builder
	b.WriteString("rpc-error " + e.Tag)
	if e.Type != "" {
		b.WriteString(" (" + e.Type + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if id, ok := e.LockHolder(); ok {
		if id == 0 {
			b.WriteString("; held by a non-NETCONF entity (session-id 0)")
		} else {
			b.WriteString("; held by session-id " + strconv.FormatUint(uint64(id), 10))
		}
	} else if e.Info.SessionID != "" {
		b.WriteString("; session-id " + e.Info.SessionID)
	}
	for _, f := range [][2]string{
		{"path", e.Path}, {"bad-element", e.Info.BadElement},
		{"bad-attribute", e.Info.BadAttribute}, {"bad-namespace", e.Info.BadNamespace},
		{"app-tag", e.AppTag},
	} {
		if f[1] != "" {
			b.WriteString("; " + f[0] + " " + f[1])
		}
	}
	return b.String()
}

// LockHolder returns the session-id holding the lock a lock-denied or
// in-use error is about.
func (e *RPCError) LockHolder() (uint32, bool) {
	if e.Tag != TagLockDenied && e.Tag != TagInUse {
		return 0, false
	}
	id, err := strconv.ParseUint(e.Info.SessionID, 10, 32)
	return uint32(id), err == nil
}

// trim drops the indentation servers put around element text.
func (e *RPCError) trim() {
	for _, p := range []*string{&e.Type, &e.Tag, &e.Severity, &e.AppTag, &e.Path, &e.Message,
		&e.Info.SessionID, &e.Info.BadAttribute, &e.Info.BadElement, &e.Info.BadNamespace} {
		*p = strings.TrimSpace(*p)
	}
	e.Info.Raw = strings.TrimSpace(e.Info.Raw)
}

// RPCErrors is a reply with more than one error-severity rpc-error.
// errors.As finds each *RPCError in it.
type RPCErrors []*RPCError

func (es RPCErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// Unwrap lets errors.As and errors.Is look at every rpc-error.
func (es RPCErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// replyError turns a reply's rpc-errors into an error: nil when there are
// only warnings, which RFC 6241 says do not fail the operation.
func replyError(list []RPCError) error {
	var es RPCErrors
	for i := range list {
		e := &list[i]
		e.trim()
		if e.Severity == "warning" {
			continue
		}
		es = append(es, e)
	}
	switch len(es) {
	case 0:
		return nil
	case 1:
		return es[0]
	}
	return es
}
