package drivers

import "errors"

// The error kinds the engine acts on. Drivers and transports wrap them with
// context (fmt.Errorf("%s: apply: %w", host, err)); callers test with errors.Is.
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
	// ErrLocked means another trial holds the device; nothing was applied.
	ErrLocked = errors.New("device locked by another trial")
)

// LockedError is a device whose trial lock another run holds. It matches
// ErrLocked.
type LockedError struct {
	Holder Trial
}

func (e *LockedError) Error() string {
	return "device locked by " + e.Holder.String() + ": its change is not confirmed yet, wait for it to be confirmed or reverted"
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }
