package linuxhost

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/shellquote"
)

// A trial on a Linux host is three things under StateDir, all on the
// device so that every controller sees the same truth:
//
//   - lock/holder: the trial lock, taken with mkdir, naming the run,
//     controller, user and start of the trial holding the host;
//   - armed.pid, armed.deadline: the revert timer (a setsid'd revert.sh)
//     and when it fires;
//   - trials/<run>/: the trial's staged files (desired, rollback) and its
//     revert.sh, so two controllers staging at once never overwrite each
//     other's rollback.
//
// A lock is live while its revert timer runs. Everything that reads or
// changes the lock runs under flock(1) on .mutex, revert.sh included, so
// no script ever sees a lock taken but its timer not yet armed. A lock
// whose timer is gone (it fired, the host rebooted, a script died before
// arming) belongs to a trial that is provably over, and the next trial
// takes it over. A push without commit-confirm holds the lock only for
// the one script that applies and persists.

// Exit statuses of the trial scripts, with exitRejected, exitArm and
// exitPersist.
const (
	exitNothingArmed = 3  // no trial of ours is pending (reverted, or never armed)
	exitBadRun       = 94 // the run id is not one fwpush makes
	exitLocked       = 95 // another live trial holds the lock; stdout names it
	exitMutex        = 96 // the mutex stayed taken past its wait
)

// runID is what a run id must look like to name a trial directory.
var runID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)

// trialDir is where a trial's files live on the device.
func trialDir(run string) string { return StateDir + "/trials/" + run }

// trialLib is the shell the trial scripts share, run from StateDir.
const trialLib = `mutex() { exec 9>>.mutex && flock -w 30 9 || exit 96; }
is_timer() { p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && tr '\0' ' ' < /proc/"$p"/cmdline 2>/dev/null | grep -q 'revert\.sh'; }
kill_timer() { if is_timer "$1"; then kill -- -"$(cat "$1")" 2>/dev/null || true; fi; rm -f "$1"; }
live() { is_timer armed.pid; }
holder_run() { sed -n 's/^run=//p' lock/holder 2>/dev/null; }
`

// holderFile encodes a trial as the lock's holder file. The values come
// from the controller's environment, so each is one line of printable
// text, whatever it held.
func holderFile(t drivers.Trial) []byte {
	line := func(k, v string) string {
		v = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, v)
		if len(v) > 200 {
			v = v[:200]
		}
		return k + "=" + v + "\n"
	}
	return []byte(line("run", t.Run) + line("controller", t.Controller) + line("user", t.User) +
		line("since", t.Since.UTC().Format(time.RFC3339)))
}

// parseHolder reads a holder file back.
func parseHolder(s string) drivers.Trial {
	var t drivers.Trial
	for _, l := range strings.Split(s, "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "run":
			t.Run = v
		case "controller":
			t.Controller = v
		case "user":
			t.User = v
		case "since":
			t.Since, _ = time.Parse(time.RFC3339, v)
		}
	}
	return t
}

// takeScript takes the lock for the trial whose holder file is on stdin
// (breaking a lock whose timer is gone), then runs then. It exits
// exitLocked, printing the holder, while another trial's timer runs.
func takeScript(run, then string) string {
	return fmt.Sprintf(`set -e
mkdir -p %[1]s/trials
cd %[1]s
%[2]s
mutex
umask 077
cat > holder.new
if [ -d lock ] && [ "$(holder_run)" != %[3]s ] && live; then
	cat lock/holder
	rm -f holder.new
	exit 95
fi
if [ ! -d lock ] && live; then
	echo "run=unknown (a revert timer armed without a lock, by an older fwpush)"
	rm -f holder.new
	exit 95
fi
rm -f armed.pid armed.deadline
rm -rf lock
mkdir lock
mv holder.new lock/holder
find trials -mindepth 1 -maxdepth 1 -type d -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
# Each step below reports its own exit status.
set +e
%[4]s`, shellquote.Quote(StateDir), trialLib, shellquote.Quote(run), then)
}

// armScript starts the trial's revert timer in its own session (setsid),
// so neither a dropped SSH connection nor sshd reaping it can stop the
// revert; it succeeds only once the timer runs. The timer restores the
// trial's rollback files under the mutex, then releases the lock.
func armScript(d Dialect, run string, within time.Duration) string {
	dir := trialDir(run)
	revert := fmt.Sprintf(`#!/bin/sh
# fwpush revert timer: restores the previous policy unless confirmed.
cd %[1]s || exit 0
echo $$ > armed.pid.tmp && mv -f armed.pid.tmp armed.pid
sleep %[2]s
# Past the deadline a stuck mutex must not keep the old policy away: wait
# for it a while, then restore regardless.
exec 9>>.mutex
flock -w 120 9 || true
# Claim the trial before restoring: confirm claims it by the same rename,
# so a confirm that comes too late fails instead of killing a half-done
# restore (iptables restores one family at a time) and persisting.
mv armed.pid firing.pid 2>/dev/null || exit 0
%[3]s
rm -f firing.pid armed.deadline
rm -rf lock
echo "$(date +%%s) reverted" >> revert.log
`, shellquote.Quote(StateDir), seconds(within), d.ApplyScript(dir+"/rollback"))
	return fmt.Sprintf(`cat > %[1]s <<'FWPUSH_REVERT_EOF'
%[2]sFWPUSH_REVERT_EOF
echo $(( $(date +%%s) + %[3]s )) > armed.deadline
setsid -f sh %[1]s </dev/null >/dev/null 2>&1 9>&-
i=0
while [ ! -s armed.pid ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
test -s armed.pid`, shellquote.Quote(dir+"/revert.sh"), revert, seconds(within))
}

// endScript ends the trial run (confirm or roll back): under the mutex, it
// refuses another trial's lock (exitLocked), stops our timer, then runs
// then, and releases the lock whatever then did. It exits
// exitNothingArmed when our timer is gone: the trial already reverted.
// When lenient, a missing timer or lock is no reason to stop (a rollback
// restores either way).
func endScript(run, then string, lenient bool) string {
	gone := "exit 3"
	if lenient {
		gone = "true"
	}
	return fmt.Sprintf(`set +e
cd %[1]s || exit 3
%[2]s
mutex
if [ -d lock ] && [ "$(holder_run)" != %[3]s ] && live; then
	cat lock/holder
	exit 95
fi
if [ ! -d lock ] || [ "$(holder_run)" != %[3]s ]; then
	%[4]s
fi
if mv armed.pid disarmed.pid 2>/dev/null; then
	kill_timer disarmed.pid
else
	rm -rf lock
	%[4]s
fi
rm -f armed.deadline
( set -e
%[5]s
)
rc=$?
rm -rf lock
rm -rf %[6]s
[ $rc -eq 0 ] || exit 99
`, shellquote.Quote(StateDir), trialLib, shellquote.Quote(run), gone, then, shellquote.Quote(trialDir(run)))
}

// lockScript prints marker on a line of its own, then the holder of a
// live lock, if any. It takes no mutex: it only reads. The marker is new
// for each read, so no text of the ruleset before it can fake it.
func lockScript(marker string) string {
	return fmt.Sprintf(`echo %[1]s
cd %[2]s 2>/dev/null || exit 0
%[3]s
if [ -d lock ] && live; then cat lock/holder; fi
true`, marker, shellquote.Quote(StateDir), trialLib)
}

// newLockMarker makes the marker of one read.
func newLockMarker() string { return "fwpush-lock-" + randHex() + ":" }
