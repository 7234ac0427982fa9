package drivers

import (
	"context"
	"fmt"
	"net"

	"github.com/fwpush/fwpush/internal/transport/ssh"
	"github.com/fwpush/fwpush/inventory"
)

// Inventory data keys for SSH settings, resolved host → groups → defaults
// like every Nornir data key, so a whole inventory (the lab's, say) can
// carry its own known_hosts and key without command-line flags. Every
// driver that reaches its devices over SSH reads them through Target.SSH.
const (
	DataKnownHosts   = "ssh_known_hosts"   // path or list of paths
	DataIdentityFile = "ssh_identity_file" // path or list of paths
	DataProxyJump    = "proxy_jump"        // [user@]host[:port][,next]
)

// Target is what Open needs: the host and how to reach it.
type Target struct {
	Host *inventory.Host
	// Dial, when set, replaces the network dialer (the lab dials from
	// inside a network namespace).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Options carries transport settings (known_hosts, keys, timeouts).
	Options TransportOptions
}

// SSH is how to reach the target over SSH: the host's address, port, user
// and password from the inventory, its SSH data keys, then the run's
// options (known_hosts, keys, ssh config, timeouts). Non-root users run
// commands through sudo.
func (t Target) SSH() (ssh.Config, error) {
	h := t.Host
	if h == nil {
		return ssh.Config{}, fmt.Errorf("open: no host in target")
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
	return cfg, nil
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
