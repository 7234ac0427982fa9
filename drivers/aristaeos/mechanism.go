package aristaeos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/clisession"
	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/internal/fault"
)

// mechanism is EOS's configuration session: the change is typed into
// `configure session fwpush-<run>`, a private copy of the running config
// (nothing reaches the device until commit), then `commit timer hh:mm:ss`
// replaces the running config and restores the previous one when the
// timer runs out, unless `configure session fwpush-<run> commit` comes
// first from any connection. A refused line is discarded with `abort`.
type mechanism struct{}

// maxTimer: hh:mm:ss with two-digit hours.
const maxTimer = 24 * time.Hour

// session is one row of `show configuration sessions`.
type session struct{ name, state, user string }

// info is the device's configuration sessions, and the one whose commit
// timer is pending ("" when none).
type info struct {
	sessions []session
	pending  string
}

func (mechanism) StateCommands() []string { return []string{"show configuration sessions"} }

func (mechanism) State(dev *netacl.Device, out []string) (*drivers.Trial, any) {
	var in info
	rows := false
	for _, l := range strings.Split(out[0], "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) > 0 && strings.Trim(f[0], "-") == "":
			rows = true
		case rows && len(f) >= 2:
			in.sessions = append(in.sessions, session{name: f[0], state: f[1], user: strings.Join(f[2:min(3, len(f))], "")})
			if strings.Contains(strings.ToLower(f[1]), "timer") {
				in.pending = f[0]
			}
		}
	}
	if in.pending == "" {
		return nil, in
	}
	if t := dev.Lock(); t != nil && (in.pending == "fwpush-"+t.Run || strings.HasPrefix(in.pending, "fwpush-"+t.Run+"-")) {
		return t, in
	}
	user := ""
	for _, x := range in.sessions {
		if x.name == in.pending {
			user = x.user
		}
	}
	return &drivers.Trial{Run: fmt.Sprintf("unknown (configuration session %s has a pending commit timer)", in.pending), User: user}, in
}

// name is a session name not in use: fwpush-<run> for a trial, with a
// random suffix when that name exists (EOS never re-enters a completed
// session) or for a change that is no trial.
func name(in info, run string, trial bool) string {
	n := "fwpush-" + run
	used := false
	for _, s := range in.sessions {
		used = used || s.name == n
	}
	if trial && !used {
		return n
	}
	b := make([]byte, 3)
	rand.Read(b)
	return n + "-" + hex.EncodeToString(b)
}

// hms is a duration as the commit timer takes it, rounded up to seconds.
func hms(d time.Duration) (string, time.Duration, error) {
	s := int64((d + time.Second - 1) / time.Second)
	if d > maxTimer {
		return "", 0, fmt.Errorf("a commit timer of %s: more than %s: %w", d, maxTimer, fault.ErrNotApplied)
	}
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60), time.Duration(s) * time.Second, nil
}

func (mechanism) Apply(ctx context.Context, s *netacl.Session, st *netacl.State, want *netacl.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	t := s.Table()
	confirm := o.ConfirmWithin > 0
	sess := name(st.Info.(info), o.Trial.Run, confirm)
	lines := []string{t.Command("session", "name", sess)}
	if confirm {
		lines = append(lines, s.Dialect().LockLines(o.Trial)...)
	}
	lines = append(lines, s.Dialect().ChangeLines(want, st.Dev, st.Dev.Generation()+1)...)
	var armed drivers.Armed
	if confirm {
		timer, within, err := hms(o.ConfirmWithin)
		if err != nil {
			return drivers.Armed{}, err
		}
		lines = append(lines, t.Command("commit-timer", "hms", timer))
		armed = drivers.ArmedFor(within, time.Second, time.Now())
	} else {
		lines = append(lines, t.Command("commit"))
	}
	_, err := s.Conn.Run(ctx, lines...)
	var refused *clisession.RefusedError
	switch {
	case errors.As(err, &refused) && refused.Line == 1:
		return drivers.Armed{}, fmt.Errorf("open the configuration session: %w: %w", err, fault.ErrNotApplied)
	case errors.As(err, &refused):
		// Nothing of a session reaches the running config before its
		// commit (a refused commit included): leave it and discard it.
		if _, aerr := s.Conn.Run(ctx, t.Command("end"), t.Command("abort-session", "name", sess)); aerr != nil {
			return drivers.Armed{}, fmt.Errorf("%w; aborting session %s: %v", err, sess, aerr)
		}
		return drivers.Armed{}, fmt.Errorf("%w; session %s aborted, nothing committed", err, sess)
	case err != nil:
		return armed, fmt.Errorf("%w: %w", err, fault.ErrIndeterminate)
	}
	if !confirm {
		if _, err := s.Conn.Run(ctx, t.Command("save")); err != nil {
			return drivers.Armed{}, fmt.Errorf("save: %w: %w", err, fault.ErrIndeterminate)
		}
	}
	return armed, nil
}

// Confirm commits the pending session again, which stops its timer, then
// removes the lock and saves.
func (mechanism) Confirm(ctx context.Context, s *netacl.Session, st *netacl.State, tr drivers.Trial) error {
	t := s.Table()
	if _, err := s.Conn.Run(ctx, t.Command("confirm", "name", st.Info.(info).pending)); err != nil {
		return fmt.Errorf("the commit timer could not be stopped (it fired first?): %w", err)
	}
	_, err := s.Conn.Run(ctx, t.Command("configure"), s.Dialect().UnlockLine(), t.Command("end"), t.Command("save"))
	return err
}

// Rollback aborts a pending session (its previous running config comes
// back at once), then brings the owned part to `to` in a session of its
// own when that is not where the abort left it, and saves.
func (m mechanism) Rollback(ctx context.Context, s *netacl.Session, st *netacl.State, to *netacl.Config, tr drivers.Trial) error {
	t := s.Table()
	if st.Holder != nil {
		if _, err := s.Conn.Run(ctx, t.Command("abort-session", "name", st.Info.(info).pending)); err != nil {
			return fmt.Errorf("abort the pending session: %w", err)
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
