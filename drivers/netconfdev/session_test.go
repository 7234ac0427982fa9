package netconfdev

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/transport/netconf"
)

// fakeDevice is a device whose whole configuration is one line:
// "policy|run|deadline" (run empty: no trial marker). Its dialect records
// every call; failures are injected by name.
type fakeDevice struct {
	running, candidate string
	locked             bool
	pending            string // persist token of a pending confirmed commit
	calls              []string
	fail               map[string]error
	// lose makes commits acknowledge without applying (netconfd's
	// validate quirk).
	lose bool
}

func (f *fakeDevice) call(name string) error {
	f.calls = append(f.calls, name)
	return f.fail[name]
}

func (f *fakeDevice) Get(context.Context) (string, error) { return f.running, f.call("get") }
func (f *fakeDevice) Lock(context.Context) error {
	if err := f.call("lock"); err != nil {
		return err
	}
	f.locked = true
	return nil
}
func (f *fakeDevice) Unlock(context.Context) error { f.locked = false; return f.call("unlock") }
func (f *fakeDevice) Load(_ context.Context, p string) error {
	if err := f.call("load"); err != nil {
		return err
	}
	f.candidate = p
	return nil
}
func (f *fakeDevice) Check(context.Context, string) error { return f.call("check") }
func (f *fakeDevice) commit() {
	if !f.lose {
		f.running = f.candidate
	}
}
func (f *fakeDevice) CommitConfirmed(_ context.Context, within time.Duration, persist string) (time.Duration, error) {
	if err := f.call("commit-confirmed"); err != nil {
		return 0, err
	}
	f.pending = persist
	f.commit()
	return within, nil
}
func (f *fakeDevice) Confirm(_ context.Context, persist string) error {
	if err := f.call("confirm"); err != nil {
		return err
	}
	if f.pending != persist {
		return &netconf.RPCError{Tag: "operation-failed", Message: "persistent confirmed commit not active"}
	}
	f.pending = ""
	f.commit()
	return nil
}
func (f *fakeDevice) Commit(context.Context) error {
	if err := f.call("commit"); err != nil {
		return err
	}
	f.commit()
	return nil
}
func (f *fakeDevice) Discard(context.Context) error {
	f.candidate = f.running
	return f.call("discard")
}
func (f *fakeDevice) Granularity() time.Duration                 { return time.Second }
func (f *fakeDevice) Origin(context.Context) (netip.Addr, error) { return netip.Addr{}, nil }

// fakeSchema reads and writes the one-line configuration.
type fakeSchema struct{}

func (fakeSchema) Read(data string) (State, error) {
	f := strings.Split(data+"||", "|")
	st := State{Config: drivers.Config{Platform: "fake", Parts: []drivers.Part{{Name: "p", Text: f[0]}}}}
	if f[1] != "" {
		dl, _ := time.Parse(time.RFC3339, f[2])
		st.Marker = &Marker{Trial: drivers.Trial{Run: f[1]}, Deadline: dl}
	}
	return st, nil
}

func (fakeSchema) Edit(_ State, desired drivers.Config, m *Marker) (string, error) {
	if strings.Contains(desired.String(), "foreign") {
		return "", errors.New("would take over a foreign filter")
	}
	if m == nil {
		return desired.String(), nil
	}
	return desired.String() + "|" + m.Trial.Run + "|" + m.Deadline.UTC().Format(time.RFC3339), nil
}

func cfg(s string) drivers.Config {
	return drivers.Config{Platform: "fake", Parts: []drivers.Part{{Name: "p", Text: s}}}
}

func newFake(running string) (*Session, *fakeDevice) {
	d := &fakeDevice{running: running, candidate: running, fail: map[string]error{}}
	return NewSession(&Conn{Host: "dev"}, d, fakeSchema{}), d
}

func trial(run string) drivers.Trial { return drivers.Trial{Run: run, Controller: "ctl", User: "u"} }

func TestApplyConfirm(t *testing.T) {
	ctx := context.Background()
	s, d := newFake("A")
	armed, err := s.Apply(ctx, cfg("B"), drivers.ApplyOptions{Trial: trial("r1"), ConfirmWithin: 30 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, armed.Within)
	assert.Equal(t, []string{"lock", "get", "load", "check", "commit-confirmed", "unlock", "get"}, d.calls)
	assert.True(t, strings.HasPrefix(d.running, "B|r1|"), "committed with the marker: %q", d.running)
	assert.Equal(t, "r1", d.pending, "persist = run id")

	lr, err := s.DeviceLock(ctx)
	require.NoError(t, err)
	require.NotNil(t, lr)
	assert.Equal(t, "r1", lr.Run)

	// Another trial is refused, naming the holder, and cannot confirm.
	_, err = s.Apply(ctx, cfg("C"), drivers.ApplyOptions{Trial: trial("r2"), ConfirmWithin: time.Minute})
	var locked *drivers.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, "r1", locked.Holder.Run)
	assert.False(t, d.locked, "refused: the lock is released")
	assert.ErrorAs(t, s.Confirm(ctx, trial("r2")), &locked)

	d.calls = nil
	require.NoError(t, s.Confirm(ctx, trial("r1")))
	assert.Equal(t, "B", d.running, "confirmed: the marker is gone")
	assert.Equal(t, "", d.pending)
	assert.Contains(t, d.calls, "confirm", "the confirming commit names the run")
	assert.Error(t, s.Confirm(ctx, trial("r1")), "nothing left to confirm")
}

// TestLockRefusals: what the device says when it refuses the lock becomes
// a LockedError naming whoever holds it.
func TestLockRefusals(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		running string
		err     error
		holder  string
	}{
		"pending confirmed commit, marked": {"B|r1|2099-01-01T00:00:00Z",
			&netconf.RPCError{Tag: netconf.TagInUse, AppTag: "outstanding-confirmed-commit"}, "r1"},
		"pending confirmed commit, unmarked": {"B",
			&netconf.RPCError{Tag: netconf.TagInUse, AppTag: "outstanding-confirmed-commit"}, "a confirmed commit fwpush did not make"},
		"Junos' native words": {"B",
			&netconf.RPCError{Tag: netconf.TagOperationFailed, Message: "configuration database locked by: alice terminal p0 (pid 1234) on since 2026-01-02 03:04:05 UTC"},
			"another NETCONF session (editing the candidate)"},
		"another session edits": {"B",
			&netconf.RPCError{Tag: netconf.TagLockDenied, Info: netconf.ErrorInfo{SessionID: "7"}}, "NETCONF session 7 (editing the candidate)"},
	} {
		t.Run(name, func(t *testing.T) {
			s, d := newFake(tc.running)
			d.fail["lock"] = tc.err
			_, err := s.Apply(ctx, cfg("C"), drivers.ApplyOptions{Trial: trial("r2"), ConfirmWithin: time.Minute})
			var locked *drivers.LockedError
			require.ErrorAs(t, err, &locked)
			assert.True(t, errors.Is(err, fault.ErrLocked))
			assert.Contains(t, locked.Error(), tc.holder)
			assert.NotContains(t, d.calls, "load", "nothing loaded")
		})
	}
}

// TestFailurePaths: every failure before the commit discards the
// candidate and releases the lock; a device that acknowledges a commit it
// did not apply is indeterminate.
func TestFailurePaths(t *testing.T) {
	ctx := context.Background()
	rejected := &netconf.RPCError{Tag: netconf.TagInvalidValue, Message: "bad"}
	for _, step := range []string{"load", "check", "commit-confirmed"} {
		t.Run(step, func(t *testing.T) {
			s, d := newFake("A")
			d.fail[step] = rejected
			_, err := s.Apply(ctx, cfg("B"), drivers.ApplyOptions{Trial: trial("r1"), ConfirmWithin: time.Minute})
			require.Error(t, err)
			assert.ErrorIs(t, err, fault.ErrRejected)
			assert.Contains(t, err.Error(), "dev")
			assert.Equal(t, "A", d.running)
			assert.Equal(t, "A", d.candidate, "discarded")
			assert.False(t, d.locked, "unlocked")
		})
	}
	t.Run("foreign", func(t *testing.T) {
		s, d := newFake("A")
		_, err := s.Apply(ctx, cfg("foreign"), drivers.ApplyOptions{Trial: trial("r1"), ConfirmWithin: time.Minute})
		assert.ErrorIs(t, err, fault.ErrNotApplied)
		assert.NotContains(t, d.calls, "load")
		assert.False(t, d.locked)
	})
	t.Run("lost commit", func(t *testing.T) {
		s, d := newFake("A")
		d.lose = true
		_, err := s.Apply(ctx, cfg("B"), drivers.ApplyOptions{Trial: trial("r1"), ConfirmWithin: time.Minute})
		assert.ErrorIs(t, err, fault.ErrIndeterminate)
		assert.Contains(t, err.Error(), `want "B", device has "A"`)
	})
	t.Run("bad run id", func(t *testing.T) {
		s, d := newFake("A")
		_, err := s.Apply(ctx, cfg("B"), drivers.ApplyOptions{Trial: trial("r 1; rm")})
		assert.ErrorIs(t, err, fault.ErrNotApplied)
		assert.Empty(t, d.calls)
	})
}

// TestStaleMarker: a marker past its deadline and the grace no longer
// holds the device.
func TestStaleMarker(t *testing.T) {
	ctx := context.Background()
	past := time.Now().Add(-Grace - time.Minute).UTC().Format(time.RFC3339)
	s, d := newFake("B|r1|" + past)
	lr, err := s.DeviceLock(ctx)
	require.NoError(t, err)
	assert.Nil(t, lr)
	_, err = s.Apply(ctx, cfg("C"), drivers.ApplyOptions{Trial: trial("r2"), ConfirmWithin: time.Minute})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(d.running, "C|r2|"))
	// Rollback by the holder: the confirming commit carries what it
	// restores.
	require.NoError(t, s.Rollback(ctx, cfg("B"), trial("r2")))
	assert.Equal(t, "B", d.running)
}
