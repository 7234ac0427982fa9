package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/fwpush/fwpush/internal/fault"
)

// goroutinesOf counts live goroutines whose stack mentions frame (for
// methods the stack also shows the receiver, which pins one Client).
func goroutinesOf(frame string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Count(buf, []byte(frame))
}

// waitFor polls cond for up to 2s.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// Not parallel: it counts the process's goroutines.
func TestKeepaliveStopsOnClose(t *testing.T) {
	s, cfg := fixture(t, serverOpts{})
	cfg.KeepaliveInterval = 20 * time.Millisecond
	base := runtime.NumGoroutine()
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	loop := fmt.Sprintf("(*Client).keepalive(%p", c)
	// A goroutine that has not run yet shows no arguments: wait for it.
	if !waitFor(func() bool { return goroutinesOf(loop) == 1 }) {
		t.Fatalf("%d keepalive goroutines for this client, want 1", goroutinesOf(loop))
	}
	if !waitFor(func() bool { _, _, _, n := s.snapshot(); return n >= 3 }) {
		t.Fatal("server saw fewer than 3 keepalives")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := goroutinesOf(loop); n != 0 {
		t.Errorf("keepalive goroutine still running after Close")
	}
	if !waitFor(func() bool { return runtime.NumGoroutine() <= base }) {
		t.Errorf("goroutines: %d after Close, %d before Dial", runtime.NumGoroutine(), base)
	}
	_, _, _, sent := s.snapshot()
	time.Sleep(60 * time.Millisecond)
	if _, _, _, n := s.snapshot(); n != sent {
		t.Errorf("keepalives continued after Close: %d then %d", sent, n)
	}
}

func TestKeepaliveClosesDeadConnection(t *testing.T) {
	t.Parallel()
	_, c := dialFixture(t, serverOpts{ignoreKeepalive: true}, func(cfg *Config) { cfg.KeepaliveInterval = 30 * time.Millisecond })
	loop := fmt.Sprintf("(*Client).keepalive(%p", c)
	if !waitFor(func() bool { return goroutinesOf(loop) == 1 }) {
		t.Fatal("keepalive goroutine not running")
	}
	// 3 unanswered intervals, then the loop closes the client and ends.
	if !waitFor(func() bool { return goroutinesOf(loop) == 0 }) {
		t.Fatal("keepalive did not give up on a silent server")
	}
	_, err := c.Run(context.Background(), "true", nil)
	if !errors.Is(err, fault.ErrTimeout) {
		t.Errorf("Run on a dead connection = %v, want ErrTimeout from the keepalive", err)
	}
}

func TestKeepaliveDisabled(t *testing.T) {
	t.Parallel()
	_, c := dialFixture(t, serverOpts{}, func(cfg *Config) { cfg.KeepaliveInterval = -1 })
	select {
	case <-c.kaDone: // never started
	default:
		t.Error("keepalive loop running although disabled")
	}
}
