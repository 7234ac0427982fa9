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

// routerSysctls: a router forwards both families. Interfaces created after
// these inherit the defaults.
var routerSysctls = append(append([][2]string{}, hostSysctls...),
	[2]string{"net/ipv4/ip_forward", "1"},
	[2]string{"net/ipv6/conf/all/forwarding", "1"},
	[2]string{"net/ipv6/conf/default/forwarding", "1"},
)

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
	lines := []string{"link set lo up"}
	for _, br := range l.layout.bridges {
		lines = append(lines,
			"link add "+br+" type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
			"link set "+br+" up")
	}
	return ipBatch(ctx, fd, lines...)
}

// wire connects node n's namespace ns to its bridges with veth pairs
// created directly in the two namespaces (never in the caller's), then
// brings up lo and n's links with their addresses, then adds n's routes.
func (l *Lab) wire(ctx context.Context, ns string, fd int, n *node) error {
	sysctls := hostSysctls
	if n.router {
		sysctls = routerSysctls
	}
	if err := writeSysctls(fd, sysctls, optionalSysctls); err != nil {
		return fmt.Errorf("%s: %w", ns, err)
	}
	var sw []string
	for _, k := range n.links {
		sw = append(sw,
			fmt.Sprintf("link add %s type veth peer name %s netns %s", k.port, k.ifname, ns),
			fmt.Sprintf("link set %s master %s", k.port, k.bridge),
			fmt.Sprintf("link set %s up", k.port))
	}
	if err := ipBatch(ctx, l.swFd(), sw...); err != nil {
		return err
	}
	lines := []string{"link set lo up"}
	for _, k := range n.links {
		lines = append(lines, addrLines(k.ifname, k.addrs)...)
		lines = append(lines, "link set "+k.ifname+" up")
	}
	return ipBatch(ctx, fd, append(lines, n.routes...)...)
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
	return l.wire(ctx, l.ctlNS, fd, l.layout.ctl)
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
	ctl := l.layout.ctl.links[0]
	err := ipBatch(ctx, l.swFd(),
		fmt.Sprintf("link set %s master %s", rootPeerIf, ctl.bridge),
		fmt.Sprintf("link set %s up", rootPeerIf))
	if err != nil {
		return fmt.Errorf("root link: %w", err)
	}
	lines := addrLines(name, ctl.addrs)
	lines = append(lines, "link set "+name+" up")
	// In a routed lab, the lab's ranges via the management segment's
	// gateway, on this link only (they go when it goes).
	lines = append(lines, labRoutes(l.layout.gateways, l.mgmtSegment(), name)...)
	if err := ipBatch(ctx, -1, lines...); err != nil {
		return fmt.Errorf("root link: %w", err)
	}
	return nil
}

// startNodes sets every host and router up with at most cfg.parallel at a
// time. The first failure cancels the rest; Start's caller then tears all
// down.
func (l *Lab) startNodes(ctx context.Context, sshd string, listener []string) error {
	type job struct {
		spec HostSpec // a router's: its name and every address
		sshd bool
	}
	var jobs []job
	for _, h := range l.hosts {
		jobs = append(jobs, job{h, !h.NoSSHD})
	}
	for _, r := range l.routers {
		jobs = append(jobs, job{routerHost(r), r.SSHD})
	}
	var names []string
	for _, j := range jobs {
		names = append(names, l.Namespace(j.spec.Name))
	}
	if err := l.addNetnsBatch(ctx, names); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, l.cfg.parallel)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
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
			if err := l.startNode(ctx, j.spec, j.sshd, sshd, listener); err != nil {
				errs[i] = fmt.Errorf("%s: %w", j.spec.Name, err)
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

// routerHost is the part of a router that sshd and known_hosts need: its
// name and every address.
func routerHost(r RouterSpec) HostSpec {
	h := HostSpec{Name: r.Name}
	for _, i := range r.Interfaces {
		h.Addrs = append(h.Addrs, i.Addrs...)
	}
	return h
}

func (l *Lab) startNode(ctx context.Context, h HostSpec, runSSHD bool, sshd string, listener []string) error {
	ns := l.Namespace(h.Name)
	hdir := filepath.Join(l.dir, "hosts", h.Name)
	if err := os.MkdirAll(hdir, 0o700); err != nil {
		return err
	}
	if runSSHD {
		if err := l.writeHostSSHD(h, hdir); err != nil {
			return err
		}
	}
	if err := l.writeEtc(ns); err != nil {
		return err
	}
	fd, err := l.openFd(h.Name, ns)
	if err != nil {
		return err
	}
	if err := l.wire(ctx, ns, fd, l.layout.nodes[h.Name]); err != nil {
		return err
	}
	if runSSHD {
		if err := l.startSSHD(ctx, h, ns, fd, hdir, sshd); err != nil {
			return err
		}
	}
	if l.cfg.failHost == h.Name {
		return errors.New("failing on purpose (test hook)")
	}
	if len(h.TCP)+len(h.UDP) > 0 {
		return l.startListener(ctx, h, fd, hdir, listener)
	}
	return nil
}
