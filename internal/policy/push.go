package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The bounds of the push options. A playbook's push section and the
// command-line flags of the same name are checked by the same functions,
// so they accept the same values and refuse the rest with the same words;
// name is the field or flag as the user wrote it ("confirm_timeout",
// "--confirm-timeout").
const (
	// MinConfirmTimeout leaves a device time to be reached again over a
	// new connection and confirmed before its revert fires.
	MinConfirmTimeout = 10 * time.Second
	// MaxConfirmTimeout bounds how long a lock-out can last.
	MaxConfirmTimeout = time.Hour
)

// CheckConfirmTimeout refuses a revert delay outside 10s–1h. Zero is not
// "no revert": pushing without one is its own, explicit choice
// (--no-confirm).
func CheckConfirmTimeout(name string, d time.Duration) error {
	if d < MinConfirmTimeout || d > MaxConfirmTimeout {
		return fmt.Errorf("%s %s: want %s to %s (too short a device reverts before it can be confirmed; to push without a revert, use --no-confirm, which says so)",
			name, d, shortDuration(MinConfirmTimeout), shortDuration(MaxConfirmTimeout))
	}
	return nil
}

// CheckForks refuses fewer than one device at a time.
func CheckForks(name string, n int) error {
	if n < 1 {
		return fmt.Errorf("%s %d: want 1 or more devices at once", name, n)
	}
	return nil
}

// CheckCanary refuses a negative canary; 0 means no canary wave.
func CheckCanary(name string, n int) error {
	if n < 0 {
		return fmt.Errorf("%s %d: want 0 (no canary) or more devices", name, n)
	}
	return nil
}

// CheckMaxFailPercentage refuses a share outside 0–100 (and NaN). 0 stops
// after the first wave with any failure; 100 never stops, since no more
// than every device of a wave can fail.
func CheckMaxFailPercentage(name string, p float64) error {
	if math.IsNaN(p) || p < 0 || p > 100 {
		return fmt.Errorf("%s %g: want 0 to 100 (0 stops at the first failed device's wave, 100 never stops)", name, p)
	}
	return nil
}

// CheckPositiveDuration refuses a zero or negative timeout.
func CheckPositiveDuration(name string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s %s: want a duration above 0, such as 10s", name, d)
	}
	return nil
}

// CheckAtLeast refuses a count below min.
func CheckAtLeast(name string, n, min int) error {
	if n < min {
		return fmt.Errorf("%s %d: want %d or more", name, n, min)
	}
	return nil
}

// SerialSize is one wave size: Count devices, or Percent of the fleet.
type SerialSize struct {
	Count   int
	Percent int
}

// ParseSerialSize reads one Ansible-style wave size: a whole number of
// devices (1 or more) or a whole percentage from 1% to 100%.
func ParseSerialSize(name, s string) (SerialSize, error) {
	t := strings.TrimSpace(s)
	digits, pct := strings.CutSuffix(t, "%")
	n, err := strconv.Atoi(digits)
	switch {
	case err != nil || digits == "" || digits[0] < '0' || digits[0] > '9':
		// Atoi takes a sign: "+5" and "-5" are not sizes.
	case pct && n >= 1 && n <= 100:
		return SerialSize{Percent: n}, nil
	case !pct && n >= 1:
		return SerialSize{Count: n}, nil
	}
	return SerialSize{}, fmt.Errorf("%s %q: want a number of devices (1 or more) or a percentage (1%% to 100%%)", name, s)
}

// Of is the wave size for a fleet of n devices: at least one.
func (z SerialSize) Of(n int) int {
	if z.Percent > 0 {
		return max(1, z.Percent*n/100)
	}
	return z.Count
}

// CheckRollbackWave refuses a wave rollback without a failure threshold:
// without one no wave ever fails.
func CheckRollbackWave(name, maxFailName string, on, maxFailSet bool) error {
	if on && !maxFailSet {
		return fmt.Errorf("%s needs %s: without it no wave ever fails", name, maxFailName)
	}
	return nil
}

// shortDuration prints 10s and 1h rather than 10s and 1h0m0s.
func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
