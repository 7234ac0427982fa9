package testbed

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"
)

func startCoreDMZ(t *testing.T, opts ...Option) *Lab {
	t.Helper()
	hosts, segs, routers := coreDMZ()
	return StartT(t, hosts, append([]Option{WithSegments(segs...), WithRouters(routers...)}, opts...)...)
}

// serveBanner accepts on ln until it is closed, writing one line to each
// connection: a stand-in for a simulator's management plane.
func serveBanner(ln net.Listener, banner string) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, banner)
			c.Close()
		}
	}()
}

// readBanner dials addr from host and returns the first line it reads.
func readBanner(ctx context.Context, l *Lab, from string, addr netip.AddrPort) (string, error) {
	c, err := l.DialFrom(ctx, from, "tcp", addr.String())
	if err != nil {
		return "", err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	return bufio.NewReader(c).ReadString('\n')
}

// TestRoutedLab checks a routed lab end to end: every probe between the
// segments crosses the router (cutting the router's links cuts them), the
// controller reaches both segments through it, no namespace has a route
// outside the lab's ranges, and Lab.Listen serves from inside the router.
func TestRoutedLab(t *testing.T) {
	ctx := testCtx(t)
	l := startCoreDMZ(t)
	a, b := l.Hosts()[0], l.Hosts()[1]
	type probe struct {
		from string
		to   netip.Addr
	}
	var probes []probe
	for i := range 2 {
		probes = append(probes,
			probe{"a", b.Addrs[i].Addr()}, probe{"b", a.Addrs[i].Addr()},
			probe{Controller, b.Addrs[i].Addr()}, probe{Controller, a.Addrs[i].Addr()})
	}
	check := func(t *testing.T, wantOK bool, limit time.Duration) {
		var wg sync.WaitGroup
		for _, p := range probes {
			wg.Go(func() {
				err := l.ProbeTCP(within(ctx, t, limit), p.from, netip.AddrPortFrom(p.to, 80))
				if (err == nil) != wantOK {
					t.Errorf("tcp %s → %s: %v, want ok=%v", p.from, p.to, err, wantOK)
				}
			})
			wg.Go(func() {
				err := l.ProbeUDP(within(ctx, t, limit), p.from, netip.AddrPortFrom(p.to, 53))
				if (err == nil) != wantOK {
					t.Errorf("udp %s → %s: %v, want ok=%v", p.from, p.to, err, wantOK)
				}
			})
		}
		wg.Wait()
	}
	t.Run("probes cross the router", func(t *testing.T) { check(t, true, passWithin) })
	t.Run("bash probe b to a", func(t *testing.T) {
		out, err := bashProbe(ctx, l, "b", netip.AddrPortFrom(a.Addrs[1].Addr(), 80), passWithin)
		if err != nil || !strings.HasPrefix(out, "fwp-listen a tcp/80") {
			t.Fatalf("probe b→a: %q, %v", out, err)
		}
	})
	t.Run("router cut", func(t *testing.T) {
		if err := l.SetLink(ctx, "r", false); err != nil {
			t.Fatal(err)
		}
		// a and the controller share core: that stays up.
		if err := l.ProbeTCP(within(ctx, t, passWithin), Controller, netip.AddrPortFrom(a.Addrs[0].Addr(), 80)); err != nil {
			t.Errorf("same segment without the router: %v", err)
		}
		var wg sync.WaitGroup
		for _, p := range probes {
			if p.from == Controller && (p.to == a.Addrs[0].Addr() || p.to == a.Addrs[1].Addr()) {
				continue // same segment
			}
			wg.Go(func() {
				if err := l.ProbeTCP(within(ctx, t, failWithin), p.from, netip.AddrPortFrom(p.to, 80)); err == nil {
					t.Errorf("tcp %s → %s passed with the router cut off", p.from, p.to)
				}
			})
		}
		wg.Wait()
		if err := l.SetLink(ctx, "r", true); err != nil {
			t.Fatal(err)
		}
		check(t, true, passWithin)
	})
	t.Run("routes", func(t *testing.T) {
		for _, name := range []string{"a", "b", "r", Controller} {
			for _, fam := range []string{"-4", "-6"} {
				out, err := l.NetExec(ctx, name, nil, "ip", fam, "route", "show", "table", "all")
				if err != nil {
					t.Fatal(err)
				}
				for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					f := strings.Fields(line)
					if len(f) == 0 || f[0] == "local" || f[0] == "multicast" || f[0] == "broadcast" || f[0] == "anycast" ||
						strings.HasPrefix(f[0], "fe80:") || strings.Contains(line, " dev lo ") {
						continue
					}
					dst, err := netip.ParsePrefix(f[0])
					if err != nil {
						if a, aerr := netip.ParseAddr(f[0]); aerr == nil {
							dst = netip.PrefixFrom(a, a.BitLen())
						} else {
							t.Errorf("%s: route %q: not inside the lab's ranges", name, line)
							continue
						}
					}
					if !(LabIPv4.Contains(dst.Addr()) && dst.Bits() >= LabIPv4.Bits()) &&
						!(LabIPv6.Contains(dst.Addr()) && dst.Bits() >= LabIPv6.Bits()) {
						t.Errorf("%s: route %q: not inside the lab's ranges", name, line)
					}
				}
			}
		}
		out, err := l.NetExec(ctx, "a", nil, "ip", "route", "get", b.Addrs[0].Addr().String())
		if err != nil || !strings.Contains(string(out), "via 198.18.0.254") {
			t.Errorf("a → b not via r: %s %v", out, err)
		}
		out, err = l.NetExec(ctx, "r", nil, "sysctl", "-n", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding")
		if err != nil || strings.Fields(string(out))[0] != "1" || strings.Fields(string(out))[1] != "1" {
			t.Errorf("r forwarding: %q %v", out, err)
		}
	})
	t.Run("no sshd on the router", func(t *testing.T) {
		if _, err := l.DialContext(within(ctx, t, passWithin), "tcp", "198.18.0.254:22"); err == nil {
			t.Error("something listens on the router's port 22")
		}
		if l.HostKey("r") != nil {
			t.Error("the router has a host key")
		}
	})
	t.Run("listen inside the router", func(t *testing.T) {
		for _, addr := range []string{"198.18.0.254:22", "[2001:db8::fe]:22", "[2001:db8:10::fe]:830"} {
			ln, err := l.Listen(ctx, "r", "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			serveBanner(ln, "sim "+addr)
			ap := netip.MustParseAddrPort(addr)
			for _, from := range []string{Controller, "a", "b"} {
				got, err := readBanner(within(ctx, t, passWithin), l, from, ap)
				if err != nil || got != "sim "+addr+"\n" {
					t.Errorf("%s → %s: %q, %v", from, addr, got, err)
				}
			}
		}
		// The socket lives in r: the same port is free everywhere else.
		ln, err := l.Listen(ctx, "a", "tcp", ":22222")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		if _, err := l.Listen(ctx, "r", "udp", ":53"); err == nil {
			t.Error("Listen accepted udp")
		}
		if _, err := l.Listen(ctx, "r", "tcp", "localhost:53"); err == nil {
			t.Error("Listen accepted a name")
		}
		if _, err := l.Listen(ctx, "nosuch", "tcp", ":53"); err == nil {
			t.Error("Listen accepted an unknown host")
		}
	})
}

// TestRoutedLabSSHDRouter runs a router with a real sshd serving netconfd
// through its netconf subsystem, reached from the controller across the
// management segment, and a host without sshd.
func TestRoutedLabSSHDRouter(t *testing.T) {
	ctx := testCtx(t)
	hosts, segs, routers := coreDMZ()
	routers[0].SSHD = true
	hosts[1].NoSSHD = true
	l := StartT(t, hosts, WithSegments(segs...), WithRouters(routers...), WithNetconfSubsystem())
	if _, err := l.StartNetconfd(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	strict, err := knownhosts.New(l.KnownHostsPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"198.18.0.254:22", "[2001:db8:10::fe]:22"} {
		c, err := sshClient(ctx, l, addr, strict)
		if err != nil {
			t.Fatalf("ssh %s: %v", addr, err)
		}
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, _ := s.StdoutPipe()
		if err := s.RequestSubsystem("netconf"); err != nil {
			t.Fatalf("netconf subsystem: %v", err)
		}
		hello := make(chan string, 1)
		go func() {
			// Read up to the end-of-message marker netconfd ends its hello with.
			var got []byte
			buf := make([]byte, 4096)
			for len(got) < 1<<16 && !strings.Contains(string(got), "]]>]]>") {
				n, err := out.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			hello <- string(got)
		}()
		select {
		case h := <-hello:
			if !strings.Contains(h, "<hello") || !strings.Contains(h, "urn:ietf:params:netconf:base:1.0") {
				t.Errorf("netconf over %s: %q", addr, h)
			}
		case <-time.After(passWithin):
			t.Errorf("netconf over %s: no hello", addr)
		}
		s.Close()
		c.Close()
	}
	if l.HostKey("b") != nil {
		t.Error("b has a host key without sshd")
	}
	if _, err := l.DialContext(within(ctx, t, passWithin), "tcp", "198.18.10.12:22"); err == nil {
		t.Error("b (no sshd) accepts on 22")
	}
	if err := l.ProbeTCP(within(ctx, t, passWithin), Controller, netip.MustParseAddrPort("198.18.10.12:80")); err != nil {
		t.Errorf("b's listener: %v", err)
	}
	kh, _ := os.ReadFile(l.KnownHostsPath())
	if !strings.HasPrefix(string(kh), "a,") || !strings.Contains(string(kh), "\nr,") || strings.Contains(string(kh), "\nb,") {
		t.Errorf("known_hosts:\n%s", kh)
	}
}

// TestRoutedCloseAndAttach checks a routed lab saves its segments and
// routers, that Attach gives them back, and that Close (through Attach) and
// Sweep leave nothing.
func TestRoutedCloseAndAttach(t *testing.T) {
	SkipShort(t)
	ctx := testCtx(t)
	hosts, segs, routers := coreDMZ()
	prefix := RandomPrefix()
	dir := filepath.Join(t.TempDir(), "lab")
	l, err := Start(ctx, hosts, WithPrefix(prefix), WithController(), WithDir(dir), WithSegments(segs...), WithRouters(routers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ln, err := l.Listen(ctx, "r", "tcp", "198.18.0.254:22")
	if err != nil {
		t.Fatal(err)
	}
	serveBanner(ln, "sim")
	var st labState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil || json.Unmarshal(b, &st) != nil {
		t.Fatalf("lab.json: %v: %s", err, b)
	}
	if len(st.Segments) != 2 || len(st.Routers) != 1 || st.Routers[0].Interfaces[1].Linux != "gi0-1" || st.Hosts[1].Segment != "dmz" {
		t.Errorf("lab.json: %s", b)
	}
	at, err := Attach(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := at.Router("r")
	if !ok || len(at.Segments()) != 2 || at.Hosts()[1].Segment != "dmz" {
		t.Fatalf("attached: router %+v %v, segments %v", r, ok, at.Segments())
	}
	if linux, ok := r.LinuxName("GigabitEthernet0/1"); !ok || linux != "gi0-1" {
		t.Errorf("LinuxName = %q, %v", linux, ok)
	}
	if out, err := at.NetExec(ctx, "r", nil, "ip", "-br", "addr", "show", "gi0-1"); err != nil || !strings.Contains(string(out), "198.18.10.254/24") {
		t.Errorf("attached NetExec in r: %q %v", out, err)
	}
	// 2 hosts, r, sw, ctl and /etc/netns for a, b, r.
	if got := leftovers(t, prefix, nil); len(got) != 8 {
		t.Fatalf("before Close: %v", got)
	}
	pids := labPids(t, l)
	if err := at.Close(); err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, prefix, pids); len(got) > 0 {
		t.Errorf("left behind: %v", got)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close after the attached Close: %v", err)
	}
	if _, err := ln.Accept(); err == nil || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Listen's listener after Close: %v", err)
	}

	// A crashed routed lab: Sweep finds the router too.
	prefix = RandomPrefix()
	l2, err := Start(ctx, hosts, WithPrefix(prefix), WithController(), WithSegments(segs...), WithRouters(routers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l2.Close() })
	if err := Sweep(ctx, prefix); err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, prefix, nil); len(got) > 0 {
		t.Errorf("left behind after Sweep: %v", got)
	}
}

// TestRoutedStartFailureCleansUp: a router that fails half-way through
// Start leaves nothing.
func TestRoutedStartFailureCleansUp(t *testing.T) {
	SkipShort(t)
	ctx := testCtx(t)
	hosts, segs, routers := coreDMZ()
	for name, opts := range map[string][]Option{
		"router fails":   {withFailHost("r")},
		"invalid router": {WithRouters(RouterSpec{Name: "r2", Interfaces: []RouterInterface{{Name: "x", Linux: "averyveryverylongname", Segment: "dmz"}}})},
	} {
		t.Run(name, func(t *testing.T) {
			prefix := RandomPrefix()
			all := append([]Option{WithPrefix(prefix), WithController(), WithSegments(segs...), WithRouters(routers...)}, opts...)
			l, err := Start(ctx, hosts, all...)
			if err == nil {
				l.Close()
				t.Fatal("Start succeeded")
			}
			if got := leftovers(t, prefix, nil); len(got) > 0 {
				Sweep(ctx, prefix)
				t.Errorf("left behind: %v", got)
			}
		})
	}
}
