package netacl

import (
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
)

// The trial lock of a network device is the ACL FWPUSH-LOCK: never
// bound, it holds one remark per field of the trial that holds the
// device (run, controller, user, since). It is written by the change it
// guards, inside the platform's transaction, so the device's own revert
// removes it with the change; the platform's pending timer (IOS revert
// timer, EOS commit timer, NX-OS EEM countdown) is what makes it live.
// A lock whose timer is gone is over, and the next trial replaces it.

// lockTag starts every remark of the lock.
const lockTag = "fwpush-lock "

// LockLines are the configuration lines that (re)write the lock for t.
func (d *Dialect) LockLines(t drivers.Trial) []string {
	hdr := d.aclHeader(&ACL{Name: LockName})
	out := []string{"no " + hdr, hdr}
	fields := [][2]string{{"run", t.Run}, {"controller", t.Controller}, {"user", t.User},
		{"since", t.Since.UTC().Format(time.RFC3339)}}
	for i, f := range fields {
		r := lockTag + f[0] + "=" + lockValue(f[1])
		if d.Syntax == IOS {
			out = append(out, "remark "+r)
		} else {
			out = append(out, strconv.Itoa(10*(i+1))+" remark "+r)
		}
	}
	return append(out, "exit")
}

// UnlockLine deletes the lock.
func (d *Dialect) UnlockLine() string { return d.noACL(LockName, false) }

// lockValue keeps a trial field one safe word: the values come from the
// controller's environment.
func lockValue(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("._:@+-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// Lock reads the trial the device's lock names, nil when there is none.
func (dev *Device) Lock() *drivers.Trial {
	a := dev.ACL(LockName, false)
	if a == nil {
		return nil
	}
	var t drivers.Trial
	for _, e := range a.Entries {
		k, v, ok := strings.Cut(strings.TrimPrefix(e.Remark, lockTag), "=")
		if !ok || !strings.HasPrefix(e.Remark, lockTag) {
			continue
		}
		switch k {
		case "run":
			t.Run = v
		case "controller":
			t.Controller = v
		case "user":
			t.User = v
		case "since":
			t.Since, _ = time.Parse(time.RFC3339, v)
		}
	}
	if t.Run == "" {
		return nil
	}
	return &t
}
