package cisconxos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/clisession"
	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/internal/fault"
)

// mechanism: NX-OS has no revert timer for `configure terminal` or its
// configuration sessions (`configure replace ... commit-timeout`, 9.3(1)
// and later, needs a whole target configuration on bootflash). What every
// release has is a checkpoint, a rollback to it, and EEM: an applet whose
// `event timer countdown` runs `rollback running-config checkpoint ...`
// as a privileged session of its own, SSH session or not. So a trial is:
//
//  1. the change typed into a Session Manager session (`configure session
//     fwpush-<run>-<random>`), left pending (nothing is live yet);
//  2. `checkpoint fwpush-trial` — the state to return to, and the
//     device's test-and-set: a second controller's checkpoint of that
//     name is refused while the first holds it;
//  3. in `configure terminal`: the lock ACL, and the applet FWPUSH-REVERT
//     (countdown in seconds), armed when its sub-mode is left; then the
//     session is committed, all or nothing;
//  4. confirm, from any connection: remove the applet (the countdown
//     stops), the lock and the checkpoint, then copy to startup.
//
// Rolling back to the checkpoint removes the applet and the lock with the
// change, since both came after it. The change is typed into its session
// first (nothing of it is live before the commit), so the countdown runs
// only from just before the commit; a commit that still came after the
// countdown fired is undone (stillArmed). Limits: NX-OS shows no countdown, so the lock is live while the
// applet is in the running config; a checkpoint left behind without an
// applet (a trial that reverted) is over and is replaced by the next
// trial, and two controllers replacing one at the same moment race.
type mechanism struct{}

const (
	checkpoint = "fwpush-trial"
	applet     = "FWPUSH-REVERT"
)

// info is what NX-OS shows of a trial.
type info struct {
	checkpoint bool // fwpush-trial exists
	applet     bool // FWPUSH-REVERT is configured: its countdown runs
}

func (mechanism) StateCommands() []string { return []string{"show checkpoint summary"} }

func (mechanism) State(dev *netacl.Device, out []string) (*drivers.Trial, any) {
	in := info{applet: slices.Contains(dev.Applets, applet)}
	for _, l := range strings.Split(out[0], "\n") {
		if strings.TrimSpace(l) != "" && strings.Contains(l, ") "+checkpoint+":") {
			in.checkpoint = true
		}
	}
	if !in.applet {
		return nil, in
	}
	if t := dev.Lock(); t != nil {
		return t, in
	}
	return &drivers.Trial{Run: "unknown (EEM applet " + applet + " is armed without a lock: a trial being armed, or one fwpush did not make)"}, in
}

func (mechanism) Apply(ctx context.Context, s *netacl.Session, st *netacl.State, want *netacl.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	t := s.Table()
	confirm := o.ConfirmWithin > 0
	b := make([]byte, 3)
	rand.Read(b)
	sess := "fwpush-" + o.Trial.Run + "-" + hex.EncodeToString(b)
	// The change is typed into the session first: nothing of it is live
	// before the commit, so the revert is armed only once it is typed,
	// right before the commit, and its countdown never runs under a
	// change still being typed.
	lines := append([]string{t.Command("session", "name", sess)}, s.Dialect().ChangeLines(want, st.Dev, st.Dev.Generation()+1)...)
	lines = append(lines, t.Command("end"))
	if _, err := s.Conn.Run(ctx, lines...); err != nil {
		var refused *clisession.RefusedError
		if errors.As(err, &refused) {
			if _, aerr := s.Conn.Run(ctx, t.Command("abort")); aerr != nil {
				return drivers.Armed{}, fmt.Errorf("%w; aborting session %s: %v", err, sess, aerr)
			}
			return drivers.Armed{}, fmt.Errorf("%w; nothing committed", err)
		}
		return drivers.Armed{}, fmt.Errorf("%w: %w", err, fault.ErrNotApplied)
	}
	var armed drivers.Armed
	if confirm {
		var err error
		if armed, err = arm(ctx, s, st, o); err != nil {
			if _, aerr := s.Conn.Run(ctx, t.Command("session", "name", sess), t.Command("abort")); aerr != nil && armed.Within == 0 {
				return armed, fmt.Errorf("%w; aborting session %s: %v", err, sess, aerr)
			}
			return armed, err
		}
	}
	_, err := s.Conn.Run(ctx, t.Command("session", "name", sess), t.Command("commit"))
	var refused *clisession.RefusedError
	switch {
	case errors.As(err, &refused):
		// Session Manager applies nothing before a commit that succeeds;
		// a refused commit leaves the session open: discard it.
		undo := []string{t.Command("abort")}
		if confirm {
			undo = append(undo, t.Command("rollback", "name", checkpoint), t.Command("no-checkpoint", "name", checkpoint))
		}
		if _, uerr := s.Conn.Run(ctx, undo...); uerr != nil {
			return armed, fmt.Errorf("%w; undoing the trial: %v: %w", err, uerr, fault.ErrIndeterminate)
		}
		return drivers.Armed{}, fmt.Errorf("%w; nothing committed", err)
	case err != nil:
		return armed, fmt.Errorf("%w: %w", err, fault.ErrIndeterminate)
	}
	if confirm {
		return armed, stillArmed(ctx, s, o)
	}
	if _, err := s.Conn.Run(ctx, t.Command("save")); err != nil {
		return drivers.Armed{}, fmt.Errorf("save: %w: %w", err, fault.ErrIndeterminate)
	}
	return armed, nil
}

// arm takes the checkpoint (the device-side test-and-set) and writes the
// lock and the applet whose countdown reverts the trial.
func arm(ctx context.Context, s *netacl.Session, st *netacl.State, o drivers.ApplyOptions) (drivers.Armed, error) {
	t := s.Table()
	if st.Info.(info).checkpoint {
		// Left by a trial whose applet is gone: that trial is over.
		if _, err := s.Conn.Run(ctx, t.Command("no-checkpoint", "name", checkpoint)); err != nil {
			return drivers.Armed{}, fmt.Errorf("remove the checkpoint of an ended trial: %w: %w", err, fault.ErrNotApplied)
		}
	}
	if _, err := s.Conn.Run(ctx, t.Command("checkpoint", "name", checkpoint)); err != nil {
		var refused *clisession.RefusedError
		if errors.As(err, &refused) {
			// Another controller took it between our read and now.
			if now, rerr := s.Read(ctx); rerr == nil && now.Holder != nil {
				return drivers.Armed{}, &drivers.LockedError{Holder: *now.Holder}
			}
		}
		return drivers.Armed{}, fmt.Errorf("checkpoint: %w: %w", err, fault.ErrNotApplied)
	}
	secs := int64((o.ConfirmWithin + time.Second - 1) / time.Second)
	lines := append([]string{t.Command("configure")}, s.Dialect().LockLines(o.Trial)...)
	lines = append(lines,
		t.Command("applet", "name", applet),
		t.Command("countdown", "seconds", strconv.FormatInt(secs, 10)),
		t.Command("action", "checkpoint", checkpoint),
		t.Command("end"))
	armed := drivers.ArmedFor(time.Duration(secs)*time.Second, time.Second, time.Now())
	if _, err := s.Conn.Run(ctx, lines...); err != nil {
		// Whatever of the lock and applet landed goes with the checkpoint.
		if _, uerr := s.Conn.Run(ctx, t.Command("end"), t.Command("rollback", "name", checkpoint), t.Command("no-checkpoint", "name", checkpoint)); uerr != nil {
			return armed, fmt.Errorf("arm the revert: %w; undoing: %v: %w", err, uerr, fault.ErrIndeterminate)
		}
		return drivers.Armed{}, fmt.Errorf("arm the revert: %w: %w", err, fault.ErrNotApplied)
	}
	return armed, nil
}

// stillArmed checks, after the commit, that the trial's lock and applet
// are still there: had the countdown fired before the commit (a trial
// shorter than the few commands between arming and committing), the
// commit landed on the rolled-back config with no revert armed, and it is
// undone at once.
func stillArmed(ctx context.Context, s *netacl.Session, o drivers.ApplyOptions) error {
	t := s.Table()
	now, err := s.Read(ctx)
	if err != nil {
		return fmt.Errorf("check the trial after its commit: %w: %w", err, fault.ErrIndeterminate)
	}
	if l := now.Dev.Lock(); l != nil && l.Run == o.Trial.Run && now.Info.(info).applet {
		return nil
	}
	if _, err := s.Conn.Run(ctx, t.Command("configure"), t.Command("no-applet", "name", applet), t.Command("end"),
		t.Command("rollback", "name", checkpoint), t.Command("no-checkpoint", "name", checkpoint)); err != nil {
		return fmt.Errorf("the revert countdown fired before the commit, and undoing the commit failed: %w: %w", err, fault.ErrIndeterminate)
	}
	return fmt.Errorf("the revert countdown fired before the change was committed: the commit was undone: %w", fault.ErrRejected)
}

// Confirm removes the applet first (its countdown stops), then checks the
// trial is still on the device — the countdown may have fired just
// before — and only then drops the lock and the checkpoint and saves.
func (mechanism) Confirm(ctx context.Context, s *netacl.Session, st *netacl.State, tr drivers.Trial) error {
	t := s.Table()
	if _, err := s.Conn.Run(ctx, t.Command("configure"), t.Command("no-applet", "name", applet), t.Command("end")); err != nil {
		return fmt.Errorf("stop the revert applet: %w", err)
	}
	now, err := s.Read(ctx)
	if err != nil {
		return err
	}
	if l := now.Dev.Lock(); l == nil || l.Run != tr.Run {
		return fmt.Errorf("trial %s was reverted by its applet before the confirm", tr.Run)
	}
	_, err = s.Conn.Run(ctx, t.Command("configure"), s.Dialect().UnlockLine(), t.Command("end"),
		t.Command("no-checkpoint", "name", checkpoint), t.Command("save"))
	return err
}

// Rollback returns a pending trial to its checkpoint at once, then brings
// the owned part to `to` through a session of its own when that is not
// where the checkpoint left it, and saves.
func (m mechanism) Rollback(ctx context.Context, s *netacl.Session, st *netacl.State, to *netacl.Config, tr drivers.Trial) error {
	t := s.Table()
	if st.Holder != nil {
		if _, err := s.Conn.Run(ctx, t.Command("rollback", "name", checkpoint), t.Command("no-checkpoint", "name", checkpoint)); err != nil {
			return fmt.Errorf("roll back to the checkpoint: %w", err)
		}
		var err error
		if st, err = s.Read(ctx); err != nil {
			return err
		}
	}
	if !s.Equal(st, to) {
		_, err := m.Apply(ctx, s, st, to, drivers.ApplyOptions{Trial: tr})
		return err
	}
	_, err := s.Conn.Run(ctx, t.Command("save"))
	return err
}
