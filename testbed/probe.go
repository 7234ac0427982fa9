package testbed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"
)

// ProbeTimeout bounds a probe whose ctx has no deadline. A probe expected to
// fail (a firewall that drops rather than rejects) waits for its whole
// deadline, so give those a short ctx; one expected to pass needs slack on a
// loaded CI machine, where a few seconds' stall has been seen.
const ProbeTimeout = 5 * time.Second

// ProbeTCP connects from host (or Controller) to addr and reads the
// listener's banner; it fails if the connection or the banner does not come
// before ctx's deadline (ProbeTimeout when ctx has none).
func (l *Lab) ProbeTCP(ctx context.Context, from string, addr netip.AddrPort) error {
	ctx, cancel := probeContext(ctx)
	defer cancel()
	c, err := l.DialFrom(ctx, from, "tcp", addr.String())
	if err != nil {
		return err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	b, err := io.ReadAll(io.LimitReader(c, 256))
	if err != nil {
		return fmt.Errorf("%s: probe tcp %s: %w", from, addr, err)
	}
	if !strings.HasPrefix(string(b), "fwp-listen ") {
		return fmt.Errorf("%s: probe tcp %s: unexpected banner %q", from, addr, b)
	}
	return nil
}

// ProbeUDP sends a random datagram from host (or Controller) to addr and
// waits for the listener's echo, before ctx's deadline (ProbeTimeout when
// ctx has none). Like any UDP client it sends again every udpRetransmit
// until an echo comes: one datagram can be lost while a link comes back
// (neighbour resolution, an IPv6 address still tentative) and that says
// nothing about the policy. A firewall that drops the port drops every
// copy, so a probe expected to fail still fails.
func (l *Lab) ProbeUDP(ctx context.Context, from string, addr netip.AddrPort) error {
	ctx, cancel := probeContext(ctx)
	defer cancel()
	c, err := l.DialFrom(ctx, from, "udp", addr.String())
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	msg := make([]byte, 8)
	rand.Read(msg)
	msg = []byte(hex.EncodeToString(msg))
	buf := make([]byte, 64)
	for {
		if _, err := c.Write(msg); err != nil {
			return fmt.Errorf("%s: probe udp %s: %w", from, addr, err)
		}
		rd := time.Now().Add(udpRetransmit)
		if rd.After(deadline) {
			rd = deadline
		}
		c.SetReadDeadline(rd)
		n, err := c.Read(buf)
		if err == nil {
			if !bytes.Equal(buf[:n], msg) {
				return fmt.Errorf("%s: probe udp %s: echo %q, want %q", from, addr, buf[:n], msg)
			}
			return nil
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || !time.Now().Before(deadline) {
			return fmt.Errorf("%s: probe udp %s: %w", from, addr, err)
		}
	}
}

// udpRetransmit is how long ProbeUDP waits for an echo before sending again.
const udpRetransmit = 500 * time.Millisecond

func probeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, ProbeTimeout)
}
