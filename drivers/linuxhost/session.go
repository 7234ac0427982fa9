package linuxhost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
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
}

// NewSession wraps a connection.
func NewSession(c *Conn, d Dialect) *Session { return &Session{c: c, d: d} }

// Fetch returns the owned part of the live ruleset.
func (s *Session) Fetch(ctx context.Context) (drivers.Config, error) {
	out, err := s.c.Run(ctx, s.d.FetchScript(), nil)
	if err != nil {
		return drivers.Config{}, fmt.Errorf("%s: fetch: %w", s.c.Host, err)
	}
	return s.d.Parse(out)
}

// Validate checks desired on the device without applying it.
func (s *Session) Validate(ctx context.Context, desired drivers.Config) error {
	if err := s.stage(ctx, "check", desired); err != nil {
		return err
	}
	if _, err := s.c.Run(ctx, s.d.CheckScript(StateDir+"/check"), nil); err != nil {
		return fmt.Errorf("%s: check: %v: %w", s.c.Host, err, drivers.ErrRejected)
	}
	return nil
}

// Apply validates, arms the revert timer (when within > 0), then applies.
func (s *Session) Apply(ctx context.Context, desired drivers.Config, within time.Duration) error {
	before, err := s.Fetch(ctx)
	if err != nil {
		return err
	}
	if err := s.stage(ctx, "rollback", before); err != nil {
		return err
	}
	if err := s.stage(ctx, "desired", desired); err != nil {
		return err
	}
	if _, err := s.c.Run(ctx, s.d.CheckScript(StateDir+"/desired"), nil); err != nil {
		return fmt.Errorf("%s: check: %v: %w", s.c.Host, err, drivers.ErrRejected)
	}
	if within > 0 {
		if err := s.arm(ctx, within); err != nil {
			return err
		}
	}
	if _, err := s.c.Run(ctx, s.d.ApplyScript(StateDir+"/desired"), nil); err != nil {
		var exit *ExitError
		if errors.As(err, &exit) {
			// The tool refused and (nft) changed nothing; drop the timer.
			_ = s.disarm(ctx)
			return fmt.Errorf("%s: apply: %v: %w", s.c.Host, err, drivers.ErrRejected)
		}
		return fmt.Errorf("%s: apply: %w: %w", s.c.Host, err, drivers.ErrIndeterminate)
	}
	if within <= 0 {
		return s.persist(ctx, "desired")
	}
	return nil
}

// arm starts the revert timer in its own session (setsid), so neither a
// dropped SSH connection nor sshd reaping it can stop the revert.
func (s *Session) arm(ctx context.Context, within time.Duration) error {
	revert := fmt.Sprintf(`#!/bin/sh
# fwpush revert timer: restores the previous policy unless confirmed.
echo $$ > %[1]s/armed.pid.tmp && mv -f %[1]s/armed.pid.tmp %[1]s/armed.pid
sleep %[2]s
%[3]s
rm -f %[1]s/armed.pid %[1]s/armed.deadline
echo "$(date +%%s) reverted" >> %[1]s/revert.log
`, StateDir, seconds(within), s.d.ApplyScript(StateDir+"/rollback"))
	script := fmt.Sprintf(`set -e
cd %[1]s
if [ -f armed.pid ]; then kill -- -"$(cat armed.pid)" 2>/dev/null || true; rm -f armed.pid; fi
cat > revert.sh <<'FWPUSH_REVERT_EOF'
%[2]sFWPUSH_REVERT_EOF
echo $(( $(date +%%s) + %[3]s )) > armed.deadline
setsid -f sh %[1]s/revert.sh </dev/null >/dev/null 2>&1
i=0
while [ ! -s armed.pid ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
test -s armed.pid`, StateDir, revert, seconds(within))
	if _, err := s.c.Run(ctx, script, nil); err != nil {
		return fmt.Errorf("%s: arm revert timer: %w", s.c.Host, err)
	}
	return nil
}

// errNothingArmed means the revert already fired (or was never armed).
var errNothingArmed = errors.New("no revert timer armed: the change was already reverted or never armed")

func (s *Session) disarm(ctx context.Context) error {
	script := fmt.Sprintf(`cd %s || exit 3
[ -s armed.pid ] || exit 3
kill -- -"$(cat armed.pid)" 2>/dev/null
rm -f armed.pid armed.deadline`, StateDir)
	_, err := s.c.Run(ctx, script, nil)
	var exit *ExitError
	if errors.As(err, &exit) && exit.Status == 3 {
		return errNothingArmed
	}
	return err
}

// Confirm stops the revert timer and only then makes the change persistent.
// It works from any session: all state is on the device.
func (s *Session) Confirm(ctx context.Context) error {
	if err := s.disarm(ctx); err != nil {
		return fmt.Errorf("%s: confirm: %w", s.c.Host, err)
	}
	return s.persist(ctx, "desired")
}

// Rollback restores to (and persists it), disarming any pending timer.
func (s *Session) Rollback(ctx context.Context, to drivers.Config) error {
	if err := s.stage(ctx, "rollback", to); err != nil {
		return err
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

// stage writes c's files as StateDir/<prefix>.<suffix> in one round trip,
// each by temp file + rename.
func (s *Session) stage(ctx context.Context, prefix string, c drivers.Config) error {
	files, err := s.d.Stage(c)
	if err != nil {
		return fmt.Errorf("%s: stage: %w", s.c.Host, err)
	}
	marker := "FWPUSH_EOF_" + randHex()
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\numask 077\nmkdir -p %s\ncd %s\n", StateDir, StateDir)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data := string(files[n])
		if strings.Contains(data, marker) {
			return fmt.Errorf("%s: stage: content contains the heredoc marker", s.c.Host)
		}
		if !strings.HasSuffix(data, "\n") {
			data += "\n"
		}
		fmt.Fprintf(&b, "cat > %[1]s.%[2]s.tmp <<'%[3]s'\n%[4]s%[3]s\nmv -f %[1]s.%[2]s.tmp %[1]s.%[2]s\n", prefix, n, marker, data)
	}
	if _, err := s.c.Run(ctx, b.String(), nil); err != nil {
		return fmt.Errorf("%s: stage %s: %w", s.c.Host, prefix, err)
	}
	return nil
}

func randHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
