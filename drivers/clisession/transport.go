package clisession

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/scrapli/scrapligo/transport"
	gossh "golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/internal/transport/ssh"
)

// shell is a scrapligo transport over a connection fwpush's SSH client
// already made: the host key was verified against known_hosts (and every
// jump host's too) before any credential left, which scrapligo's own
// standard transport cannot promise (it dials itself, through no jump
// host, and with strict checking off falls back to accepting any key).
// scrapligo only gets the interactive shell: a pty and a login shell on
// one session of that connection.
type shell struct {
	client *ssh.Client

	mu   sync.Mutex
	sess *gossh.Session
	w    io.WriteCloser
	r    io.Reader
}

var _ transport.Implementation = (*shell)(nil)

// Open requests a pty with echo on, as the standard transport does (the
// channel finds each command's echo before sending Enter), and a shell.
func (t *shell) Open(a *transport.Args) error {
	sess, err := t.client.NewSession()
	if err != nil {
		return err
	}
	modes := gossh.TerminalModes{gossh.ECHO: 1, gossh.TTY_OP_ISPEED: 115200, gossh.TTY_OP_OSPEED: 115200}
	if err := sess.RequestPty("xterm", a.TermHeight, a.TermWidth, modes); err != nil {
		sess.Close()
		return fmt.Errorf("pty: %w", err)
	}
	w, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return err
	}
	if err := sess.Shell(); err != nil {
		sess.Close()
		return fmt.Errorf("shell: %w", err)
	}
	t.mu.Lock()
	t.sess, t.w, t.r = sess, w, r
	t.mu.Unlock()
	return nil
}

// Close ends the shell session; the connection is the Conn's to close.
func (t *shell) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sess == nil {
		return nil
	}
	err := t.sess.Close()
	t.sess = nil
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}

// IsAlive says whether the shell is open.
func (t *shell) IsAlive() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sess != nil
}

// Read reads what the device printed, up to n bytes.
func (t *shell) Read(n int) ([]byte, error) {
	t.mu.Lock()
	r := t.r
	t.mu.Unlock()
	if r == nil {
		return nil, io.EOF
	}
	b := make([]byte, n)
	n, err := r.Read(b)
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

// Write types b.
func (t *shell) Write(b []byte) error {
	t.mu.Lock()
	w := t.w
	t.mu.Unlock()
	if w == nil {
		return io.ErrClosedPipe
	}
	_, err := w.Write(b)
	return err
}
