package ssh

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/internal/fault"
)

// keepaliveMisses is how many keepalive intervals may pass without a reply
// before the connection is declared dead (ssh(1)'s ServerAliveCountMax).
const keepaliveMisses = 3

// Client is a logged-in SSH connection to one device. It is safe for
// concurrent use; each Run opens its own session.
type Client struct {
	name           string // device name for errors: alias (host:port)
	user           string
	sudo           bool
	commandTimeout time.Duration
	target         hop
	jumps          []hop

	mu      sync.Mutex
	sftp    *sftp.Client
	sftpErr error // sticky only when the server has no sftp subsystem
	broken  error // why the keepalive closed the connection
	// origin is the device's view of our address (see Origin).
	origin     netip.Addr
	originRead bool

	closeOnce sync.Once
	stop      chan struct{}
	kaDone    chan struct{}
}

func newClient(cfg Config, p plan, hops []hop) *Client {
	c := &Client{
		name:           p.target.String(),
		user:           p.target.user,
		sudo:           cfg.Sudo && p.target.user != "root",
		commandTimeout: cfg.CommandTimeout,
		target:         hops[len(hops)-1],
		jumps:          hops[:len(hops)-1],
		stop:           make(chan struct{}),
		kaDone:         make(chan struct{}),
	}
	interval := cfg.KeepaliveInterval
	if interval == 0 {
		interval = DefaultKeepaliveInterval
	}
	if interval > 0 {
		go c.keepalive(interval)
	} else {
		close(c.kaDone)
	}
	return c
}

// keepalive sends keepalive@openssh.com every interval. One request is in
// flight at a time, so a black-holed link costs one goroutine, which ends
// when the connection is closed.
func (c *Client) keepalive(interval time.Duration) {
	defer close(c.kaDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	replies := make(chan error, 1)
	pending, misses := false, 0
	for {
		select {
		case <-c.stop:
			return
		case err := <-replies:
			pending = false
			if err != nil {
				c.fail(fmt.Errorf("keepalive: %w: %w", fault.ErrUnreachable, err))
				return
			}
			misses = 0
		case <-t.C:
			if pending {
				if misses++; misses >= keepaliveMisses {
					c.fail(fmt.Errorf("keepalive: no reply in %d intervals of %s: %w",
						misses, interval, fault.ErrTimeout))
					return
				}
				continue
			}
			pending = true
			go func() {
				// Any reply, even "request unknown", proves the peer alive.
				_, _, err := c.target.client.SendRequest("keepalive@openssh.com", true, nil)
				replies <- err
			}()
		}
	}
}

// fail records why the connection died and closes it, so blocked calls
// return instead of waiting for TCP to give up.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.broken == nil {
		c.broken = err
	}
	c.mu.Unlock()
	c.closeConns()
}

func (c *Client) closeConns() error {
	err := c.target.client.Close()
	for i := len(c.jumps) - 1; i >= 0; i-- {
		c.jumps[i].client.Close()
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// connErr explains a failure to use the connection, preferring the
// keepalive's verdict when it closed it.
func (c *Client) connErr(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return fmt.Errorf("%w (connection closed: %w)", err, c.broken)
	}
	return err
}

// Close ends the connection and its keepalive; it is safe to call twice.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.stop)
		c.mu.Lock()
		if c.sftp != nil {
			c.sftp.Close()
		}
		c.mu.Unlock()
		err = c.closeConns()
		<-c.kaDone
	})
	return err
}

// NewSession opens a raw session on the device, for drivers that need a
// shell or a pty rather than Run.
func (c *Client) NewSession() (*ssh.Session, error) {
	s, err := c.target.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%s: new session: %w", c.name, c.connErr(err))
	}
	return s, nil
}

// RemoteAddr is the device's address. Through jump hosts it is the address
// the last jump host was asked to reach.
func (c *Client) RemoteAddr() net.Addr {
	if len(c.jumps) == 0 {
		return c.target.client.RemoteAddr()
	}
	return hostPort(c.target.ep.addr())
}

// HostKeyFingerprint is the verified host key of the device, as
// "SHA256:base64", the form ssh-keygen -l prints.
func (c *Client) HostKeyFingerprint() string {
	return ssh.FingerprintSHA256(c.target.hostKey)
}

// Name is how errors name the device: the alias and, when it differs, the
// address it resolved to.
func (c *Client) Name() string { return c.name }

// User is the login user on the device.
func (c *Client) User() string { return c.user }

type hostPort string

func (hostPort) Network() string  { return "tcp" }
func (h hostPort) String() string { return string(h) }
