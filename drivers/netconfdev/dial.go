package netconfdev

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/transport/netconf"
)

// helloSettle holds the first rpc back after the hello exchange: yuma123's
// netconfd (2.13) leaves an rpc that reaches it in the same read as the
// client's hello unanswered (see netconf.WithHelloSettle). It costs every
// session this much once, on any server.
const helloSettle = 150 * time.Millisecond

// Conn is a NETCONF session to one device, with what the driver needs to
// know about the connection under it.
type Conn struct {
	*netconf.Session
	Host string
	// local is the address the TCP connection left from, when it went
	// straight to the device (no jump host).
	local netip.Addr
}

// Dial opens a NETCONF session to the target over SSH, with the
// inventory's SSH settings (ssh_known_hosts, ssh_identity_file,
// proxy_jump data keys) and the run's.
func Dial(ctx context.Context, t drivers.Target) (*Conn, error) {
	h := t.Host
	if h == nil {
		return nil, fmt.Errorf("open: no host in target")
	}
	cfg, err := t.SSH()
	if err != nil {
		return nil, err
	}
	cfg.Sudo = false // a NETCONF subsystem, no shell
	c := &Conn{Host: h.Name}
	var mu sync.Mutex
	dial := cfg.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err == nil && cfg.ProxyJump == "" {
			if ap, perr := netip.ParseAddrPort(nc.LocalAddr().String()); perr == nil {
				mu.Lock()
				c.local = ap.Addr().Unmap()
				mu.Unlock()
			}
		}
		return nc, err
	}
	s, err := netconf.Dial(ctx, cfg, netconf.WithHelloSettle(helloSettle))
	if err != nil {
		return nil, err
	}
	c.Session = s
	return c, nil
}

// Close ends the session politely (close-session), then the connection.
// A pending confirmed commit with persist survives it.
func (c *Conn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.Session.CloseSession(ctx)
	return nil
}

// Local is the address the connection left from (zero behind a jump
// host).
func (c *Conn) Local() netip.Addr { return c.local }
