package linuxhost

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/shellquote"
	"github.com/fwpush/fwpush/internal/transport/ssh"
)

// StateDir holds staged configs and the armed revert timer on the device.
const StateDir = "/var/lib/fwpush"

// Dialect is what differs between nftables and iptables.
type Dialect interface {
	// FetchScript prints the owned part of the live ruleset.
	FetchScript() string
	// Parse turns FetchScript's output into canonical config.
	Parse(stdout string) (drivers.Config, error)
	// Stage returns the files that represent c, by file-name suffix.
	Stage(c drivers.Config) (map[string][]byte, error)
	// CheckScript validates the files staged under prefix without
	// applying them; ApplyScript applies them as one transaction (as far
	// as the platform allows); PersistScript installs them as the boot
	// config by temp file + rename.
	CheckScript(prefix string) string
	ApplyScript(prefix string) string
	PersistScript(prefix string) string
}

// Session is one Linux host under a dialect.
type Session struct {
	c *Conn
	d Dialect
	// fetched is the config the last Fetch read and when: Apply restores
	// it on revert, and need not read it again right after a Fetch.
	fetched   *drivers.Config
	fetchedAt time.Time
	// holder is the live trial lock the last Fetch read (nil: none).
	holder   *drivers.Trial
	lockRead bool
}

// fresh is how recent a Fetch Apply uses instead of reading again: the
// engine fetches, diffs and applies in one go on one connection.
const fresh = 5 * time.Second

// NewSession wraps a connection.
func NewSession(c *Conn, d Dialect) *Session { return &Session{c: c, d: d} }

// originMarker starts the line a root fetch reports SSH_CONNECTION on.
const originMarker = "fwpush-origin:"

// Fetch returns the owned part of the live ruleset. A root login also
// reads the address the host sees it come from, in the same round trip.
func (s *Session) Fetch(ctx context.Context) (drivers.Config, error) {
	s.fetched = nil
	marker := newLockMarker()
	script := s.d.FetchScript() + "\n" + lockScript(marker)
	if !s.c.client.Sudo() {
		script = `printf '` + originMarker + `%s\n' "$SSH_CONNECTION"` + "\n" + script
	}
	out, err := s.c.Run(ctx, script, nil)
	if err != nil {
		return drivers.Config{}, err
	}
	if first, rest, ok := strings.Cut(out, "\n"); ok && strings.HasPrefix(first, originMarker) {
		a, err := ssh.ParseSSHConnection(strings.TrimPrefix(first, originMarker))
		if err != nil {
			return drivers.Config{}, err
		}
		s.c.client.SetOrigin(a)
		out = rest
	}
	out, holder, ok := strings.Cut(out, marker+"\n")
	if !ok {
		return drivers.Config{}, errors.New("output incomplete (no lock section)")
	}
	c, err := s.d.Parse(out)
	if err == nil {
		s.fetched, s.fetchedAt = &c, time.Now()
		s.holder, s.lockRead = holderOf(holder), true
	}
	return c, err
}

// Origin is the address the host sees fwpush's connection come from.
func (s *Session) Origin(ctx context.Context) (netip.Addr, error) {
	a, err := s.c.client.Origin(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	return a, nil
}

// Validate checks desired on the device without applying it, in a
// scratch directory of its own.
func (s *Session) Validate(ctx context.Context, desired drivers.Config) error {
	var b bundle
	if err := b.add(s.d, "check", desired); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	dir := StateDir + "/trials/check-" + randHex()
	err := s.stageAndCheck(ctx, &b, dir, dir+"/check")
	if _, rerr := s.c.Run(ctx, "rm -rf "+shellquote.Quote(dir), nil); err == nil && rerr != nil {
		err = fmt.Errorf("clean up check: %w", rerr)
	}
	return err
}

// stageAndCheck stages b into dir and runs the dialect's check of the
// files under prefix, in one round trip. Neither step touches the policy
// in force, so any failure here leaves the device as it was.
func (s *Session) stageAndCheck(ctx context.Context, b *bundle, dir, prefix string) error {
	script, stdin := b.script(dir)
	script += fmt.Sprintf("%s || exit %d\n", s.d.CheckScript(prefix), exitRejected)
	if _, err := s.c.Run(ctx, script, stdin); err != nil {
		if exit, ok := exitStatus(err, exitRejected); ok {
			return fmt.Errorf("check: %s: %w", exit.Output(), fault.ErrRejected)
		}
		return fmt.Errorf("stage: %w: %w", err, fault.ErrNotApplied)
	}
	return nil
}

// Exit statuses the combined scripts use to say which step failed. A step
// runs in a subshell tested on the next line, never as `( ... ) || exit`:
// in an || list the shell ignores set -e inside the subshell.
const (
	exitRejected = 97 // the device's own check refused the config
	exitArm      = 98 // the revert timer could not be armed
	exitPersist  = 99 // the boot config could not be written
)

// Apply stages and checks the trial's files, then, in one script under
// the device's mutex, takes the trial lock, arms the revert timer (when
// asked to confirm) and applies; without commit-confirm it also persists
// and releases the lock in that script. Each step that needs no answer
// before the next shares a round trip with it: a push to hundreds of
// hosts spends its time in round trips and remote shells.
func (s *Session) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	run, within := o.Trial.Run, o.ConfirmWithin
	if !runID.MatchString(run) {
		return drivers.Armed{}, fmt.Errorf("trial %q: not a run id: %w", run, fault.ErrNotApplied)
	}
	var before drivers.Config
	if s.fetched != nil && time.Since(s.fetchedAt) < fresh {
		before = *s.fetched
	} else {
		var err error
		if before, err = s.Fetch(ctx); err != nil {
			return drivers.Armed{}, fmt.Errorf("%w: %w", err, fault.ErrNotApplied)
		}
	}
	s.fetched = nil // from here on the device may change
	dir := trialDir(run)
	var b bundle
	if err := b.add(s.d, "rollback", before); err != nil {
		return drivers.Armed{}, fmt.Errorf("stage: %w: %w", err, fault.ErrNotApplied)
	}
	if err := b.add(s.d, "desired", desired); err != nil {
		return drivers.Armed{}, fmt.Errorf("stage: %w: %w", err, fault.ErrNotApplied)
	}
	if err := s.stageAndCheck(ctx, &b, dir, dir+"/desired"); err != nil {
		return drivers.Armed{}, err
	}
	then := s.d.ApplyScript(dir + "/desired")
	if within > 0 {
		then = fmt.Sprintf("(\n%s\n)\n[ $? -eq 0 ] || exit %d\n%s", armScript(s.d, run, within), exitArm, then)
	} else {
		// No timer: the lock lives for this script only.
		then = fmt.Sprintf("%s\nrc=$?\nif [ $rc -ne 0 ]; then rm -rf lock; exit $rc; fi\n(\n%s\n)\nrc=$?\nrm -rf lock %s\n[ $rc -eq 0 ] || exit %d\n",
			then, s.d.PersistScript(dir+"/desired"), shellquote.Quote(dir), exitPersist)
	}
	// The timer counts whole seconds from when the script runs, which is
	// after now: the deadline computed here is never later than the
	// device's.
	armed := drivers.ArmedFor(within, time.Second, time.Now())
	if _, err := s.c.Run(ctx, takeScript(run, then), holderFile(o.Trial)); err != nil {
		var exit *ExitError
		switch {
		case isExit(err, exitLocked):
			return drivers.Armed{}, &drivers.LockedError{Holder: parseHolder(lockHolderOutput(err))}
		case isExit(err, exitMutex):
			return drivers.Armed{}, fmt.Errorf("trial lock: another fwpush script held the device's mutex for 30 s: %w", fault.ErrNotApplied)
		case isExit(err, exitArm):
			return drivers.Armed{}, fmt.Errorf("arm revert timer: %w", err)
		case isExit(err, exitPersist):
			return drivers.Armed{}, fmt.Errorf("persist: %w", err)
		case errors.As(err, &exit):
			// The tool refused. nft changed nothing, but iptables may have
			// restored IPv4 before IPv6 failed: put the staged previous
			// rules back now (and end the trial) rather than leave a mix.
			if rerr := s.end(ctx, run, s.d.ApplyScript(dir+"/rollback"), true); rerr != nil {
				return armed, fmt.Errorf("%v; restoring the previous rules: %v: %w", err, rerr, fault.ErrIndeterminate)
			}
			return drivers.Armed{}, fmt.Errorf("%v: %w", err, fault.ErrRejected)
		}
		return armed, fmt.Errorf("%w: %w", err, fault.ErrIndeterminate)
	}
	return armed, nil
}

// lockHolderOutput is what a locked script printed: the holder file.
func lockHolderOutput(err error) string {
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Stdout
	}
	return ""
}

// end ends trial run on the device with then (see endScript).
func (s *Session) end(ctx context.Context, run, then string, lenient bool) error {
	_, err := s.c.Run(ctx, endScript(run, then, lenient), nil)
	switch {
	case err == nil:
		return nil
	case isExit(err, exitLocked):
		return &drivers.LockedError{Holder: parseHolder(lockHolderOutput(err))}
	case isExit(err, exitNothingArmed):
		return errNothingArmed
	case isExit(err, exitMutex):
		return fmt.Errorf("another fwpush script held the device's mutex for 30 s")
	case isExit(err, exitPersist):
		return fmt.Errorf("persist: %w", err)
	}
	return err
}

// errNothingArmed means the trial's revert already fired (or was never
// armed).
var errNothingArmed = errors.New("no revert timer armed for this trial: the change was already reverted or never armed")

// exitStatus returns err's ExitError when the remote command exited with
// status.
func exitStatus(err error, status int) (*ExitError, bool) {
	var exit *ExitError
	if errors.As(err, &exit) && exit.Status == status {
		return exit, true
	}
	return nil, false
}

// isExit says whether err is the remote command exiting with status.
func isExit(err error, status int) bool {
	_, ok := exitStatus(err, status)
	return ok
}

// Confirm stops the trial's revert timer and only then makes the change
// persistent, in one round trip, releasing the lock. It works from any
// session (all state is on the device) but only for its own trial.
func (s *Session) Confirm(ctx context.Context, t drivers.Trial) error {
	if !runID.MatchString(t.Run) {
		return fmt.Errorf("trial %q: not a run id", t.Run)
	}
	if err := s.end(ctx, t.Run, s.d.PersistScript(trialDir(t.Run)+"/desired"), false); err != nil {
		return err
	}
	return nil
}

// Rollback ends trial t by restoring to and persisting it, in one round
// trip: staging, then under the mutex, stopping the trial's timer. It
// refuses while another trial holds the device.
func (s *Session) Rollback(ctx context.Context, to drivers.Config, t drivers.Trial) error {
	s.fetched = nil
	if !runID.MatchString(t.Run) {
		return fmt.Errorf("trial %q: not a run id: %w", t.Run, fault.ErrNotApplied)
	}
	dir := trialDir(t.Run)
	var b bundle
	if err := b.add(s.d, "restore", to); err != nil {
		return fmt.Errorf("stage: %w: %w", err, fault.ErrNotApplied)
	}
	stage, stdin := b.script(dir)
	then := s.d.ApplyScript(dir+"/restore") + "\n" + s.d.PersistScript(dir+"/restore")
	if _, err := s.c.Run(ctx, stage+"\n"+endScript(t.Run, then, true), stdin); err != nil {
		switch {
		case isExit(err, exitLocked):
			return &drivers.LockedError{Holder: parseHolder(lockHolderOutput(err))}
		case isExit(err, exitPersist):
			return err
		}
		return err
	}
	return nil
}

// DeviceLock returns the trial holding the host, or nil: read by the last
// Fetch when it is fresh, else now.
func (s *Session) DeviceLock(ctx context.Context) (*drivers.Trial, error) {
	if s.lockRead && time.Since(s.fetchedAt) < fresh {
		return s.holder, nil
	}
	marker := newLockMarker()
	out, err := s.c.Run(ctx, lockScript(marker), nil)
	if err != nil {
		return nil, err
	}
	_, holder, _ := strings.Cut(out, marker+"\n")
	return holderOf(holder), nil
}

// holderOf parses a live lock's holder ("" means no live lock).
func holderOf(s string) *drivers.Trial {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	t := parseHolder(s)
	return &t
}

// Close closes the connection.
func (s *Session) Close() error { return s.c.Close() }
