package netconf

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"

	fwssh "github.com/fwpush/fwpush/internal/transport/ssh"
)

// DefaultPort is NETCONF over SSH's IANA port (RFC 6242 §3).
const DefaultPort = 830

// SSHClient is what OverSSH needs from an SSH connection; both
// x/crypto's *ssh.Client and fwpush's *ssh.Client have it.
type SSHClient interface {
	NewSession() (*ssh.Session, error)
}

// Dial connects with fwpush's SSH transport (known_hosts verification,
// keys, jump hosts, keepalives; see its Config) and starts NETCONF on the
// "netconf" subsystem. A zero cfg.Port means DefaultPort, not 22. Close
// closes the SSH connection too.
func Dial(ctx context.Context, cfg fwssh.Config, opts ...Option) (*Session, error) {
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	c, err := fwssh.Dial(ctx, cfg)
	if err != nil {
		return nil, err // it names the host and the step already
	}
	s, err := overSSH(ctx, c.Name(), c, c, opts)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// OverSSH starts NETCONF on a new channel of an established SSH
// connection, which stays the caller's to close.
func OverSSH(ctx context.Context, name string, c SSHClient, opts ...Option) (*Session, error) {
	return overSSH(ctx, name, c, nil, opts)
}

func overSSH(ctx context.Context, name string, c SSHClient, owned io.Closer, opts []Option) (*Session, error) {
	sess, err := c.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%s: netconf: %w", name, err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("%s: netconf: %w", name, err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("%s: netconf: %w", name, err)
	}
	// The subsystem request takes no context; closing the channel ends it.
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	err = sess.RequestSubsystem("netconf")
	if !stop() {
		return nil, fmt.Errorf("%s: netconf subsystem: %w", name, ctxErr(ctx.Err()))
	}
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("%s: netconf subsystem: %w", name, err)
	}
	return newSession(ctx, name, channel{Reader: stdout, WriteCloser: stdin, sess: sess}, owned, opts)
}

// channel is the subsystem's stdio as one stream.
type channel struct {
	io.Reader
	io.WriteCloser
	sess *ssh.Session
}

// Close closes the whole channel, not only our write half, so the server
// sees the session end even if it ignores EOF.
func (c channel) Close() error {
	c.WriteCloser.Close()
	return c.sess.Close()
}
