package netconfdev

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/transport/netconf"
)

// Schema is what a platform contributes: how its owned part reads from
// the device and how an edit turns it into another.
type Schema interface {
	// Read parses what Dialect.Get returned.
	Read(data string) (State, error)
	// Edit returns the load payload that turns st's owned part into
	// desired (replacing what fwpush owns, deleting what it no longer
	// wants, touching nothing else) and sets the trial marker, or removes
	// it when m is nil. It refuses, before anything is sent, a desired
	// config that would take over something fwpush does not own.
	Edit(st State, desired drivers.Config, m *Marker) (string, error)
}

// State is the device's owned part as read.
type State struct {
	// Config is the owned part in canonical form, without the marker.
	Config drivers.Config
	// Marker is the pending trial's, or nil.
	Marker *Marker
	// Foreign notes what is not fwpush's but can stop what the policy
	// permits (a filter of someone else's bound beside fwpush's).
	Foreign []string
	// Private is the schema's own reading, for Edit.
	Private any
}

// Session drives one device through its dialect; it implements
// drivers.Session, Validator, LockReporter, OriginReporter and
// ForeignReporter.
type Session struct {
	c      *Conn
	d      Dialect
	schema Schema
	// now is the controller's clock (a test may stop it).
	now func() time.Time
}

// NewSession wraps an open connection.
func NewSession(c *Conn, d Dialect, s Schema) *Session {
	return &Session{c: c, d: d, schema: s, now: time.Now}
}

func (s *Session) read(ctx context.Context) (State, error) {
	data, err := s.d.Get(ctx)
	if err != nil {
		return State{}, err
	}
	st, err := s.schema.Read(data)
	if err != nil {
		return State{}, fmt.Errorf("reading the device's config: %w", err)
	}
	return st, nil
}

// Fetch returns the owned part of running.
func (s *Session) Fetch(ctx context.Context) (drivers.Config, error) {
	st, err := s.read(ctx)
	if err != nil {
		return drivers.Config{}, err
	}
	return st.Config, nil
}

// DeviceLock returns the trial the device's marker names, while it holds
// the device.
func (s *Session) DeviceLock(ctx context.Context) (*drivers.Trial, error) {
	st, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	if !st.Marker.Live(s.now()) {
		return nil, nil
	}
	t := st.Marker.Trial
	return &t, nil
}

// Foreign reports what is not fwpush's but sits where it filters.
func (s *Session) Foreign(ctx context.Context) ([]string, error) {
	st, err := s.read(ctx)
	if err != nil {
		return nil, fmt.Errorf("foreign config: %w", err)
	}
	return st.Foreign, nil
}

// Origin is the address the device sees this session come from.
func (s *Session) Origin(ctx context.Context) (netip.Addr, error) {
	return s.d.Origin(ctx)
}

// Close ends the session; a pending persisted trial stays.
func (s *Session) Close() error { return s.c.Close() }

// lock takes the candidate. A refusal says who holds the device: a
// pending confirmed commit (its marker names the trial), or another
// session editing right now.
func (s *Session) lock(ctx context.Context) error {
	err := s.d.Lock(ctx)
	if err == nil {
		return nil
	}
	var re *netconf.RPCError
	if !errors.As(err, &re) {
		return fmt.Errorf("lock: %w: %w", err, fault.ErrNotApplied)
	}
	var marker *Marker
	if st, rerr := s.read(ctx); rerr == nil {
		marker = st.Marker
	}
	switch {
	case pendingCommit(re):
		holder := drivers.Trial{Run: "unknown", Controller: "a confirmed commit fwpush did not make"}
		if marker != nil {
			holder = marker.Trial
		}
		return &drivers.LockedError{Holder: holder}
	case re.Tag == netconf.TagLockDenied || re.Tag == netconf.TagInUse ||
		// Junos' native API words a held database in the message.
		strings.Contains(strings.ToLower(re.Message), "database locked"):
		holder := drivers.Trial{Run: "unknown", Controller: "another NETCONF session (editing the candidate)"}
		if id, ok := re.LockHolder(); ok {
			holder.Controller = fmt.Sprintf("NETCONF session %d (editing the candidate)", id)
		}
		if marker.Live(s.now()) {
			holder = marker.Trial
		}
		return &drivers.LockedError{Holder: holder}
	}
	return fmt.Errorf("lock: %w: %w", err, fault.ErrNotApplied)
}

// pendingCommit reports a refusal because a confirmed commit is pending.
func pendingCommit(re *netconf.RPCError) bool {
	return re.AppTag == "outstanding-confirmed-commit" || strings.Contains(re.Message, "confirmed-commit pending") ||
		strings.Contains(re.Message, "confirmed commit pending")
}

// abandon undoes an uncommitted edit and releases the lock; on every
// failure path before the commit, the device keeps what it had.
func (s *Session) abandon(locked bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.d.Discard(ctx)
	if locked {
		_ = s.d.Unlock(ctx)
	}
}

// Apply loads desired into the locked candidate with the trial's marker,
// checks it, and commits it confirmed (persist = run id) when asked to
// confirm, plainly otherwise. A live marker of another trial refuses it.
// It reads running back afterwards: a device that acknowledged the commit
// but does not hold the change is indeterminate, not confirmed.
func (s *Session) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	if !runID.MatchString(o.Trial.Run) {
		return drivers.Armed{}, fmt.Errorf("trial %q: not a run id: %w", o.Trial.Run, fault.ErrNotApplied)
	}
	if err := s.lock(ctx); err != nil {
		return drivers.Armed{}, err
	}
	st, err := s.read(ctx)
	if err != nil {
		s.abandon(true)
		return drivers.Armed{}, fmt.Errorf("%w: %w", err, fault.ErrNotApplied)
	}
	if st.Marker.Live(s.now()) && st.Marker.Trial.Run != o.Trial.Run {
		s.abandon(true)
		return drivers.Armed{}, &drivers.LockedError{Holder: st.Marker.Trial}
	}
	var m *Marker
	armed := drivers.Armed{}
	if o.ConfirmWithin > 0 {
		armed = drivers.ArmedFor(o.ConfirmWithin, s.d.Granularity(), s.now())
		m = &Marker{Trial: o.Trial, Deadline: armed.Deadline}
	}
	payload, err := s.schema.Edit(st, desired, m)
	if err != nil {
		s.abandon(true)
		return drivers.Armed{}, fmt.Errorf("%w: %w", err, fault.ErrNotApplied)
	}
	if err := s.d.Load(ctx, payload); err != nil {
		s.abandon(true)
		return drivers.Armed{}, fmt.Errorf("load: %w", refused(err))
	}
	if err := s.d.Check(ctx, payload); err != nil {
		s.abandon(true)
		return drivers.Armed{}, fmt.Errorf("commit check: %w", refused(err))
	}
	if m != nil {
		_, err = s.d.CommitConfirmed(ctx, o.ConfirmWithin, o.Trial.Run)
	} else {
		err = s.d.Commit(ctx)
	}
	if err != nil {
		s.abandon(true)
		return drivers.Armed{}, fmt.Errorf("commit: %w", refused(err))
	}
	_ = s.d.Unlock(ctx)
	if err := s.holds(ctx, desired, m != nil); err != nil {
		return armed, fmt.Errorf("after commit: %w: %w", err, fault.ErrIndeterminate)
	}
	return armed, nil
}

// holds checks that running holds c, and the marker when marked.
func (s *Session) holds(ctx context.Context, c drivers.Config, marked bool) error {
	st, err := s.read(ctx)
	if err != nil {
		return err
	}
	if got := st.Config.String(); got != c.String() {
		return fmt.Errorf("the device acknowledged the commit, but running does not hold the change (%s)", firstDifference(c.String(), got))
	}
	if marked != (st.Marker != nil) {
		return fmt.Errorf("the device acknowledged the commit, but its trial marker is %s", map[bool]string{true: "still there", false: "missing"}[st.Marker != nil])
	}
	return nil
}

// refused classifies a device's refusal: an rpc-error means the device
// did not take the step, and a failed load or commit changed nothing
// (the candidate is discarded); anything else may have landed.
func refused(err error) error {
	var re *netconf.RPCError
	var res netconf.RPCErrors
	if errors.As(err, &re) || errors.As(err, &res) {
		if !errors.Is(err, fault.ErrIndeterminate) {
			return fmt.Errorf("%w: %w", err, fault.ErrRejected)
		}
	}
	return err
}

// own reads the device and requires t's trial to be the pending one.
func (s *Session) own(ctx context.Context, t drivers.Trial) (State, error) {
	st, err := s.read(ctx)
	if err != nil {
		return State{}, err
	}
	switch {
	case st.Marker == nil:
		return st, fmt.Errorf("no trial is pending (run %s was reverted by the device's timer, or never armed)", t.Run)
	case st.Marker.Trial.Run != t.Run:
		return st, &drivers.LockedError{Holder: st.Marker.Trial}
	}
	return st, nil
}

// Confirm keeps the trial: from any session, it removes the marker and
// commits, naming the run as persist-id so the device keeps the change.
func (s *Session) Confirm(ctx context.Context, t drivers.Trial) error {
	st, err := s.own(ctx, t)
	if err != nil {
		return err
	}
	return s.end(ctx, st, st.Config, t)
}

// Rollback ends the trial with to in force: the confirming commit carries
// to, so the device never runs without a policy in between. With no
// trial pending it commits to plainly.
func (s *Session) Rollback(ctx context.Context, to drivers.Config, t drivers.Trial) error {
	st, err := s.read(ctx)
	if err != nil {
		return err
	}
	if st.Marker.Live(s.now()) && st.Marker.Trial.Run != t.Run {
		return &drivers.LockedError{Holder: st.Marker.Trial}
	}
	return s.end(ctx, st, to, t)
}

// end commits c with the marker removed: the confirming commit of t when
// st holds its marker, else a plain one under the lock.
func (s *Session) end(ctx context.Context, st State, c drivers.Config, t drivers.Trial) error {
	pending := st.Marker != nil && st.Marker.Trial.Run == t.Run
	// A device may refuse the lock while a confirmed commit is pending
	// (netconfd does): the trial's own marker is the lock then.
	locked := true
	if err := s.d.Lock(ctx); err != nil {
		var re *netconf.RPCError
		if !pending || !errors.As(err, &re) || !pendingCommit(re) {
			return fmt.Errorf("lock: %w", err)
		}
		locked = false
	}
	payload, err := s.schema.Edit(st, c, nil)
	if err != nil {
		s.abandon(locked)
		return err
	}
	if err := s.d.Load(ctx, payload); err != nil {
		s.abandon(locked)
		return fmt.Errorf("load: %w", refused(err))
	}
	if pending {
		err = s.d.Confirm(ctx, t.Run)
	} else {
		err = s.d.Commit(ctx)
	}
	if err != nil {
		s.abandon(locked)
		return fmt.Errorf("commit: %w", err)
	}
	if locked {
		_ = s.d.Unlock(ctx)
	}
	if err := s.holds(ctx, c, false); err != nil {
		return fmt.Errorf("%w: %w", err, fault.ErrIndeterminate)
	}
	return nil
}

// Validate loads desired into the locked candidate, checks it, and
// discards it: the device says whether it would take it, and keeps what
// it had.
func (s *Session) Validate(ctx context.Context, desired drivers.Config) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.abandon(true)
	st, err := s.read(ctx)
	if err != nil {
		return err
	}
	payload, err := s.schema.Edit(st, desired, st.Marker)
	if err != nil {
		return err
	}
	if err := s.d.Load(ctx, payload); err != nil {
		return fmt.Errorf("load: %w", refused(err))
	}
	if err := s.d.Check(ctx, payload); err != nil {
		return fmt.Errorf("commit check: %w", refused(err))
	}
	return nil
}

// firstDifference names the first line where want and got differ.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d: want %q, device has %q", i+1, strings.TrimSpace(a), strings.TrimSpace(b))
		}
	}
	return "no line differs"
}
