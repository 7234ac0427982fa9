package drivers

import "github.com/fwpush/fwpush/internal/fault"

// LockedError is a device whose trial lock another run holds. It matches
// fault.ErrLocked.
type LockedError struct {
	Holder Trial
}

func (e *LockedError) Error() string {
	return "device locked by " + e.Holder.String() + ": its change is not confirmed yet, wait for it to be confirmed or reverted"
}

// Is makes errors.Is(err, fault.ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == fault.ErrLocked }
