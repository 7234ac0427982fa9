package netconfdev

import (
	"regexp"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
)

// A trial on a NETCONF device is two things on the device itself, so every
// controller sees the same truth:
//
//   - the confirmed commit, with <persist> set to the run id: the device
//     reverts it at its deadline unless a commit naming the run id as
//     <persist-id> confirms it (the native Junos dialect has no persist:
//     any commit confirms, so the marker below decides whose it is);
//   - the trial marker, committed with the trial inside the owned
//     hierarchy: who holds the device (run, controller, user, since) and
//     when its commit reverts. The revert removes it with the trial; the
//     confirming commit removes it. NETCONF itself names a lock's holder
//     only by session-id, and a confirmed commit's not at all.
//
// So a marker present means a trial is pending. A marker whose deadline
// passed more than Grace ago belongs to a trial that is over (confirmed
// by something other than fwpush, which left the marker): it no longer
// holds the device.

// Grace is how long past its deadline a marker still holds the device:
// slack for the device's timer (netconfd checks deadlines only when idle
// for a second, Junos counts minutes) and for clocks that differ.
const Grace = time.Minute

// Marker is a trial as the device records it.
type Marker struct {
	Trial    drivers.Trial
	Deadline time.Time
}

// Fields returns the marker as name/value pairs, each value one line of
// printable text (controller and user come from the controller's
// environment).
func (m Marker) Fields() [][2]string {
	return [][2]string{
		{"run", clean(m.Trial.Run)},
		{"controller", clean(m.Trial.Controller)},
		{"user", clean(m.Trial.User)},
		{"since", m.Trial.Since.UTC().Format(time.RFC3339)},
		{"deadline", m.Deadline.UTC().Format(time.RFC3339)},
	}
}

// ParseMarker reads the pairs Fields wrote.
func ParseMarker(fields map[string]string) *Marker {
	m := &Marker{Trial: drivers.Trial{Run: fields["run"], Controller: fields["controller"], User: fields["user"]}}
	m.Trial.Since, _ = time.Parse(time.RFC3339, fields["since"])
	m.Deadline, _ = time.Parse(time.RFC3339, fields["deadline"])
	return m
}

// Live reports whether the marker still holds the device at now.
func (m *Marker) Live(now time.Time) bool {
	return m != nil && (m.Deadline.IsZero() || now.Before(m.Deadline.Add(Grace)))
}

func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.TrimSpace(s)
}

// runID is what a run id must look like to be a persist token and a
// marker value.
var runID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)
