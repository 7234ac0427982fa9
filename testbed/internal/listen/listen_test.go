package listen

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := map[string]struct {
		args     []string
		wantCode int
	}{
		"bad addr":   {args: []string{"-addr", "nope"}, wantCode: 2},
		"no addr":    {args: []string{"-tcp", "80"}, wantCode: 2},
		"bad port":   {args: []string{"-addr", "127.0.0.1", "-tcp", "99999"}, wantCode: 2},
		"zero port":  {args: []string{"-addr", "127.0.0.1", "-udp", "0"}, wantCode: 2},
		"bad flag":   {args: []string{"-nope"}, wantCode: 2},
		"port taken": {args: []string{"-addr", "127.0.0.1", "-tcp", "PORT,PORT"}, wantCode: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := tc.args
			if strings.Contains(strings.Join(args, " "), "PORT") {
				p := freePort(t)
				args = []string{"-addr", "127.0.0.1", "-tcp", p + "," + p}
			}
			var stderr strings.Builder
			if got := Main(args, io.Discard, &stderr); got != tc.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", got, tc.wantCode, stderr.String())
			}
		})
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// TestServe runs the listener on loopback and checks the banner, the echo
// and the shutdown.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tcpPort, udpPort := freePort(t), freePort(t) // a free TCP port is very likely free for UDP too
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		tp, _ := parsePorts(tcpPort)
		up, _ := parsePorts(udpPort)
		done <- serve(ctx, "h1", addrs, tp, up, pw, io.Discard)
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != Ready {
		t.Fatalf("ready line %q, %v", line, err)
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+tcpPort, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := io.ReadAll(c)
	c.Close()
	tp, _ := parsePorts(tcpPort)
	if err != nil || string(b) != Banner("h1", tp[0]) {
		t.Errorf("banner %q, %v", b, err)
	}
	u, err := net.Dial("udp", "127.0.0.1:"+udpPort)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := u.Write([]byte("ping-42")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, err := u.Read(buf)
	if err != nil || string(buf[:n]) != "ping-42" {
		t.Errorf("echo %q, %v", buf[:n], err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop")
	}
}
