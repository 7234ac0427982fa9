// Package fault holds the kinds of failure the engine acts on. It is a
// leaf: transports, drivers and the engine all wrap these with context
// (fmt.Errorf("apply: %w", err)) and callers test them with errors.Is,
// without any of them depending on another for it.
package fault

import "errors"

var (
	// ErrUnsupported means the platform cannot express what the Intent asks.
	ErrUnsupported = errors.New("unsupported by this platform")
	// ErrAuth means the device refused our credentials.
	ErrAuth = errors.New("authentication failed")
	// ErrHostKey means the device's host key is unknown or changed; no
	// credential was sent.
	ErrHostKey = errors.New("host key verification failed")
	// ErrTimeout means a connect or command deadline passed.
	ErrTimeout = errors.New("timed out")
	// ErrUnreachable means no connection could be made at all.
	ErrUnreachable = errors.New("unreachable")
	// ErrIndeterminate means the change may or may not have landed: the
	// caller must fetch the device state before deciding anything.
	ErrIndeterminate = errors.New("outcome indeterminate")
	// ErrRejected means the device refused the configuration (a syntax or
	// validation error); nothing was applied.
	ErrRejected = errors.New("configuration rejected by device")
	// ErrNotApplied means a step that cannot change the device's policy
	// (reading it, staging files, checking them) failed before anything
	// was applied or armed: the device is as it was. It takes precedence
	// over ErrIndeterminate from the transport, which cannot know that.
	ErrNotApplied = errors.New("not applied: the device was not changed")
	// ErrLocked means another trial holds the device; nothing was applied.
	ErrLocked = errors.New("device locked by another trial")
)
