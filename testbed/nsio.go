package testbed

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"

	"golang.org/x/sys/unix"
)

// Listen opens a TCP listener inside host's (or a router's, or
// Controller's) network namespace, for an in-process simulator to serve a
// device's management plane from the device's own namespace: the socket is
// created on a thread switched into that namespace and stays there for
// life, so its connections cross the lab like any other, through the
// routers and their filters. network is tcp, tcp4 or tcp6; addr is an IP
// literal and port (or ":port" for every address of the namespace), e.g.
// "198.18.0.254:22". Close closes the listener if the caller has not.
func (l *Lab) Listen(ctx context.Context, host, network, addr string) (net.Listener, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("%s: listen %s %s: want tcp, tcp4 or tcp6", host, network, addr)
	}
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen %s: %w", host, addr, err)
	}
	if h != "" {
		if _, err := netip.ParseAddr(h); err != nil {
			return nil, fmt.Errorf("%s: listen %s: want an IP literal: %w", host, addr, err)
		}
	}
	fd, err := l.dupNetns(host)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var ln net.Listener
	err = inNetns(fd, func() error {
		var lc net.ListenConfig
		var lerr error
		ln, lerr = lc.Listen(ctx, network, addr)
		return lerr
	})
	if err != nil {
		return nil, fmt.Errorf("%s: listen %s %s: %w", host, network, addr, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		ln.Close()
		return nil, fmt.Errorf("%s: lab is closed", host)
	}
	l.listeners = append(l.listeners, ln)
	return ln, nil
}

// NetExec runs argv with only its network namespace switched to host's (or
// a router's, or Controller's), feeding it stdin, and returns its combined
// output. Unlike Exec it gets none of the host's private mounts (it sees
// the machine's files), and it is much cheaper: it is for kernel tools such
// as nft and ip that act on the namespace, e.g. package enforce's
// `nft -f -`.
func (l *Lab) NetExec(ctx context.Context, host string, stdin []byte, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("%s: exec: empty command", host)
	}
	fd, err := l.dupNetns(host)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = labEnv
	cmd.WaitDelay = waitDelay
	cmd.Stdin = bytes.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// inNetns directly, never startIn: this must not fall back to the
	// caller's namespace.
	if err := inNetns(fd, cmd.Start); err != nil {
		return nil, fmt.Errorf("%s: exec %s: %w", host, argv[0], err)
	}
	if err := cmd.Wait(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: exec %s: %w: %s", host, argv[0], err, clip(out.Bytes(), 512))
	}
	return out.Bytes(), nil
}
