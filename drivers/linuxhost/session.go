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
	script := s.d.FetchScript()
	if !s.c.client.Sudo() {
		script = `printf '` + originMarker + `%s\n' "$SSH_CONNECTION"` + "\n" + script
	}
	out, err := s.c.Run(ctx, script, nil)
	if err != nil {
		return drivers.Config{}, fmt.Errorf("%s: fetch: %w", s.c.Host, err)
	}
	if first, rest, ok := strings.Cut(out, "\n"); ok && strings.HasPrefix(first, originMarker) {
		a, err := ssh.ParseSSHConnection(strings.TrimPrefix(first, originMarker))
		if err != nil {
			return drivers.Config{}, fmt.Errorf("%s: fetch: %w", s.c.Host, err)
		}
		s.c.client.SetOrigin(a)
		out = rest
	}
	c, err := s.d.Parse(out)
	if err == nil {
		s.fetched, s.fetchedAt = &c, time.Now()
	}
	return c, err
}

// Origin is the address the host sees fwpush's connection come from.
func (s *Session) Origin(ctx context.Context) (netip.Addr, error) {
	a, err := s.c.client.Origin(ctx)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s: origin: %w", s.c.Host, err)
	}
	return a, nil
}

// Validate checks desired on the device without applying it.
func (s *Session) Validate(ctx context.Context, desired drivers.Config) error {
	var b bundle
	if err := b.add(s.d, "check", desired); err != nil {
		return fmt.Errorf("%s: stage: %w", s.c.Host, err)
	}
	return s.stageAndCheck(ctx, &b, StateDir+"/check")
}

// stageAndCheck stages b and runs the dialect's check of the files under
// prefix, in one round trip. Neither step touches the policy in force, so
// any failure here leaves the device as it was.
func (s *Session) stageAndCheck(ctx context.Context, b *bundle, prefix string) error {
	script, stdin := b.script(StateDir)
	script += fmt.Sprintf("%s || exit %d\n", s.d.CheckScript(prefix), exitRejected)
	if _, err := s.c.Run(ctx, script, stdin); err != nil {
		if exit, ok := exitStatus(err, exitRejected); ok {
			return fmt.Errorf("%s: check: %s: %w", s.c.Host, exit.Output(), fault.ErrRejected)
		}
		return fmt.Errorf("%s: stage: %w: %w", s.c.Host, err, fault.ErrNotApplied)
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

// Apply validates, arms the revert timer (when within > 0), then applies.
// Each step that needs no answer before the next shares a round trip with
// it: staging both configs with the check, arming with applying. A push
// to hundreds of hosts spends its time in round trips and remote shells.
func (s *Session) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	within := o.ConfirmWithin
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
	var b bundle
	if err := b.add(s.d, "rollback", before); err != nil {
		return drivers.Armed{}, fmt.Errorf("%s: stage: %w: %w", s.c.Host, err, fault.ErrNotApplied)
	}
	if err := b.add(s.d, "desired", desired); err != nil {
		return drivers.Armed{}, fmt.Errorf("%s: stage: %w: %w", s.c.Host, err, fault.ErrNotApplied)
	}
	if err := s.stageAndCheck(ctx, &b, StateDir+"/desired"); err != nil {
		return drivers.Armed{}, err
	}
	script := s.d.ApplyScript(StateDir + "/desired")
	// The timer counts whole seconds from when the script runs, which is
	// after now: the deadline computed here is never later than the
	// device's.
	armed := drivers.ArmedFor(within, time.Second, time.Now())
	if within > 0 {
		script = fmt.Sprintf("(\n%s\n)\n[ $? -eq 0 ] || exit %d\n%s", s.armScript(within), exitArm, script)
	}
	if _, err := s.c.Run(ctx, script, nil); err != nil {
		var exit *ExitError
		switch {
		case isExit(err, exitArm):
			return drivers.Armed{}, fmt.Errorf("%s: arm revert timer: %w", s.c.Host, err)
		case errors.As(err, &exit):
			// The tool refused. nft changed nothing, but iptables may have
			// restored IPv4 before IPv6 failed: put the staged previous
			// rules back now (and drop the timer) rather than leave a mix.
			restore := s.d.ApplyScript(StateDir + "/rollback")
			if within > 0 {
				restore = disarmScript + restore
			}
			if _, rerr := s.c.Run(ctx, restore, nil); rerr != nil && !isExit(rerr, 3) {
				return armed, fmt.Errorf("%s: apply: %v; restoring the previous rules: %v: %w", s.c.Host, err, rerr, fault.ErrIndeterminate)
			}
			return drivers.Armed{}, fmt.Errorf("%s: apply: %v: %w", s.c.Host, err, fault.ErrRejected)
		}
		return armed, fmt.Errorf("%s: apply: %w: %w", s.c.Host, err, fault.ErrIndeterminate)
	}
	if within <= 0 {
		return drivers.Armed{}, s.persist(ctx, "desired")
	}
	return armed, nil
}

// armScript starts the revert timer in its own session (setsid), so
// neither a dropped SSH connection nor sshd reaping it can stop the
// revert; it succeeds only once the timer runs.
func (s *Session) armScript(within time.Duration) string {
	revert := fmt.Sprintf(`#!/bin/sh
# fwpush revert timer: restores the previous policy unless confirmed.
echo $$ > %[1]s/armed.pid.tmp && mv -f %[1]s/armed.pid.tmp %[1]s/armed.pid
sleep %[2]s
# Claim the trial before restoring: disarm claims it by the same rename, so
# a confirm that comes too late fails instead of killing a half-done
# restore (iptables restores one family at a time) and persisting.
mv %[1]s/armed.pid %[1]s/firing.pid 2>/dev/null || exit 0
%[3]s
rm -f %[1]s/firing.pid %[1]s/armed.deadline
echo "$(date +%%s) reverted" >> %[1]s/revert.log
`, StateDir, seconds(within), s.d.ApplyScript(StateDir+"/rollback"))
	return fmt.Sprintf(`set -e
cd %[1]s
%[4]s
if mv armed.pid stale.pid 2>/dev/null; then kill_timer stale.pid; fi
cat > revert.sh <<'FWPUSH_REVERT_EOF'
%[2]sFWPUSH_REVERT_EOF
echo $(( $(date +%%s) + %[3]s )) > armed.deadline
setsid -f sh %[1]s/revert.sh </dev/null >/dev/null 2>&1
i=0
while [ ! -s armed.pid ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
test -s armed.pid`, StateDir, revert, seconds(within), killTimer)
}

// killTimer defines kill_timer FILE: kill the process group of the revert
// timer whose pid FILE holds, then remove FILE. It checks the process is
// still a revert timer: the pid file outlives a reboot, and its pid may
// since belong to anything.
const killTimer = `kill_timer() {
	p=$(cat "$1") && tr '\0' ' ' < /proc/"$p"/cmdline 2>/dev/null | grep -q 'revert\.sh' && kill -- -"$p" 2>/dev/null || true
	rm -f "$1"
}`

// errNothingArmed means the revert already fired (or was never armed).
var errNothingArmed = errors.New("no revert timer armed: the change was already reverted or never armed")

// disarmScript claims the armed trial by renaming armed.pid, the same
// rename the timer makes when it fires: whoever wins, the other backs off,
// so a confirm racing the deadline either stops the timer or fails. It
// exits 3 when nothing is armed.
var disarmScript = fmt.Sprintf(`cd %s || exit 3
%s
mv armed.pid disarmed.pid 2>/dev/null || exit 3
kill_timer disarmed.pid
rm -f armed.deadline
`, StateDir, killTimer)

func (s *Session) disarm(ctx context.Context) error {
	_, err := s.c.Run(ctx, disarmScript, nil)
	if isExit(err, 3) {
		return errNothingArmed
	}
	return err
}

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

// Confirm stops the revert timer and only then makes the change
// persistent, in one round trip. It works from any session: all state is
// on the device.
func (s *Session) Confirm(ctx context.Context, t drivers.Trial) error {
	script := fmt.Sprintf("%s(\n%s\n)\n[ $? -eq 0 ] || exit %d\n", disarmScript, s.d.PersistScript(StateDir+"/desired"), exitPersist)
	_, err := s.c.Run(ctx, script, nil)
	switch {
	case err == nil:
		return nil
	case isExit(err, 3):
		return fmt.Errorf("%s: confirm: %w", s.c.Host, errNothingArmed)
	case isExit(err, exitPersist):
		return fmt.Errorf("%s: persist: %w", s.c.Host, err)
	}
	return fmt.Errorf("%s: confirm: %w", s.c.Host, err)
}

// Rollback restores to (and persists it), disarming any pending timer.
func (s *Session) Rollback(ctx context.Context, to drivers.Config, t drivers.Trial) error {
	s.fetched = nil
	var b bundle
	if err := b.add(s.d, "rollback", to); err != nil {
		return fmt.Errorf("%s: stage: %w: %w", s.c.Host, err, fault.ErrNotApplied)
	}
	script, stdin := b.script(StateDir)
	if _, err := s.c.Run(ctx, script, stdin); err != nil {
		return fmt.Errorf("%s: stage rollback: %w: %w", s.c.Host, err, fault.ErrNotApplied)
	}
	if err := s.disarm(ctx); err != nil && !errors.Is(err, errNothingArmed) {
		return fmt.Errorf("%s: rollback: %w", s.c.Host, err)
	}
	if _, err := s.c.Run(ctx, s.d.ApplyScript(StateDir+"/rollback"), nil); err != nil {
		return fmt.Errorf("%s: rollback: %w", s.c.Host, err)
	}
	return s.persist(ctx, "rollback")
}

// Close closes the connection.
func (s *Session) Close() error { return s.c.Close() }

func (s *Session) persist(ctx context.Context, prefix string) error {
	if _, err := s.c.Run(ctx, s.d.PersistScript(StateDir+"/"+prefix), nil); err != nil {
		return fmt.Errorf("%s: persist: %w", s.c.Host, err)
	}
	return nil
}
