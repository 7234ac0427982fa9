package linuxhost

import (
	"bytes"
	"context"
	"fmt"
	"net"
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
	h := t.Host
	if h == nil {
		return nil, fmt.Errorf("open: no host in target")
	}
	o := t.Options
	cfg := ssh.Config{
		Host: h.Hostname, Port: h.Port, User: h.Username, Password: ssh.Secret(h.Password.Reveal()),
		IdentityFiles: o.IdentityFiles, UseAgent: o.UseAgent, KnownHostsFiles: o.KnownHostsFiles,
		TrustOnFirstUse: o.TrustOnFirstUse, SSHConfigFile: o.SSHConfigFile, ConnectTimeout: o.ConnectTimeout,
		CommandTimeout: o.CommandTimeout, KeepaliveInterval: o.Keepalive, ConnectRetries: o.ConnectRetries,
		Sudo: h.Username != "" && h.Username != "root",
	}
	if pj := dataList(h, DataProxyJump); len(pj) > 0 {
		cfg.ProxyJump = pj[0]
	}
	// Inventory-declared files come first; the run's flags add to them.
	cfg.KnownHostsFiles = append(dataList(h, DataKnownHosts), cfg.KnownHostsFiles...)
	cfg.IdentityFiles = append(dataList(h, DataIdentityFile), cfg.IdentityFiles...)
	if t.Dial != nil {
		cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) { return t.Dial(ctx, network, addr) }
	}
	c, err := ssh.Dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.Name, err)
	}
	return &Conn{Host: h.Name, client: c, sudo: cfg.Sudo}, nil
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
