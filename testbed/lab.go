package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// Lab is a running lab. Its methods are safe for concurrent use.
type Lab struct {
	cfg    config
	dir    string
	swNS   string
	ctlNS  string // "" without WithController
	hosts  []HostSpec
	byName map[string]int
	// A routed lab's segments and routers (none in a flat lab), and the
	// wiring Start computed.
	segments     []SegmentSpec
	routers      []RouterSpec
	routerByName map[string]int
	layout       *layout

	mu       sync.Mutex
	closed   bool
	ownDir   bool
	created  []string // namespaces this lab created, in order
	etcDirs  []string // /etc/netns/<ns> directories it created
	rootLink string   // the root-side veth end, once created
	rootPeer string   // that veth's switch-side end
	fds      map[string]int
	procs    []*proc
	hostKeys map[string]ssh.PublicKey
	// listeners opened by Listen; Close closes them so the namespaces go.
	listeners []net.Listener
}

// Start builds the lab: a switch namespace with a bridge, one namespace per
// host wired to it, each host running sshd (and a listener when it has
// ports), plus the controller or root link the options ask for. With
// WithSegments the switch has one bridge per segment and WithRouters adds
// router namespaces between them (segment.go). Everything is validated
// before anything is created. It returns once every sshd accepts TCP. On
// any error it removes everything it created and returns the error.
func Start(ctx context.Context, hosts []HostSpec, opts ...Option) (lab *Lab, err error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("testbed: %w", err)
		}
	}
	if cfg.controller && cfg.rootLink != "" {
		return nil, errors.New("testbed: WithController and WithRootLink both claim 198.18.0.1; pick one")
	}
	lo, err := planLayout(hosts, cfg)
	if err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	sshd, err := preflight()
	if err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	l := &Lab{
		cfg:          cfg,
		swNS:         nsPrefix(cfg.prefix) + switchHost,
		hosts:        append([]HostSpec(nil), hosts...),
		byName:       map[string]int{},
		segments:     append([]SegmentSpec(nil), cfg.segments...),
		routers:      append([]RouterSpec(nil), cfg.routers...),
		routerByName: map[string]int{},
		layout:       lo,
		fds:          map[string]int{},
		hostKeys:     map[string]ssh.PublicKey{},
	}
	if cfg.controller {
		l.ctlNS = nsPrefix(cfg.prefix) + Controller
	}
	for i, h := range hosts {
		l.byName[h.Name] = i
	}
	for i, r := range cfg.routers {
		l.routerByName[r.Name] = i
	}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("testbed: %w", err), l.Close())
			lab = nil
		}
	}()
	if err := l.makeDir(); err != nil {
		return nil, err
	}
	if err := l.writeClientKey(); err != nil {
		return nil, err
	}
	listener, err := l.listenerCommand()
	if err != nil {
		return nil, err
	}
	if err := l.startSwitch(ctx); err != nil {
		return nil, err
	}
	if cfg.controller {
		if err := l.startController(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.rootLink != "" {
		if err := l.startRootLink(ctx); err != nil {
			return nil, err
		}
	}
	if err := l.startNodes(ctx, sshd, listener); err != nil {
		return nil, err
	}
	if err := l.writeKnownHosts(); err != nil {
		return nil, err
	}
	if err := l.saveState(); err != nil {
		return nil, err
	}
	return l, nil
}

// preflight checks what Start needs and prepares the two things it needs
// outside the lab: sshd's privilege-separation directory and the /etc mount
// points `ip netns exec` binds per-host files onto. It returns sshd's
// absolute path (sshd re-executes itself and insists on one).
func preflight() (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("the lab needs root (network namespaces, sshd)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "", fmt.Errorf("iproute2: %w", err)
	}
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd" // often not on a non-login PATH
		if _, serr := os.Stat(sshd); serr != nil {
			return "", fmt.Errorf("openssh-server: %w", err)
		}
	}
	if sshd, err = filepath.Abs(sshd); err != nil {
		return "", err
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return "", fmt.Errorf("sshd privsep dir: %w", err)
	}
	if err := ensureMountPoints(); err != nil {
		return "", err
	}
	return sshd, nil
}

func (l *Lab) makeDir() error {
	if l.cfg.dir == "" {
		dir, err := os.MkdirTemp("", "fwp-lab-")
		if err != nil {
			return fmt.Errorf("lab dir: %w", err)
		}
		l.dir, l.ownDir = dir, true
		return nil
	}
	ents, err := os.ReadDir(l.cfg.dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(l.cfg.dir, 0o700); err != nil {
			return fmt.Errorf("lab dir: %w", err)
		}
	case err != nil:
		return fmt.Errorf("lab dir: %w", err)
	case len(ents) > 0:
		return fmt.Errorf("lab dir %s is not empty (is a lab up there? run fwp-lab down)", l.cfg.dir)
	}
	l.dir, l.ownDir = l.cfg.dir, true
	return nil
}

func (l *Lab) writeClientKey() error {
	priv, pub, err := newKey("fwpush-lab-client")
	if err != nil {
		return err
	}
	if err := writeKeyPair(l.ClientKeyPath(), priv, pub, "fwpush-lab-client"); err != nil {
		return fmt.Errorf("client key: %w", err)
	}
	return os.WriteFile(filepath.Join(l.dir, "authorized_keys"), authorizedLine(pub, "fwpush-lab-client"), 0o600)
}

func (l *Lab) writeKnownHosts() error {
	var b []byte
	for _, h := range l.hosts {
		if !h.NoSSHD {
			b = append(b, knownHostsLine(h.Name, h.Addrs, l.HostKey(h.Name))...)
		}
	}
	for _, r := range l.routers {
		if r.SSHD {
			h := routerHost(r)
			b = append(b, knownHostsLine(h.Name, h.Addrs, l.HostKey(h.Name))...)
		}
	}
	return os.WriteFile(l.KnownHostsPath(), b, 0o644)
}

// Dir returns the lab's state directory.
func (l *Lab) Dir() string { return l.dir }

// Hosts returns the lab's host specs, in Start's order.
func (l *Lab) Hosts() []HostSpec { return append([]HostSpec(nil), l.hosts...) }

// Segments returns a routed lab's segments (none for a flat lab).
func (l *Lab) Segments() []SegmentSpec { return append([]SegmentSpec(nil), l.segments...) }

// Routers returns the lab's routers, in Start's order.
func (l *Lab) Routers() []RouterSpec { return append([]RouterSpec(nil), l.routers...) }

// Router returns the router called name.
func (l *Lab) Router(name string) (RouterSpec, bool) {
	i, ok := l.routerByName[name]
	if !ok {
		return RouterSpec{}, false
	}
	return l.routers[i], true
}

// mgmtSegment returns the management segment's name ("" in a flat lab).
func (l *Lab) mgmtSegment() string {
	name, _ := managementSegment(l.segments)
	return name
}

// Namespace returns the network namespace of a host or router (or of
// Controller), or "" when the lab has no such host.
func (l *Lab) Namespace(host string) string {
	if host == Controller {
		return l.ctlNS
	}
	_, isHost := l.byName[host]
	_, isRouter := l.routerByName[host]
	if !isHost && !isRouter {
		return ""
	}
	return nsPrefix(l.cfg.prefix) + host
}

// ClientKeyPath returns the private key (ed25519, OpenSSH format) that every
// lab host authorizes for root.
func (l *Lab) ClientKeyPath() string { return filepath.Join(l.dir, "id_ed25519") }

// KnownHostsPath returns a known_hosts file listing every host's key under
// its name, each address, and each [address]:22.
func (l *Lab) KnownHostsPath() string { return filepath.Join(l.dir, "known_hosts") }

// HostKey returns host's sshd host key, or nil for an unknown host.
func (l *Lab) HostKey(host string) ssh.PublicKey {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hostKeys[host]
}

// Exec runs argv inside host's (or a router's, or Controller's) namespace with `ip netns
// exec`, the masks and the host's private directories, so it sees what SSH
// sessions see (the host's /etc/nftables.conf, /etc/iptables,
// /var/lib/fwpush, /etc/fwpush), and returns the combined output.
func (l *Lab) Exec(ctx context.Context, host string, argv ...string) ([]byte, error) {
	ns := l.Namespace(host)
	if ns == "" {
		return nil, fmt.Errorf("%s: exec: no such lab host", host)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("%s: exec: empty command", host)
	}
	wrapped, err := l.hostView(host, argv)
	if err != nil {
		return nil, fmt.Errorf("%s: exec: %w", host, err)
	}
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, wrapped...)...)
	cmd.WaitDelay = waitDelay
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: exec %s: %w: %s", host, argv[0], err, clip(out, 512))
	}
	return out, nil
}

// DialContext dials addr (an IP literal and port) from the controller
// namespace; it needs WithController. See DialFrom.
func (l *Lab) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if l.ctlNS == "" {
		return nil, errors.New("testbed: DialContext needs WithController")
	}
	return l.DialFrom(ctx, Controller, network, addr)
}

// DialFrom dials addr from host's namespace (or Controller's). The socket is
// created on a thread switched into that namespace and keeps it for life,
// whatever thread later uses it. addr must be an IP literal: a name lookup
// could run on another thread, in another namespace. Safe for concurrent use.
func (l *Lab) DialFrom(ctx context.Context, host, network, addr string) (net.Conn, error) {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: dial %s: %w", host, addr, err)
	}
	if _, err := netip.ParseAddr(h); err != nil {
		return nil, fmt.Errorf("%s: dial %s: want an IP literal: %w", host, addr, err)
	}
	fd, err := l.dupNetns(host)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var c net.Conn
	err = inNetns(fd, func() error {
		var d net.Dialer
		var derr error
		c, derr = d.DialContext(ctx, network, addr)
		return derr
	})
	if err != nil {
		return nil, fmt.Errorf("%s: dial %s %s: %w", host, network, addr, err)
	}
	return c, nil
}

// dupNetns returns a private copy of host's namespace descriptor, so Close
// may close the lab's copy while a dial is still using it.
func (l *Lab) dupNetns(host string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return -1, fmt.Errorf("%s: lab is closed", host)
	}
	fd, ok := l.fds[host]
	if !ok {
		return -1, fmt.Errorf("%s: no such lab host", host)
	}
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("%s: dup netns: %w", host, err)
	}
	return nfd, nil
}

// clip returns at most the last n bytes of b, for error messages.
func clip(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
