package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed/gen"
)

// proc is a started process whose output is watched as it comes.
type proc struct {
	cmd      *exec.Cmd
	mu       sync.Mutex
	out, err bytes.Buffer
	changed  chan struct{} // a token after each chunk of output
	exited   chan struct{}
	code     int
}

func start(t *testing.T, c *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: c, changed: make(chan struct{}, 1), exited: make(chan struct{})}
	stdout, err := c.StdoutPipe()
	require.NoError(t, err)
	stderr, err := c.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, c.Start())
	var wg sync.WaitGroup
	for _, s := range []struct {
		r   io.Reader
		buf *bytes.Buffer
	}{{stdout, &p.out}, {stderr, &p.err}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk := make([]byte, 1<<16)
			for {
				n, err := s.r.Read(chunk)
				p.mu.Lock()
				s.buf.Write(chunk[:n])
				p.mu.Unlock()
				select {
				case p.changed <- struct{}{}:
				default:
				}
				if err != nil {
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		err := c.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			p.code = exit.ExitCode()
		}
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = c.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitFor waits until stdout or stderr contains s.
func (p *proc) waitFor(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		if strings.Contains(p.stdout(), s) || strings.Contains(p.stderr(), s) {
			return
		}
		select {
		case <-p.changed:
		case <-p.exited:
			if strings.Contains(p.stdout(), s) || strings.Contains(p.stderr(), s) {
				return
			}
			t.Fatalf("exited (%d) before printing %q:\n%.2000s\n%s", p.code, s, p.stdout(), p.stderr())
		case <-deadline:
			t.Fatalf("no %q within %s:\n%s", s, within, p.stderr())
		}
	}
}

// waitExit waits for the process to end and returns how long it took.
func (p *proc) waitExit(t *testing.T, within time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	select {
	case <-p.exited:
		return time.Since(t0)
	case <-time.After(within):
		t.Fatalf("still running %s after the signal:\n%s", within, p.stderr())
		return 0
	}
}

func (p *proc) stdout() string { p.mu.Lock(); defer p.mu.Unlock(); return p.out.String() }
func (p *proc) stderr() string { p.mu.Lock(); defer p.mu.Unlock(); return p.err.String() }

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds fwpush once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fwpush-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "fwpush")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// TestInterruptOffline runs the real binary on an 8,000-host system
// (tens of seconds of compile and render) and interrupts it. SIGINT and
// SIGTERM used to be caught and ignored: Ctrl-C did nothing until the
// whole plan was printed. Now the command stops within a bound whether
// it is loading or streaming, exits 128+signal and says why.
func TestInterruptOffline(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	require.NoError(t, gen.Write(dir, gen.Spec{Hosts: 8000, Roles: 100, Flows: 2000, Seed: 1, IptablesEvery: 3}))
	inv, pb := filepath.Join(dir, "inventory"), filepath.Join(dir, "playbook.yml")
	cases := map[string]struct {
		args []string
		sig  syscall.Signal
		// after is the output line to wait for; "" sends at once, while
		// the inventory is still being loaded and compiled.
		after string
	}{
		"plan --offline, SIGINT while streaming": {[]string{"plan", "--offline"}, syscall.SIGINT, "=== h"},
		"plan --offline json, SIGTERM":           {[]string{"plan", "--offline", "--format", "json"}, syscall.SIGTERM, `{"playbook"`},
		"plan --offline, SIGINT while loading":   {[]string{"plan", "--offline"}, syscall.SIGINT, ""},
		"validate, SIGTERM while loading":        {[]string{"validate"}, syscall.SIGTERM, ""},
		"explain, SIGINT while loading":          {[]string{"explain", "--from", "any", "--to", "role-1", "--port", "22"}, syscall.SIGINT, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := start(t, exec.Command(bin, append(tc.args, "-i", inv, "-p", pb)...))
			if tc.after != "" {
				p.waitFor(t, tc.after, time.Minute)
			} else {
				time.Sleep(200 * time.Millisecond)
			}
			require.NoError(t, p.cmd.Process.Signal(tc.sig))
			took := p.waitExit(t, 10*time.Second)
			t.Logf("exited %s after %s", tc.sig, took.Round(time.Millisecond))
			assert.Equal(t, 128+int(tc.sig), p.code, "stderr: %s", p.stderr())
			assert.Contains(t, p.stderr(), "fwpush: interrupted by "+map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[tc.sig])
			if tc.after == "" {
				assert.NotContains(t, p.stdout(), "ok:", "stopped before finishing")
			}
			assert.NotContains(t, p.stdout(), "devices rendered offline", "stopped before finishing")
		})
	}
}

// slowApply holds each device inside Apply for a while (a slow upload)
// and says so on stderr, so the parent can signal at that moment. Like a
// real driver, a cancelled context cuts the upload short.
type slowApply struct {
	drivers.Session
	host  string
	delay time.Duration
}

func (s slowApply) Apply(ctx context.Context, c drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	fmt.Fprintf(os.Stderr, "test: applying %s\n", s.host)
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return drivers.Armed{}, fmt.Errorf("%s: upload cut: %w", s.host, ctx.Err())
	}
	return s.Session.Apply(ctx, c, o)
}

// deviceState is a fake device as the child reports it.
type deviceState struct {
	Opens, Applies, Confirms int
	Running                  string
}

// TestInterruptApply: a push interrupted while a device is mid-upload.
// The first SIGINT stops new devices but lets the one in flight finish
// its change (checked, confirmed), then exits 130 saying so; nothing is
// left half-way and the journal has every outcome. A second SIGINT exits
// at once, leaving the armed device to its revert timer and its entry to
// the next run's reconciliation. The child is this test binary, with
// in-memory devices and the real signal handling of main.
func TestInterruptApply(t *testing.T) {
	if os.Getenv(childEnv) == t.Name() {
		interruptApplyChild(t)
		return
	}
	cases := map[string]struct {
		delay   time.Duration
		signals int
	}{
		"first signal finishes the device in flight": {1500 * time.Millisecond, 1},
		"second signal exits at once":                {time.Minute, 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			state, result := filepath.Join(dir, "runs.db"), filepath.Join(dir, "devices.json")
			c := exec.Command(os.Args[0], "-test.run=^TestInterruptApply$", "-test.count=1")
			c.Env = append(os.Environ(), childEnv+"=TestInterruptApply", "FWPUSH_TEST_RESULT="+result,
				"FWPUSH_TEST_STATE="+state, "FWPUSH_TEST_DELAY="+tc.delay.String())
			p := start(t, c)
			p.waitFor(t, "test: applying ", time.Minute)
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
			if tc.signals == 2 {
				p.waitFor(t, "stopping: no new device will be started", 10*time.Second)
				require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
				took := p.waitExit(t, 5*time.Second)
				assert.Less(t, took, 5*time.Second)
				assert.Equal(t, 130, p.code, p.stderr())
				assert.Contains(t, p.stderr(), "fwpush: SIGINT again: exiting now")
				st, err := store.OpenReadOnly(state)
				require.NoError(t, err)
				hosts, err := st.UnfinishedHosts()
				require.NoError(t, err)
				assert.Len(t, hosts, 1, "the device it left is recorded unfinished, for the next run to reconcile")
				return
			}
			took := p.waitExit(t, tc.delay+20*time.Second)
			t.Logf("exited %s after the signal", took.Round(time.Millisecond))
			assert.Equal(t, 130, p.code, "%s\n%s", p.stdout(), p.stderr())
			assert.Contains(t, p.stderr(), "fwpush: SIGINT: stopping: no new device will be started; the devices being changed now finish")
			assert.Contains(t, p.stderr(), "fwpush: interrupted by SIGINT")
			assert.Contains(t, p.stdout(), "stopped: the run was asked to stop: no device was started after that")

			data, err := os.ReadFile(result)
			require.NoError(t, err, "child wrote no device states:\n%s", p.stderr())
			var devs map[string]deviceState
			require.NoError(t, json.Unmarshal(data, &devs))
			changed := 0
			for h, d := range devs {
				switch {
				case d.Applies > 0:
					changed++
					assert.Equal(t, 1, d.Confirms, "%s: in flight at the signal: confirmed, not left armed or half-done", h)
					assert.NotEmpty(t, d.Running, h)
				default:
					assert.Equal(t, 1, d.Opens, "%s: only read before the push, never started after the signal", h)
				}
			}
			assert.Equal(t, 1, changed, "--forks 1: one device was in flight")

			st, err := store.OpenReadOnly(state)
			require.NoError(t, err)
			hosts, err := st.UnfinishedHosts()
			require.NoError(t, err)
			assert.Empty(t, hosts, "every started device's outcome is recorded")
		})
	}
}

func interruptApplyChild(t *testing.T) {
	delay, err := time.ParseDuration(os.Getenv("FWPUSH_TEST_DELAY"))
	require.NoError(t, err)
	devs := fakeFleet(t)
	testOpener = func(*inventory.Inventory) plan.Opener {
		return func(ctx context.Context, host string) (drivers.Session, error) {
			s, err := devs[host].Open(ctx)
			return slowApply{Session: s, host: host, delay: delay}, err
		}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	code := runWithSignals([]string{"apply", "-i", waInv, "-p", waPB, "--state", os.Getenv("FWPUSH_TEST_STATE"), "--forks", "1"},
		strings.NewReader(""), os.Stdout, os.Stderr, sigs, os.Exit)
	states := map[string]deviceState{}
	for h, d := range devs {
		states[h] = deviceState{Opens: d.Opens, Applies: d.Applies, Confirms: d.Confirms, Running: d.Running().String()}
	}
	data, err := json.Marshal(states)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(os.Getenv("FWPUSH_TEST_RESULT"), data, 0o600))
	os.Exit(code)
}
