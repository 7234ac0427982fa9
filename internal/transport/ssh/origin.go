package ssh

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// Origin returns the address the device sees this connection come from:
// the first field of the SSH_CONNECTION sshd sets for the session, so jump
// hosts and NAT are accounted for. It runs as the login user (sudo resets
// the environment), once per connection. The zero Addr means the device
// did not say (a server that sets no SSH_CONNECTION).
func (c *Client) Origin(ctx context.Context) (netip.Addr, error) {
	c.mu.Lock()
	if c.originRead {
		defer c.mu.Unlock()
		return c.origin, nil
	}
	c.mu.Unlock()
	res, err := c.exec(ctx, `printf '%s' "$SSH_CONNECTION"`, nil, false)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := ParseSSHConnection(string(res.Stdout))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s: %w", c.name, err)
	}
	c.SetOrigin(a)
	return a, nil
}

// Sudo says whether commands run under sudo (they then lose the login
// session's environment).
func (c *Client) Sudo() bool {
	return c.sudo
}

// SetOrigin records the origin a caller read itself, in the same round
// trip as other work (a root login keeps SSH_CONNECTION).
func (c *Client) SetOrigin(a netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.origin, c.originRead = a, true
}

// ParseSSHConnection reads the client address from an SSH_CONNECTION
// value ("client-ip client-port server-ip server-port"); empty means
// unknown.
func ParseSSHConnection(v string) (netip.Addr, error) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(f[0])
	if err != nil {
		return netip.Addr{}, fmt.Errorf("SSH_CONNECTION %q: %w", v, err)
	}
	return a.WithZone("").Unmap(), nil
}
