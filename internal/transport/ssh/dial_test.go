package ssh

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fwpush/fwpush/internal/fault"
)

// closedPort returns a loopback port with nothing listening on it.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestDialFailures(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts    serverOpts
		edit    func(t *testing.T, cfg *Config)
		want    error
		maxTime time.Duration
		conns   int32 // TCP connections the server must have seen (-1: any)
	}{
		"refused": {
			edit: func(t *testing.T, cfg *Config) { cfg.Port = closedPort(t) },
			want: fault.ErrUnreachable, maxTime: time.Second, conns: 0,
		},
		"silent server times out": {
			opts: serverOpts{silent: true},
			edit: func(t *testing.T, cfg *Config) { cfg.ConnectTimeout = 200 * time.Millisecond },
			want: fault.ErrTimeout, maxTime: 2 * time.Second, conns: 1,
		},
		"dropped without retries": {
			opts: serverOpts{dropFirst: 1},
			want: fault.ErrUnreachable, maxTime: time.Second, conns: 1,
		},
		"timeouts are not retried": {
			opts: serverOpts{silent: true},
			edit: func(t *testing.T, cfg *Config) {
				cfg.ConnectTimeout, cfg.ConnectRetries, cfg.RetryBackoff = 100*time.Millisecond, 3, time.Millisecond
			},
			want: fault.ErrTimeout, maxTime: 2 * time.Second, conns: 1,
		},
		"host key errors are not retried": {
			edit: func(t *testing.T, cfg *Config) {
				cfg.KnownHostsFiles, cfg.ConnectRetries, cfg.RetryBackoff = []string{t.TempDir() + "/kh"}, 3, time.Millisecond
			},
			want: fault.ErrHostKey, maxTime: time.Second, conns: 1,
		},
		"retries are bounded": {
			opts: serverOpts{dropFirst: 100},
			edit: func(t *testing.T, cfg *Config) { cfg.ConnectRetries, cfg.RetryBackoff = 2, 5*time.Millisecond },
			want: fault.ErrUnreachable, maxTime: 2 * time.Second, conns: 3,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, cfg := fixture(t, tc.opts)
			if tc.edit != nil {
				tc.edit(t, &cfg)
			}
			start := time.Now()
			c, err := Dial(context.Background(), cfg)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Dial error = %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > tc.maxTime {
				t.Errorf("Dial took %v, want < %v", d, tc.maxTime)
			}
			if got := s.conns.Load(); got != tc.conns {
				t.Errorf("server saw %d connections, want %d", got, tc.conns)
			}
		})
	}
}

// TestDialRetriesTransientDrops: sshd past MaxStartups drops new
// connections; a bounded retry gets through once it has room.
func TestDialRetriesTransientDrops(t *testing.T) {
	t.Parallel()
	s, cfg := fixture(t, serverOpts{dropFirst: 2})
	cfg.ConnectRetries, cfg.RetryBackoff = 3, 5*time.Millisecond
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial with retries: %v", err)
	}
	c.Close()
	if got := s.conns.Load(); got != 3 {
		t.Errorf("server saw %d connections, want 3 (2 dropped + 1)", got)
	}
}

func TestDialCustomDialerAndCancel(t *testing.T) {
	t.Parallel()
	_, cfg := fixture(t, serverOpts{})
	var used atomic.Int32
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		used.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	c.Close()
	if used.Load() != 1 {
		t.Errorf("custom dialer used %d times, want 1", used.Load())
	}

	// A caller's cancellation stops a hanging handshake and is not
	// reported as a timeout.
	silent := newTestServer(t, serverOpts{silent: true})
	cfg.Port = silent.port
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = Dial(ctx, cfg)
	if !errors.Is(err, context.Canceled) || errors.Is(err, fault.ErrTimeout) {
		t.Errorf("cancelled Dial = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancelled Dial took %v", d)
	}
}
