package ciscoios

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/clisession"
	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/internal/fault"
)

// mechanism is IOS-XE's Configuration Rollback Confirmed Change: the
// change is typed after `configure terminal revert timer N`, which
// archives the running config first and rolls back to it after N
// minutes unless `configure confirm` (from any session) comes first. The
// timer lives on the device, so a dropped SSH session changes nothing.
// Each line of `configure terminal` takes effect as it is typed, which is
// why every change is make-before-break under new names: the lists in
// force are never edited.
type mechanism struct{}

// minMinutes: with a one-minute timer IOS prints its "rollback will begin
// in one minute" warning right after the configuration prompt, so the
// prompt no longer ends the output and the CLI engine cannot find it.
const (
	minMinutes = 2
	// IOS counts 1-120 minutes; the typing runs under one more (Apply).
	maxMinutes = 119
)

// info is what IOS-XE says about its archive and revert timer.
type info struct {
	archive bool
	user    string // the user of a pending revert timer
}

func (mechanism) StateCommands() []string {
	return []string{"show archive", "show archive config rollback timer"}
}

func (mechanism) State(dev *netacl.Device, out []string) (*drivers.Trial, any) {
	in := info{archive: !strings.Contains(out[0], "Archive feature not enabled")}
	if strings.Contains(out[1], "No Rollback Confirmed Change pending") || !strings.Contains(out[1], "Timer value") {
		return nil, in
	}
	for _, l := range strings.Split(out[1], "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "User:"); ok {
			in.user = strings.TrimSpace(v)
		}
	}
	if t := dev.Lock(); t != nil {
		return t, in
	}
	return &drivers.Trial{Run: "unknown (a Rollback Confirmed Change fwpush did not arm)", User: in.user}, in
}

// Warnings are what plan says about the device before a push.
func (mechanism) Warnings(st *netacl.State) []string {
	if !st.Info.(info).archive {
		return []string{"the configuration archive is off (no `archive` / `path`): IOS-XE has no revert timer without it, so apply refuses this device; configure e.g. `archive` / `path flash:archive` / `maximum 14`"}
	}
	return nil
}

// minutes is the timer asked for within, rounded up to whole minutes.
func minutes(within time.Duration) (int, error) {
	m := int((within + time.Minute - 1) / time.Minute)
	if m < minMinutes {
		m = minMinutes
	}
	if m > maxMinutes {
		return 0, fmt.Errorf("a revert timer of %s: IOS-XE counts at most %d minutes: %w", within, maxMinutes, fault.ErrNotApplied)
	}
	return m, nil
}

func (m mechanism) Apply(ctx context.Context, s *netacl.Session, st *netacl.State, want *netacl.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	if !st.Info.(info).archive {
		return drivers.Armed{}, fmt.Errorf("the configuration archive is off: IOS-XE's revert timer needs `archive` with a `path` (e.g. archive / path flash:archive / maximum 14); fwpush does not change the device without it: %w", fault.ErrNotApplied)
	}
	within := o.ConfirmWithin
	confirm := within > 0
	if !confirm {
		// No trial: the timer still guards the typing (a refused line is
		// rolled back at once), and is confirmed as soon as it is done.
		within = minMinutes * time.Minute
	}
	min, err := minutes(within)
	if err != nil {
		return drivers.Armed{}, err
	}
	t := s.Table()
	// IOS warns the session that armed the timer one minute before it
	// fires, in the middle of whatever that session is printing: a
	// warning landing amid the typing would garble the dialogue. So the
	// typing runs under a timer a minute longer than asked, set to the
	// delay asked as soon as the change is typed (`configure revert
	// timer` counts again from then).
	lines := []string{t.Command("arm", "minutes", strconv.Itoa(min+1))}
	if confirm {
		lines = append(lines, s.Dialect().LockLines(o.Trial)...)
	}
	lines = append(lines, s.Dialect().ChangeLines(want, st.Dev, st.Dev.Generation()+1)...)
	lines = append(lines, t.Command("end"))
	armed := drivers.ArmedFor(time.Duration(min+1)*time.Minute, time.Minute, time.Now())
	_, err = s.Conn.Run(ctx, lines...)
	var refused *clisession.RefusedError
	switch {
	case errors.As(err, &refused) && refused.Line == 1:
		return drivers.Armed{}, fmt.Errorf("arm the revert timer: %w: %w", err, fault.ErrNotApplied)
	case errors.As(err, &refused):
		// Everything typed before the refused line is in force (as
		// IOS-XE applies line by line): roll back to the archive now.
		if _, rerr := s.Conn.Run(ctx, t.Command("end"), t.Command("revert-now")); rerr != nil {
			return armed, fmt.Errorf("%w; rolling back at once failed (%v), the revert timer restores the device at %s: %w",
				err, rerr, armed.Deadline.Format(time.RFC3339), fault.ErrIndeterminate)
		}
		return drivers.Armed{}, fmt.Errorf("%w; rolled back to the archive at once", err)
	case err != nil:
		return armed, fmt.Errorf("%w: %w", err, fault.ErrIndeterminate)
	}
	reset := drivers.ArmedFor(time.Duration(min)*time.Minute, time.Minute, time.Now())
	if _, err := s.Conn.Run(ctx, t.Command("revert-timer", "minutes", strconv.Itoa(min))); err != nil {
		return armed, fmt.Errorf("set the revert timer to %d minutes: %w: %w", min, err, fault.ErrIndeterminate)
	}
	armed = reset
	if !confirm {
		if _, err := s.Conn.Run(ctx, t.Command("confirm"), t.Command("save")); err != nil {
			return armed, fmt.Errorf("confirm and save: %w: %w", err, fault.ErrIndeterminate)
		}
		return drivers.Armed{}, nil
	}
	return armed, nil
}

// Confirm stops the revert timer, removes the lock and saves: once the
// timer is stopped the change stays whatever happens next.
func (mechanism) Confirm(ctx context.Context, s *netacl.Session, st *netacl.State, tr drivers.Trial) error {
	t := s.Table()
	if _, err := s.Conn.Run(ctx, t.Command("confirm")); err != nil {
		return fmt.Errorf("the revert timer could not be stopped (it fired first?): %w", err)
	}
	_, err := s.Conn.Run(ctx, t.Command("configure"), s.Dialect().UnlockLine(), t.Command("end"), t.Command("save"))
	return err
}

// Rollback rolls a pending trial back to its archive at once, then brings
// the owned part to `to` (make-before-break, under a revert timer
// confirmed at once) when that is not where the archive left it, and
// saves.
func (m mechanism) Rollback(ctx context.Context, s *netacl.Session, st *netacl.State, to *netacl.Config, tr drivers.Trial) error {
	t := s.Table()
	if st.Holder != nil {
		if _, err := s.Conn.Run(ctx, t.Command("revert-now")); err != nil {
			return fmt.Errorf("roll back to the archive: %w", err)
		}
		var err error
		if st, err = s.Read(ctx); err != nil {
			return err
		}
	}
	if !s.Equal(st, to) {
		if _, err := m.Apply(ctx, s, st, to, drivers.ApplyOptions{Trial: tr}); err != nil {
			return err
		}
		return nil
	}
	_, err := s.Conn.Run(ctx, t.Command("save"))
	return err
}
