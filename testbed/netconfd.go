package testbed

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Where yuma123's netconfd and its sshd helper are installed (Debian
// package netconfd).
const (
	NetconfdPath         = "/usr/sbin/netconfd"
	NetconfSubsystemPath = "/usr/sbin/netconf-subsystem"
)

// netconfdSocket is the unix socket between netconf-subsystem and
// netconfd. The default, /tmp/ncxserver.sock, is shared by every
// namespace; /root is one of the private dirs (private.go), so this one
// path names a different socket on every host, and one sshd_config line
// fits all hosts.
const netconfdSocket = "/root/ncxserver.sock"

// WithNetconfSubsystem makes every host's sshd serve the "netconf" SSH
// subsystem (RFC 6242) on port 22, backed by the host's own netconfd,
// which StartNetconfd starts.
func WithNetconfSubsystem() Option {
	return func(c *config) error {
		// netconf-subsystem picks the socket by the SSH port the client
		// reached, from SSH_CONNECTION.
		c.sshdExtra = append(c.sshdExtra,
			"Subsystem netconf "+NetconfSubsystemPath+" --ncxserver-sockname=22@"+netconfdSocket)
		return nil
	}
}

// Netconfd is a netconfd running on a lab host; Close stops it.
type Netconfd struct {
	Host    string
	Log     string // its stdout and stderr, where netconfd logs
	Startup string // its startup config (NV storage), saved on commit
	p       *proc
	lab     *Lab
	argv    []string
}

// StartNetconfd starts yuma123's netconfd on host, inside the host's
// namespaces, serving the subsystem WithNetconfSubsystem configured, and
// waits until it accepts. Defaults: :candidate target (so :confirmed-commit
// and :validate), sessions of root bypass access control, an empty startup
// config under the lab dir. extra adds netconfd parameters, e.g.
// "--module=helloworld" (modules from /usr/share/yuma/modules); it must
// not repeat the defaults.
func (l *Lab) StartNetconfd(ctx context.Context, host string, extra ...string) (*Netconfd, error) {
	ns := l.Namespace(host)
	if ns == "" || host == Controller {
		return nil, fmt.Errorf("%s: netconfd: no such lab host", host)
	}
	for _, p := range []string{NetconfdPath, NetconfSubsystemPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s: netconfd: %w (apt-get install netconfd)", host, err)
		}
	}
	dir := filepath.Join(l.dir, "hosts", host, "netconfd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: netconfd: %w", host, err)
	}
	n := &Netconfd{Host: host, Log: filepath.Join(dir, "netconfd.log"), Startup: filepath.Join(dir, "startup-cfg.xml")}
	// netconfd refuses to start without its startup file.
	empty := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>` + "\n"
	if err := os.WriteFile(n.Startup, []byte(empty), 0o600); err != nil {
		return nil, fmt.Errorf("%s: netconfd: %w", host, err)
	}
	argv := append([]string{
		// HOME: netconfd keeps state in ~/.yuma; /root is the host's own.
		"env", "HOME=/root", NetconfdPath,
		"--ncxserver-sockname=" + netconfdSocket,
		// netconfd refuses sessions that reached sshd on a port it was
		// not told about (default 830).
		"--port=22",
		"--superuser=root",
		"--target=candidate",
		"--startup=" + n.Startup,
		"--log-level=info",
	}, extra...)
	argv, err := l.hostView(host, argv)
	if err != nil {
		return nil, fmt.Errorf("%s: netconfd: %w", host, err)
	}
	n.lab, n.argv = l, argv
	if err := n.start(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Netconfd) start(ctx context.Context) error {
	l := n.lab
	p, err := l.startProc(l.Namespace(n.Host), -1, n.Host, "netconfd", n.argv, n.Log, nil)
	if err != nil {
		return fmt.Errorf("%s: netconfd: %w", n.Host, err)
	}
	n.p = p
	if err := l.waitNetconfd(ctx, p); err != nil {
		n.Stop()
		return fmt.Errorf("%s: netconfd: %w", n.Host, err)
	}
	return nil
}

// Restart stops netconfd and starts it again from its startup config, as
// a device reboot does: what was committed and saved comes back, a
// pending confirmed commit does not, and every session ends.
func (n *Netconfd) Restart(ctx context.Context) error {
	n.Stop()
	// The old socket file would make the new netconfd's bind fail.
	sock := filepath.Join(n.lab.dir, "hosts", n.Host, "private", "root", filepath.Base(netconfdSocket))
	if err := os.Remove(sock); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("%s: netconfd restart: %w", n.Host, err)
	}
	return n.start(ctx)
}

// waitNetconfd polls the socket, as the host sees it, until it accepts.
// Each probe costs netconfd one aborted session, which it logs.
func (l *Lab) waitNetconfd(ctx context.Context, p *proc) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.readyTimeout)
	defer cancel()
	// The process's own view of /root, so the path stays short enough
	// for sun_path whatever the lab dir is.
	sock := fmt.Sprintf("/proc/%d/root%s", p.cmd.Process.Pid, netconfdSocket)
	for {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", sock)
		if err == nil {
			c.Close()
			return nil
		}
		if perr := p.exited(); perr != nil {
			return perr
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not accepting on %s after %s: %w (log: %s)", netconfdSocket, l.cfg.readyTimeout, err, tail(p.log))
		case <-p.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends netconfd (SIGTERM, then SIGKILL after 5 s) and waits for it,
// as a device reboot would; sessions through it end too. Safe to call
// twice.
func (n *Netconfd) Stop() {
	_ = n.p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.p.done:
	case <-time.After(5 * time.Second):
		_ = n.p.cmd.Process.Kill()
		<-n.p.done
	}
}

// LogTail returns the end of netconfd's log, for test failure messages.
func (n *Netconfd) LogTail() string { return tail(n.Log) }
