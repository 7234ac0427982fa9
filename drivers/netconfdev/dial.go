package netconfdev

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/transport/netconf"
	fwssh "github.com/fwpush/fwpush/internal/transport/ssh"
	"github.com/fwpush/fwpush/inventory"
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
	o := t.Options
	cfg := fwssh.Config{
		Host: h.Hostname, Port: h.Port, User: h.Username, Password: fwssh.Secret(h.Password.Reveal()),
		IdentityFiles: o.IdentityFiles, UseAgent: o.UseAgent, KnownHostsFiles: o.KnownHostsFiles,
		TrustOnFirstUse: o.TrustOnFirstUse, SSHConfigFile: o.SSHConfigFile, ConnectTimeout: o.ConnectTimeout,
		KeepaliveInterval: o.Keepalive, ConnectRetries: o.ConnectRetries,
	}
	if pj := dataList(h, linuxhost.DataProxyJump); len(pj) > 0 {
		cfg.ProxyJump = pj[0]
	}
	cfg.KnownHostsFiles = append(dataList(h, linuxhost.DataKnownHosts), cfg.KnownHostsFiles...)
	cfg.IdentityFiles = append(dataList(h, linuxhost.DataIdentityFile), cfg.IdentityFiles...)
	c := &Conn{Host: h.Name}
	var mu sync.Mutex
	dial := t.Dial
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
		return nil, fmt.Errorf("%s: %w", h.Name, err)
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

// dataList reads a string or a list of strings from host data.
func dataList(h *inventory.Host, key string) []string {
	switch v := h.Data[key].(type) {
	case string:
		if v != "" {
			return []string{v}
		}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// Local is the address the connection left from (zero behind a jump
// host).
func (c *Conn) Local() netip.Addr { return c.local }
