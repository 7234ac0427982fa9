package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/logging"
	"github.com/fwpush/fwpush/internal/shellquote"
)

// killGrace is how long a cancelled command gets between SIGTERM and
// SIGKILL, and then how long we wait for the channel to close.
const killGrace = 500 * time.Millisecond

// Result is what a remote command produced. A non-zero ExitStatus is a
// result, not an error: callers decide what a failing command means.
type Result struct {
	Stdout     []byte
	Stderr     []byte
	ExitStatus int // 128+N when killed by signal N, as a shell reports it; -1 when we stopped it
}

// Run executes cmd on the device (through `sudo -n --` when Config.Sudo
// applies), feeding it stdin, which should be finite (nil for none).
// Errors are transport failures; once the command has started they also
// wrap fault.ErrIndeterminate, because it may have taken effect. A
// cancelled ctx or CommandTimeout signals the command (SIGTERM, then
// SIGKILL, best effort) and closes the session.
func (c *Client) Run(ctx context.Context, cmd string, stdin io.Reader) (Result, error) {
	return c.exec(ctx, cmd, stdin, c.sudo)
}

// exec is Run, under sudo or as the login user.
func (c *Client) exec(ctx context.Context, cmd string, stdin io.Reader, sudo bool) (Result, error) {
	if c.commandTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.commandTimeout)
		defer cancel()
	}
	what := fmt.Sprintf("%s: run %q", c.name, abbrev(cmd))
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", what, ctxKind(err))
	}
	s, err := c.target.client.NewSession()
	if err != nil {
		return Result{}, fmt.Errorf("%s: open session: %w", what, c.connErr(err))
	}
	defer s.Close()
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &stdout, &stderr, stdin
	if sudo {
		cmd = wrapSudo(cmd)
	}
	log := logging.From(ctx).With("device", c.name)
	log.Debug("ssh exec", "command", cmd, "stdin_bytes", stdinLen(stdin))
	t0 := time.Now()
	if err := s.Start(cmd); err != nil {
		return Result{}, fmt.Errorf("%s: start: %w", what, c.connErr(err))
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()

	select {
	case err = <-done:
	case <-ctx.Done():
		cause := ctxKind(ctx.Err())
		if !stopRemote(s, done) {
			// Output buffers may still be written: return none of them.
			return Result{}, fmt.Errorf("%s: %w, command abandoned: %w", what, cause, fault.ErrIndeterminate)
		}
		return Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitStatus: -1},
			fmt.Errorf("%s: %w, command stopped: %w", what, cause, fault.ErrIndeterminate)
	}

	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitStatus = exitErr.ExitStatus()
	default:
		log.Debug("ssh exec lost", "error", err.Error())
		// Typically ExitMissingError: the connection or channel went away.
		return res, fmt.Errorf("%s: %w: %w", what, fault.ErrIndeterminate, c.connErr(err))
	}
	log.Debug("ssh reply", "exit", res.ExitStatus, "elapsed", time.Since(t0).Round(time.Millisecond),
		"stdout", clip(res.Stdout), "stderr", clip(res.Stderr))
	if sudo && res.ExitStatus == 1 && sudoWantsPassword(res.Stderr) {
		return res, fmt.Errorf("%s: sudo asks user %s for a password; grant it NOPASSWD for fwpush's commands or log in as root: %w",
			what, c.user, fault.ErrAuth)
	}
	return res, nil
}

// stopRemote signals the command and closes the session; it reports
// whether Wait returned within the grace periods.
func stopRemote(s *ssh.Session, done <-chan error) bool {
	_ = s.Signal(ssh.SIGTERM)
	select {
	case <-done:
		return true
	case <-time.After(killGrace):
	}
	_ = s.Signal(ssh.SIGKILL)
	_ = s.Close()
	select {
	case <-done:
		return true
	case <-time.After(killGrace):
		return false
	}
}

// wrapSudo runs cmd under sudo for a non-root user. -n makes sudo fail
// instead of prompting on a session that has no terminal to answer.
func wrapSudo(cmd string) string {
	return "sudo -n -- sh -c " + shellquote.Quote(cmd)
}

func sudoWantsPassword(stderr []byte) bool {
	return bytes.Contains(stderr, []byte("sudo: a password is required")) ||
		bytes.Contains(stderr, []byte("sudo: a terminal is required"))
}

// abbrev keeps error messages readable when cmd is a long script.
func abbrev(cmd string) string {
	cmd = strings.Join(strings.Fields(cmd), " ")
	if len(cmd) > 60 {
		return cmd[:57] + "..."
	}
	return cmd
}

// logClip bounds what a debug log shows of one reply.
const logClip = 8 << 10

// clip is b for a log record, cut at logClip bytes.
func clip(b []byte) string {
	if len(b) > logClip {
		return string(b[:logClip]) + fmt.Sprintf("… (%d bytes in all)", len(b))
	}
	return string(b)
}

// stdinLen is how much stdin a command is fed, when that is known.
func stdinLen(r io.Reader) int {
	if l, ok := r.(interface{ Len() int }); ok {
		return l.Len()
	}
	return 0
}
