package netacl

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/clisession"
	"github.com/fwpush/fwpush/internal/fault"
)

// Mechanism is a platform's own way to change its configuration safely:
// the device-side revert that survives the SSH session and is confirmed
// over a new one (IOS-XE archive + revert timer, EOS configuration
// session + commit timer, NX-OS checkpoint + EEM countdown), and how it
// tells whether such a timer is pending.
type Mechanism interface {
	// StateCommands are run on every read, after the owned sections;
	// State reads their output (and the parsed device): the trial whose
	// timer is pending (nil: the device is free; a timer fwpush did not
	// arm gets a Trial whose Run says so) and the mechanism's own notes.
	StateCommands() []string
	State(dev *Device, out []string) (holder *drivers.Trial, info any)
	// Apply types want under a new generation, with the trial's lock and
	// its revert armed when o.ConfirmWithin > 0; st is what was read just
	// before, the device free or its lock given up (Session checks).
	Apply(ctx context.Context, s *Session, st *State, want *Config, o drivers.ApplyOptions) (drivers.Armed, error)
	// Confirm keeps trial t's change and persists it; Rollback ends t by
	// restoring to and persisting it. Both refuse another trial's lock.
	Confirm(ctx context.Context, s *Session, st *State, t drivers.Trial) error
	Rollback(ctx context.Context, s *Session, st *State, to *Config, t drivers.Trial) error
}

// State is one read of the device.
type State struct {
	Dev    *Device
	Holder *drivers.Trial
	Info   any
}

// Session is one CLI session to a network device.
type Session struct {
	d *Driver
	// Conn is the CLI session, for the platform's mechanism.
	Conn *clisession.Conn
	// last is the last read and when: Apply right after Fetch (the
	// engine's order) need not read again.
	last   *State
	lastAt time.Time
	origin *netip.Addr
}

// fresh is how recent a read Apply uses instead of reading again.
const fresh = 5 * time.Second

// runID is what a run id must look like to name a session or a lock.
var runID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)

// Dialect is the session's dialect.
func (s *Session) Dialect() *Dialect { return s.d.spec.Dialect }

// Table is the session's CLI table.
func (s *Session) Table() *clisession.Table { return s.d.spec.Table }

// Host is the device's inventory name.
func (s *Session) Host() string { return s.Conn.Host }

// Read reads the owned sections, every interface's bindings and the
// mechanism's state.
func (s *Session) Read(ctx context.Context) (*State, error) {
	s.last = nil
	cmds := append([]string{s.Table().Command("show-owned"), s.Table().Command("show-interfaces")}, s.d.spec.Mechanism.StateCommands()...)
	out, err := s.Conn.Query(ctx, cmds...)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	dev, err := s.Dialect().Parse(out[0] + "\n" + out[1])
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	st := &State{Dev: dev}
	st.Holder, st.Info = s.d.spec.Mechanism.State(dev, out[2:])
	return st, nil
}

// remember keeps a read for the calls that follow it at once.
func (s *Session) remember(st *State) { s.last, s.lastAt = st, time.Now() }

func (s *Session) state(ctx context.Context) (*State, error) {
	if s.last != nil && time.Since(s.lastAt) < fresh {
		st := s.last
		s.last = nil // from here on the device may change
		return st, nil
	}
	st, err := s.Read(ctx)
	s.last = nil
	return st, err
}

// Fetch returns the owned part in canonical form.
func (s *Session) Fetch(ctx context.Context) (drivers.Config, error) {
	st, err := s.Read(ctx)
	if err != nil {
		return drivers.Config{}, err
	}
	s.remember(st)
	return s.d.config(st.Dev.Owned()), nil
}

// DeviceLock returns the trial holding the device, or nil: read by the
// last Fetch when it is fresh, else now.
func (s *Session) DeviceLock(ctx context.Context) (*drivers.Trial, error) {
	st := s.last
	if st == nil || time.Since(s.lastAt) >= fresh {
		var err error
		if st, err = s.Read(ctx); err != nil {
			return nil, err
		}
		s.remember(st)
	}
	return st.Holder, nil
}

// Apply checks desired and the device (free, no foreign ACL in the way),
// then lets the platform's mechanism make the change.
func (s *Session) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	if !runID.MatchString(o.Trial.Run) {
		return drivers.Armed{}, fmt.Errorf("trial %q: not a run id: %w", o.Trial.Run, fault.ErrNotApplied)
	}
	want, err := s.d.Desired(desired)
	if err != nil {
		return drivers.Armed{}, err
	}
	st, err := s.state(ctx)
	if err != nil {
		return drivers.Armed{}, fmt.Errorf("%w: %w", err, fault.ErrNotApplied)
	}
	if st.Holder != nil {
		if st.Holder.Run != o.Trial.Run {
			return drivers.Armed{}, &drivers.LockedError{Holder: *st.Holder}
		}
		return drivers.Armed{}, fmt.Errorf("trial %s is already pending on the device: confirm or roll it back first: %w", o.Trial.Run, fault.ErrNotApplied)
	}
	if err := s.Dialect().Conflicts(want, st.Dev); err != nil {
		return drivers.Armed{}, err
	}
	armed, err := s.d.spec.Mechanism.Apply(ctx, s, st, want, o)
	if err != nil {
		return armed, err
	}
	return armed, nil
}

// Confirm keeps trial t's change.
func (s *Session) Confirm(ctx context.Context, t drivers.Trial) error {
	if !runID.MatchString(t.Run) {
		return fmt.Errorf("trial %q: not a run id", t.Run)
	}
	st, err := s.Read(ctx)
	if err != nil {
		return err
	}
	s.last = nil
	if st.Holder == nil {
		return fmt.Errorf("no trial pending on the device: trial %s was already reverted (or never armed)", t.Run)
	}
	if st.Holder.Run != t.Run {
		return &drivers.LockedError{Holder: *st.Holder}
	}
	if err := s.d.spec.Mechanism.Confirm(ctx, s, st, t); err != nil {
		return err
	}
	return nil
}

// Rollback ends trial t by restoring to; it refuses while another trial
// holds the device.
func (s *Session) Rollback(ctx context.Context, to drivers.Config, t drivers.Trial) error {
	if !runID.MatchString(t.Run) {
		return fmt.Errorf("trial %q: not a run id: %w", t.Run, fault.ErrNotApplied)
	}
	want, err := s.d.Desired(to)
	if err != nil {
		return err
	}
	st, err := s.Read(ctx)
	if err != nil {
		return err
	}
	s.last = nil
	if st.Holder != nil && st.Holder.Run != t.Run {
		return &drivers.LockedError{Holder: *st.Holder}
	}
	if err := s.d.spec.Mechanism.Rollback(ctx, s, st, want, t); err != nil {
		return err
	}
	return nil
}

// Close ends the session.
func (s *Session) Close() error { return s.Conn.Close() }

// Equal reports whether the device's owned part is want.
func (s *Session) Equal(st *State, want *Config) bool {
	return s.Dialect().Text(st.Dev.Owned()) == s.Dialect().Text(want)
}

// Warner is implemented by mechanisms with something to say about a
// device before a push (IOS-XE without an archive).
type Warner interface {
	Warnings(st *State) []string
}

// Foreign reports what outside fwpush's part bears on it: the
// mechanism's warnings, and ACLs fwpush does not own bound on the
// interfaces it binds (traffic they deny never reaches fwpush's lists).
func (s *Session) Foreign(ctx context.Context) ([]string, error) {
	st := s.last
	if st == nil || time.Since(s.lastAt) >= fresh {
		var err error
		if st, err = s.Read(ctx); err != nil {
			return nil, fmt.Errorf("foreign: %w", err)
		}
	}
	var out []string
	if w, ok := s.d.spec.Mechanism.(Warner); ok {
		out = append(out, w.Warnings(st)...)
	}
	for _, i := range st.Dev.Ifaces {
		owned := false
		for _, sl := range Slots {
			owned = owned || Owned(i.Get(sl))
		}
		if !owned {
			continue
		}
		for _, sl := range Slots {
			if n := i.Get(sl); n != "" && !Owned(n) {
				out = append(out, fmt.Sprintf("interface %s: %s %s %s is not fwpush's: it filters this interface too", i.Name, s.Dialect().bindWord(sl.V6), n, sl.Dir))
			}
		}
	}
	return out, nil
}

// Origin is the address the device sees this session come from: its own
// line of `show users`, the one marked `*` (first on IOS-XE and EOS, last
// on NX-OS), for the lock-out guard. The zero Addr means the device did
// not say.
func (s *Session) Origin(ctx context.Context) (netip.Addr, error) {
	if s.origin != nil {
		return *s.origin, nil
	}
	out, err := s.Conn.Show(ctx, s.Table().Command("show-users"))
	if err != nil {
		return netip.Addr{}, err
	}
	a := originOf(out)
	s.origin = &a
	return a, nil
}

// originOf reads the address of the line marked `*` of `show users`.
func originOf(out string) netip.Addr {
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "*") && !strings.HasSuffix(t, " *") {
			continue
		}
		f := strings.Fields(t)
		for i := len(f) - 1; i >= 0; i-- {
			if x, err := netip.ParseAddr(strings.Trim(f[i], "()")); err == nil {
				return x.WithZone("").Unmap()
			}
		}
		return netip.Addr{}
	}
	return netip.Addr{}
}
