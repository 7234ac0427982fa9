// Package listen is the lab's probe target: it accepts TCP connections (a
// one-line banner, then close) and echoes UDP datagrams, on a host's own
// addresses, so reachability probes through a firewall have something real
// to reach.
package listen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Ready is the line Main prints on stdout once every socket is bound; the lab
// waits for it so a started host never races its own listener.
const Ready = "ready"

// Banner is what a TCP client reads before the listener closes the
// connection; probes can check it to be sure they reached the listener.
func Banner(host string, port uint16) string {
	return fmt.Sprintf("fwp-listen %s tcp/%d\n", host, port)
}

// Main runs the listener until SIGTERM or SIGINT and returns the exit code.
// Flags: -name HOST -addr A,B -tcp P,Q -udp P,Q. It binds each port on each
// address (not the wildcard) so UDP replies leave from the address the probe
// used, which is what a connected UDP client expects.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fwp-listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "host name, shown in the TCP banner")
	addrList := fs.String("addr", "", "comma-separated addresses to bind")
	tcpList := fs.String("tcp", "", "comma-separated TCP ports")
	udpList := fs.String("udp", "", "comma-separated UDP ports")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	addrs, err := parseAddrs(*addrList)
	if err != nil {
		fmt.Fprintf(stderr, "fwp-listen: %v\n", err)
		return 2
	}
	tcp, err := parsePorts(*tcpList)
	if err != nil {
		fmt.Fprintf(stderr, "fwp-listen: -tcp: %v\n", err)
		return 2
	}
	udp, err := parsePorts(*udpList)
	if err != nil {
		fmt.Fprintf(stderr, "fwp-listen: -udp: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, *name, addrs, tcp, udp, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "fwp-listen: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, name string, addrs []netip.Addr, tcp, udp []uint16, stdout, stderr io.Writer) error {
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	var wg sync.WaitGroup
	for _, a := range addrs {
		for _, p := range tcp {
			ln, err := net.Listen("tcp", netip.AddrPortFrom(a, p).String())
			if err != nil {
				return err
			}
			closers = append(closers, ln)
			wg.Add(1)
			go func() {
				defer wg.Done()
				acceptLoop(ln, Banner(name, p), stderr)
			}()
		}
		for _, p := range udp {
			pc, err := net.ListenPacket("udp", netip.AddrPortFrom(a, p).String())
			if err != nil {
				return err
			}
			closers = append(closers, pc)
			wg.Add(1)
			go func() {
				defer wg.Done()
				echoLoop(pc, stderr)
			}()
		}
	}
	if _, err := fmt.Fprintln(stdout, Ready); err != nil {
		return fmt.Errorf("report ready: %w", err)
	}
	<-ctx.Done()
	for _, c := range closers {
		c.Close()
	}
	closers = nil
	wg.Wait()
	return nil
}

// acceptLoop runs until ln is closed; each client gets the banner and EOF.
func acceptLoop(ln net.Listener, banner string, stderr io.Writer) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(stderr, "fwp-listen: accept %s: %v\n", ln.Addr(), err)
			}
			return
		}
		go func() {
			defer c.Close()
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, banner)
		}()
	}
}

// echoLoop runs until pc is closed, sending every datagram back to its sender.
func echoLoop(pc net.PacketConn, stderr io.Writer) {
	buf := make([]byte, 64*1024)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(stderr, "fwp-listen: read %s: %v\n", pc.LocalAddr(), err)
			}
			return
		}
		if _, err := pc.WriteTo(buf[:n], from); err != nil {
			fmt.Fprintf(stderr, "fwp-listen: echo to %s: %v\n", from, err)
		}
	}
}

func parseAddrs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, f := range splitList(s) {
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("-addr: %w", err)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, errors.New("-addr: at least one address is needed")
	}
	return out, nil
}

func parsePorts(s string) ([]uint16, error) {
	var out []uint16
	for _, f := range splitList(s) {
		p, err := strconv.ParseUint(f, 10, 16)
		if err != nil || p == 0 {
			return nil, fmt.Errorf("bad port %q", f)
		}
		out = append(out, uint16(p))
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
