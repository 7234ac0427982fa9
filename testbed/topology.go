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
	"strings"
	"sync"
)

// Interface names. The host ends live in their own namespaces, so every
// host has an eth0; the bridge ends share the switch namespace and get short
// generated names (≤15 characters).
const (
	bridge     = "br0"
	hostIf     = "eth0"
	rootPeerIf = "proot"
	ctlPortIf  = "pctl"
)

// hostSysctls make lab hosts' IPv6 addresses usable at once (no duplicate
// address detection) and keep router advertisements out of the picture.
var hostSysctls = [][2]string{
	{"net/ipv6/conf/all/accept_dad", "0"},
	{"net/ipv6/conf/default/accept_dad", "0"},
	{"net/ipv6/conf/default/dad_transmits", "0"},
	{"net/ipv6/conf/all/accept_ra", "0"},
	{"net/ipv6/conf/default/accept_ra", "0"},
}

// switchSysctls: the switch only bridges frames, so it needs no IPv6 of its
// own (no link-local noise), and bridged frames must not pass through
// iptables where br_netfilter is loaded.
var switchSysctls = [][2]string{
	{"net/ipv6/conf/all/disable_ipv6", "1"},
	{"net/ipv6/conf/default/disable_ipv6", "1"},
	{"net/bridge/bridge-nf-call-iptables", "0"},
	{"net/bridge/bridge-nf-call-ip6tables", "0"},
	{"net/bridge/bridge-nf-call-arptables", "0"},
}

// optionalSysctls may be missing: IPv6 disabled at boot, no br_netfilter.
var optionalSysctls = func() map[string]bool {
	m := map[string]bool{}
	for _, kv := range append(append([][2]string{}, hostSysctls...), switchSysctls...) {
		m[kv[0]] = true
	}
	return m
}()

// addNetns creates namespace ns and records it for Close.
func (l *Lab) addNetns(ctx context.Context, ns string) error {
	if err := runIP(ctx, "", "netns", "add", ns); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.created = append(l.created, ns)
	return nil
}

// addNetnsBatch creates namespaces with one ip process, before any lab
// daemon runs. That is for speed: each `ip netns add` bind-mounts into the
// shared /run/netns, and the mount propagates into the private mount
// namespace of every daemon already started by `ip netns exec`, so adding
// namespaces while daemons run costs O(hosts²).
func (l *Lab) addNetnsBatch(ctx context.Context, names []string) error {
	var lines []string
	for _, ns := range names {
		if _, err := os.Stat(filepath.Join(netnsRun, ns)); err == nil {
			return fmt.Errorf("namespace %s already exists (leftover? see Sweep)", ns)
		}
		lines = append(lines, "netns add "+ns)
	}
	err := ipBatch(ctx, -1, lines...)
	// Record whatever got created, even when the batch stopped half-way.
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ns := range names {
		if _, serr := os.Stat(filepath.Join(netnsRun, ns)); serr == nil {
			l.created = append(l.created, ns)
		}
	}
	return err
}

// openFd opens ns and keeps the descriptor under key (host name or
// Controller) for DialFrom and sysctls.
func (l *Lab) openFd(key, ns string) (int, error) {
	fd, err := openNetns(ns)
	if err != nil {
		return -1, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fds[key] = fd
	return fd, nil
}

// startSwitch creates the switch namespace and its bridge. It runs before
// any other `ip netns add`, so the first-use setup of /run/netns never races.
func (l *Lab) startSwitch(ctx context.Context) error {
	if err := l.addNetns(ctx, l.swNS); err != nil {
		return err
	}
	fd, err := l.openFd(switchHost, l.swNS)
	if err != nil {
		return err
	}
	if err := writeSysctls(fd, switchSysctls, optionalSysctls); err != nil {
		return fmt.Errorf("%s: %w", l.swNS, err)
	}
	// No STP and no multicast snooping: ports forward at once, and IPv6
	// neighbour discovery is flooded without needing an MLD querier.
	return ipBatch(ctx, fd,
		"link set lo up",
		"link add "+bridge+" type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
		"link set "+bridge+" up")
}

// wire connects namespace ns to the bridge with a veth pair created directly
// in the two namespaces (never in the caller's), then brings up lo and eth0
// with addrs.
func (l *Lab) wire(ctx context.Context, ns string, fd int, port string, addrs []netip.Prefix) error {
	if err := writeSysctls(fd, hostSysctls, optionalSysctls); err != nil {
		return fmt.Errorf("%s: %w", ns, err)
	}
	err := ipBatch(ctx, l.swFd(),
		fmt.Sprintf("link add %s type veth peer name %s netns %s", port, hostIf, ns),
		fmt.Sprintf("link set %s master %s", port, bridge),
		fmt.Sprintf("link set %s up", port))
	if err != nil {
		return err
	}
	lines := []string{"link set lo up"}
	lines = append(lines, addrLines(hostIf, addrs)...)
	lines = append(lines, "link set "+hostIf+" up")
	return ipBatch(ctx, fd, lines...)
}

// swFd returns the switch namespace's descriptor (valid until Close).
func (l *Lab) swFd() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fds[switchHost]
}

// addrLines adds addrs to dev; nodad makes IPv6 ones usable immediately.
func addrLines(dev string, addrs []netip.Prefix) []string {
	var out []string
	for _, p := range addrs {
		if p.Addr().Is4() {
			out = append(out, fmt.Sprintf("addr add %s dev %s", p, dev))
		} else {
			out = append(out, fmt.Sprintf("addr add %s dev %s nodad", p, dev))
		}
	}
	return out
}

func (l *Lab) startController(ctx context.Context) error {
	if err := l.addNetns(ctx, l.ctlNS); err != nil {
		return err
	}
	fd, err := l.openFd(Controller, l.ctlNS)
	if err != nil {
		return err
	}
	return l.wire(ctx, l.ctlNS, fd, ctlPortIf, []netip.Prefix{ControllerIPv4, ControllerIPv6})
}

// startRootLink gives the caller's namespace one veth end into the lab. It
// is the only thing the lab ever creates outside its own namespaces, so it
// first refuses if the name or any lab address or route is already there.
func (l *Lab) startRootLink(ctx context.Context) error {
	name := l.cfg.rootLink
	if _, err := net.InterfaceByName(name); err == nil {
		return fmt.Errorf("root link %s already exists (is a lab up? run fwp-lab down)", name)
	}
	for _, p := range []netip.Prefix{LabIPv4, LabIPv6} {
		for _, q := range [][]string{
			{"-o", "route", "show", "table", "all", "root", p.String()},
			{"-o", "addr", "show", "to", p.String()},
		} {
			out, err := exec.CommandContext(ctx, "ip", q...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("root link: ip %s: %w: %s", strings.Join(q, " "), err, out)
			}
			if s := strings.TrimSpace(string(out)); s != "" {
				return fmt.Errorf("root link: %s is already in use here, refusing to touch it: %s", p, s)
			}
		}
	}
	if err := runIP(ctx, "", "link", "add", name, "type", "veth", "peer", "name", rootPeerIf, "netns", l.swNS); err != nil {
		return fmt.Errorf("root link: %w", err)
	}
	l.mu.Lock()
	l.rootLink, l.rootPeer = name, rootPeerIf
	l.mu.Unlock()
	err := ipBatch(ctx, l.swFd(),
		fmt.Sprintf("link set %s master %s", rootPeerIf, bridge),
		fmt.Sprintf("link set %s up", rootPeerIf))
	if err != nil {
		return fmt.Errorf("root link: %w", err)
	}
	lines := addrLines(name, []netip.Prefix{ControllerIPv4, ControllerIPv6})
	lines = append(lines, "link set "+name+" up")
	if err := ipBatch(ctx, -1, lines...); err != nil {
		return fmt.Errorf("root link: %w", err)
	}
	return nil
}

// startHosts sets every host up with at most cfg.parallel at a time. The
// first failure cancels the rest; Start's caller then tears all down.
func (l *Lab) startHosts(ctx context.Context, sshd string, listener []string) error {
	var names []string
	for _, h := range l.hosts {
		names = append(names, l.Namespace(h.Name))
	}
	if err := l.addNetnsBatch(ctx, names); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, l.cfg.parallel)
	errs := make([]error, len(l.hosts))
	var wg sync.WaitGroup
	for i, h := range l.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			if err := l.startHost(ctx, i, h, sshd, listener); err != nil {
				errs[i] = fmt.Errorf("%s: %w", h.Name, err)
				cancel()
			}
		}()
	}
	wg.Wait()
	// Report the real failures, not the cancellations they caused.
	var real []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			real = append(real, err)
		}
	}
	if len(real) == 0 {
		real = errs
	}
	return errors.Join(real...)
}

func (l *Lab) startHost(ctx context.Context, i int, h HostSpec, sshd string, listener []string) error {
	ns := l.Namespace(h.Name)
	hdir := filepath.Join(l.dir, "hosts", h.Name)
	if err := os.MkdirAll(hdir, 0o700); err != nil {
		return err
	}
	if err := l.writeHostSSHD(h, hdir); err != nil {
		return err
	}
	if err := l.writeEtc(ns); err != nil {
		return err
	}
	fd, err := l.openFd(h.Name, ns)
	if err != nil {
		return err
	}
	if err := l.wire(ctx, ns, fd, fmt.Sprintf("p%d", i), h.Addrs); err != nil {
		return err
	}
	if err := l.startSSHD(ctx, h, ns, fd, hdir, sshd); err != nil {
		return err
	}
	if l.cfg.failHost == h.Name {
		return errors.New("failing on purpose (test hook)")
	}
	if len(h.TCP)+len(h.UDP) > 0 {
		return l.startListener(ctx, h, fd, hdir, listener)
	}
	return nil
}
