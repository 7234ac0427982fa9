package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/inventory"
)

// secretInventory is the webapp example with every password a ${ENV}
// reference to name.
func secretInventory(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"hosts.yaml", "groups.yaml", "defaults.yaml", "networks.yaml"} {
		b, err := os.ReadFile(filepath.Join(waInv, f))
		require.NoError(t, err)
		if f == "defaults.yaml" {
			b = append(b, []byte("password: ${"+name+"}\n")...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	return dir
}

// countingFleet is fakeFleet counting connections, and handing out the
// inventory the command connects with.
func countingFleet(t *testing.T) (*atomic.Int32, func() *inventory.Inventory) {
	devs := fakeFleet(t)
	var opens atomic.Int32
	var mu sync.Mutex
	var seen *inventory.Inventory
	testOpener = func(inv *inventory.Inventory) plan.Opener {
		mu.Lock()
		seen = inv
		mu.Unlock()
		return func(ctx context.Context, host string) (drivers.Session, error) {
			opens.Add(1)
			return devs[host].Open(ctx)
		}
	}
	return &opens, func() *inventory.Inventory { mu.Lock(); defer mu.Unlock(); return seen }
}

// TestUnsetSecretRefused: a ${ENV} password whose variable is unset once
// went to the devices as an empty password. Now nothing connects, and the
// error names every host and key at once.
func TestUnsetSecretRefused(t *testing.T) {
	opens, _ := countingFleet(t)
	inv := secretInventory(t, "FWPUSH_TEST_NEVER_SET")
	for _, args := range [][]string{
		{"plan", "-i", inv, "-p", waPB},
		{"apply", "-i", inv, "-p", waPB, "--state", filepath.Join(t.TempDir(), "runs.db")},
		{"verify", "-i", inv, "-p", waPB, "--limit", "web-1,db-1"},
		{"check", "-i", inv, "-p", waPB},
		{"report", "-i", inv, "-p", waPB},
	} {
		code, out, errOut := fwpush(t, args...)
		assert.Equal(t, exitError, code, "%v\n%s", args, out)
		hosts := []string{"app-1", "db-1", "db-2", "web-1", "web-2"}
		if args[0] == "verify" {
			hosts = []string{"app-1", "db-2"} // the probes toward web-1 and db-1 run from these
		}
		for _, h := range hosts {
			assert.Contains(t, errOut, "host "+h+": password is ${FWPUSH_TEST_NEVER_SET}, which is not set: export FWPUSH_TEST_NEVER_SET", args)
		}
	}
	assert.Zero(t, opens.Load(), "no device was contacted")
	code, _, errOut := fwpush(t, "plan", "--offline", "-i", inv, "-p", waPB)
	assert.Equal(t, exitOK, code, "rendering needs no secret: %s", errOut)
}

// TestUnsetSecretAsked: on a terminal, fwpush asks for an unset
// variable once, without echoing it, and connects with it.
func TestUnsetSecretAsked(t *testing.T) {
	opens, seen := countingFleet(t)
	inv := secretInventory(t, "FWPUSH_TEST_ASKED")
	ptm, tty := openPTY(t)
	echo := readAll(ptm)
	var errOut syncBuffer
	var out bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"plan", "-i", inv, "-p", waPB, "--format", "json"}, tty, &out, &errOut)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errOut.String(), "enter it: ") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.Contains(t, errOut.String(), "FWPUSH_TEST_ASKED is not set (app-1 password, db-1 password, db-2 password, web-1 password, web-2 password); enter it: ")
	_, err := ptm.WriteString("typed-secret\n")
	require.NoError(t, err)
	select {
	case code := <-done:
		assert.Equal(t, exitChanges, code, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatal("plan did not finish")
	}
	assert.Equal(t, 1, strings.Count(errOut.String(), "enter it: "), "asked once")
	assert.Equal(t, "typed-secret", seen().Hosts["web-1"].Password.Reveal())
	assert.NotZero(t, opens.Load())
	tty.Close()
	assert.NotContains(t, echo(), "typed-secret", "not echoed")
	assert.NotContains(t, out.String()+errOut.String(), "typed-secret")
}

// syncBuffer is a bytes.Buffer safe to read while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
