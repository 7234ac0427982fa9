package linuxhost

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/shellquote"
	"github.com/fwpush/fwpush/internal/transport/ssh"
)

// Conn is one SSH connection to a Linux host.
type Conn struct {
	Host   string
	client *ssh.Client
	sudo   bool
}

// Dial connects to the target's host over SSH with the run's options.
func Dial(ctx context.Context, t drivers.Target) (*Conn, error) {
	cfg, err := t.SSH()
	if err != nil {
		return nil, err
	}
	c, err := ssh.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Conn{Host: t.Host.Name, client: c, sudo: cfg.Sudo}, nil
}

// Run runs a shell script (via sh -c) and returns stdout; a non-zero exit
// is an error carrying stderr.
func (c *Conn) Run(ctx context.Context, script string, stdin []byte) (string, error) {
	res, err := c.run(ctx, script, stdin)
	if err != nil {
		return "", err
	}
	if res.ExitStatus != 0 {
		return string(res.Stdout), &ExitError{Status: res.ExitStatus, Stderr: string(res.Stderr), Stdout: string(res.Stdout)}
	}
	return string(res.Stdout), nil
}

func (c *Conn) run(ctx context.Context, script string, stdin []byte) (ssh.Result, error) {
	cmd := "sh -c " + shellquote.Quote(script)
	if stdin == nil {
		return c.client.Run(ctx, cmd, nil)
	}
	return c.client.Run(ctx, cmd, bytes.NewReader(stdin))
}

// Close closes the connection.
func (c *Conn) Close() error { return c.client.Close() }

// ExitError is a script that ran and failed.
type ExitError struct {
	Status         int
	Stdout, Stderr string
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("exit status %d: %s", e.Status, e.Output())
}

// Output is what the command said: stderr, or stdout when stderr is empty.
func (e *ExitError) Output() string {
	if e.Stderr != "" {
		return trim(e.Stderr)
	}
	return trim(e.Stdout)
}

func trim(s string) string {
	const max = 2000
	if len(s) > max {
		return s[:max] + "…"
	}
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s
}

// seconds renders a duration as whole seconds, rounding up so a timer is
// never shorter than asked.
func seconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(s, 10)
}
