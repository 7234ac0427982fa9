package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/check/checktest"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/inventory"
)

// TestServeSIGTERMFinishesTheTrial runs `fwpush serve` with the real
// signal handling of main (the child is this test binary, on in-memory
// devices): a repush job every second finds web-1 changed by hand and
// pushes it; SIGTERM arrives while web-1 is being changed. The change
// finishes (confirmed over a new connection, no timer left), nothing
// else starts, and serve exits 0.
func TestServeSIGTERMFinishesTheTrial(t *testing.T) {
	if os.Getenv(childEnv) == t.Name() {
		serveChild(t)
		return
	}
	dir := t.TempDir()
	abs, err := filepath.Abs("../..")
	require.NoError(t, err)
	config := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
jobs:
  - name: webapp
    inventory: %s/inventory/examples/webapp
    playbook: %s/playbooks/examples/webapp.yml
    schedule: "* * * * * *"
    mode: repush
    timeout: 1m
`, abs, abs)), 0o644))
	result := filepath.Join(dir, "devices.json")
	c := exec.Command(os.Args[0], "-test.run=^TestServeSIGTERMFinishesTheTrial$", "-test.count=1")
	c.Env = append(os.Environ(), childEnv+"="+t.Name(), "FWPUSH_TEST_RESULT="+result,
		"FWPUSH_TEST_STATE="+filepath.Join(dir, "runs.db"), "FWPUSH_TEST_CONFIG="+config)
	p := start(t, c)
	p.waitFor(t, "msg=serving listen=127.0.0.1:", 30*time.Second)
	p.waitFor(t, "test: applying web-1", time.Minute)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	took := p.waitExit(t, 30*time.Second)
	t.Logf("exited %s after SIGTERM", took.Round(time.Millisecond))
	assert.Equal(t, 0, p.code, p.stderr())
	for _, want := range []string{
		"fwpush: SIGTERM: stopping: no new device will be started",
		"msg=run job=webapp mode=repush outcome=repaired", "repaired=web-1",
		"msg=stopped", "fwpush: stopped by SIGTERM",
	} {
		assert.Contains(t, p.stderr(), want)
	}
	data, err := os.ReadFile(result)
	require.NoError(t, err, "child wrote no device states:\n%s", p.stderr())
	var devs map[string]deviceState
	require.NoError(t, json.Unmarshal(data, &devs))
	assert.Equal(t, 1, devs["web-1"].Applies)
	assert.Equal(t, 1, devs["web-1"].Confirms, "confirmed, not left armed")
	for h, d := range devs {
		if h != "web-1" {
			assert.Zero(t, d.Applies, h)
		}
	}
}

func serveChild(t *testing.T) {
	f := checktest.NewFleet(t, "../..")
	checktest.Edit(t, f.Devs["web-1"], "tcp dport { 80, 443 }", "tcp dport { 80, 443, 8443 }")
	open := f.Opener()
	testOpener = func(*inventory.Inventory) plan.Opener {
		return func(ctx context.Context, host string) (drivers.Session, error) {
			s, err := open(ctx, host)
			return slowApply{Session: s, host: host, delay: 1500 * time.Millisecond}, err
		}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	code := runWithSignals([]string{"serve", "--config", os.Getenv("FWPUSH_TEST_CONFIG"), "--state", os.Getenv("FWPUSH_TEST_STATE")},
		strings.NewReader(""), os.Stdout, os.Stderr, sigs, os.Exit)
	states := map[string]deviceState{}
	for h, d := range f.Devs {
		states[h] = deviceState{Opens: d.Opens, Applies: d.Applies, Confirms: d.Confirms, Running: d.Running().String()}
		if d.Holder() != nil {
			fmt.Fprintf(os.Stderr, "test: %s left armed\n", h)
			code = 99
		}
	}
	data, err := json.Marshal(states)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(os.Getenv("FWPUSH_TEST_RESULT"), data, 0o600))
	os.Exit(code)
}

// TestServeConfigErrors: a bad config is refused before anything starts,
// naming file, line and field.
func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(config, []byte("jobs:\n  - name: x\n    mode: sometimes\n"), 0o644))
	code, _, errOut := fwpush(t, "serve", "--config", config)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, config+":3:11: jobs[0].mode: mode \"sometimes\": want check or repush")
	code, _, errOut = fwpush(t, "serve")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "serve needs --config FILE")
	code, _, errOut = fwpush(t, "serve", "--config", config, "--forks", "2")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "unknown flag: --forks", "waves come from the playbook")
}
