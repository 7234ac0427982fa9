package netacl

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/internal/freetext"
)

// Prefix starts every name fwpush owns on a device; nothing else is ever
// read back as fwpush's, changed or removed.
const Prefix = "FWPUSH-"

// LockName is the ACL that records which trial holds the device: never
// bound, remarks only (see lock.go).
const LockName = "FWPUSH-LOCK"

// maxBase bounds a base name: the generation suffix and a device's limit
// (NX-OS ACL and object-group names: 64 characters) must still fit.
const maxBase = 48

// ownedName is what a name fwpush writes may look like.
var ownedName = regexp.MustCompile(`^FWPUSH-[A-Z0-9][A-Z0-9-]*$`)

// ifaceName is what an interface name from the inventory may look like:
// it is typed after `interface`, so nothing that could end the line or
// start another command.
var ifaceName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*( ?[0-9][0-9/.:]*)?$`)

// Owned reports whether a device object's name is fwpush's.
func Owned(name string) bool { return strings.HasPrefix(name, Prefix) }

// Versioned is a base name with its generation: on the device every
// owned ACL and object-group carries one, so a new policy is written
// beside the one in force and swapped in by re-binding (make-before-
// break), never edited in place.
func Versioned(base string, gen int) string { return base + "-" + strconv.Itoa(gen) }

// SplitGen returns the base name and generation of an owned name; ok is
// false for a name without a generation (the lock, a hand-made name).
func SplitGen(name string) (base string, gen int, ok bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= len(Prefix)-1 || i == len(name)-1 {
		return name, 0, false
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil || n < 1 || strconv.Itoa(n) != name[i+1:] {
		return name, 0, false
	}
	return name[:i], n, true
}

// sanitize upper-cases s and keeps letters and digits, turning anything
// else into one dash.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// shortHash is 8 hex digits of s's SHA-256: it keeps a shortened name
// unique and stable.
func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return strings.ToUpper(hex.EncodeToString(h[:4]))
}

// fit makes a base name from parts, shortened with a hash of key when
// too long.
func fit(key string, parts ...string) string {
	n := Prefix + strings.Join(parts, "-")
	if len(n) <= maxBase {
		return n
	}
	return strings.TrimRight(n[:maxBase-9], "-") + "-" + shortHash(key)
}

// names hands out unique base names: the first to ask for a name gets
// it, a later clash gets a hashed variant.
type names map[string]string // base name → key it was given for

func (ns names) take(key, want string) string {
	if k, ok := ns[want]; !ok || k == key {
		ns[want] = key
		return want
	}
	stem := strings.TrimPrefix(want, Prefix)
	if len(stem) > maxBase-len(Prefix)-9 {
		stem = strings.TrimRight(stem[:maxBase-len(Prefix)-9], "-")
	}
	alt := Prefix + stem + "-" + shortHash(key)
	ns[alt] = key
	return alt
}

// maxRemark is the longest remark IOS-XE and NX-OS accept.
const maxRemark = 100

// Remark makes text safe to type as a remark: one line of printable
// ASCII (a terminal's '?' would ask the CLI for help instead of typing
// it, and '|' starts an output filter on some releases), at most
// maxRemark bytes.
func Remark(text string) string {
	text = freetext.Line(text)
	var b strings.Builder
	for _, r := range text {
		switch {
		case r == '?':
			b.WriteByte('.')
		case r == '|':
			b.WriteByte('/')
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimSpace(b.String())
	if len(out) <= maxRemark {
		return out
	}
	cut := maxRemark - len("...")
	if sp := strings.LastIndexByte(out[:cut+1], ' '); sp >= cut/2 {
		cut = sp
	}
	return strings.TrimRight(out[:cut], " ") + "..."
}

// checkIface refuses an interface name that could not be typed safely.
func checkIface(name string) error {
	if !ifaceName.MatchString(name) || len(name) > 64 {
		return fmt.Errorf("interface %q: not an interface name this driver types (letters, then numbers with / . :)", name)
	}
	return nil
}
