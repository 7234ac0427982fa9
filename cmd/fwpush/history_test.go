package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/inventory"
)

const (
	waInv = "../../inventory/examples/webapp"
	waPB  = "../../playbooks/examples/webapp.yml"
)

// fakeFleet routes the CLI's connections to in-memory devices.
func fakeFleet(t *testing.T) map[string]*driverstest.Device {
	t.Helper()
	devs := map[string]*driverstest.Device{}
	for _, h := range []string{"web-1", "web-2", "app-1", "db-1", "db-2"} {
		devs[h] = &driverstest.Device{Name: h}
	}
	testOpener = func(*inventory.Inventory) plan.Opener {
		return func(ctx context.Context, host string) (drivers.Session, error) { return devs[host].Open(ctx) }
	}
	t.Cleanup(func() { testOpener = nil })
	return devs
}

func TestApplyHistoryRollback(t *testing.T) {
	devs := fakeFleet(t)
	state := filepath.Join(t.TempDir(), "runs.db")

	code, out, errOut := fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", state, "--confirm-timeout", "10s", "--format", "json")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	var applied struct {
		Run     string `json:"run"`
		Devices []struct{ Host, Outcome string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &applied), out)
	require.NotEmpty(t, applied.Run)
	require.Len(t, applied.Devices, 5)
	pushed := devs["web-1"].Running().String()
	require.NotEmpty(t, pushed)

	code, out, _ = fwpush(t, "history", "--state", state, "--format", "json")
	require.Equal(t, 0, code, out)
	var runs []store.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &runs), out)
	require.Len(t, runs, 1)
	assert.Equal(t, applied.Run, runs[0].ID)
	assert.Equal(t, "apply", runs[0].Kind)
	assert.Equal(t, "webapp", runs[0].Playbook)
	assert.Equal(t, map[string]int{"confirmed": 5}, runs[0].Counts)
	assert.Contains(t, runs[0].Command, "fwpush apply -i "+waInv)
	assert.NotEmpty(t, runs[0].InventorySHA256)

	code, out, _ = fwpush(t, "history", "--state", state)
	require.Equal(t, 0, code)
	assert.Contains(t, out, applied.Run)
	assert.Contains(t, out, "5 confirmed")

	code, out, _ = fwpush(t, "history", "web-1", "--state", state, "--format", "json")
	require.Equal(t, 0, code, out)
	var rows []hostRow
	require.NoError(t, json.Unmarshal([]byte(out), &rows), out)
	require.Len(t, rows, 1)
	assert.Equal(t, "confirmed", rows[0].State)
	assert.True(t, rows[0].Changed)

	code, out, _ = fwpush(t, "history", "--state", state, "--show", applied.Run[:15], "web-1")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "=== web-1 (linux-nftables): confirmed, phase confirm")
	assert.Contains(t, out, "+table inet fwpush")
	assert.NotContains(t, out, "=== web-2")

	// No -i: the inventory the restored run recorded.
	code, out, errOut = fwpush(t, "rollback", "web-1", "--state", state, "--confirm-timeout", "10s", "--format", "json")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	var rolled struct {
		Run      string `json:"run"`
		Restores []struct{ Host, Run string }
		Devices  []struct{ Host, Outcome string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rolled), out)
	require.Len(t, rolled.Devices, 1)
	assert.Equal(t, "confirmed", rolled.Devices[0].Outcome)
	assert.Equal(t, applied.Run, rolled.Restores[0].Run)
	assert.Equal(t, "", devs["web-1"].Running().String(), "web-1 back to before the apply")
	assert.NotEmpty(t, devs["web-2"].Running().String(), "web-2 untouched")

	code, out, _ = fwpush(t, "history", "--state", state, "--show", rolled.Run, "--format", "json")
	require.Equal(t, 0, code, out)
	var sh shown
	require.NoError(t, json.Unmarshal([]byte(out), &sh), out)
	assert.Equal(t, "rollback", sh.Run.Kind)
	assert.Equal(t, map[string]string{"web-1": applied.Run}, sh.Run.Restores)
	require.Len(t, sh.Entries, 1)
	assert.Equal(t, "confirmed", sh.Entries[0].Outcome)
}

func TestHistoryExitCodes(t *testing.T) {
	fakeFleet(t)
	state := filepath.Join(t.TempDir(), "runs.db")
	code, out, errOut := fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", state, "--confirm-timeout", "10s", "--limit", "db-1")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	_, runID, ok := strings.Cut(strings.TrimSpace(out), "recorded as run ")
	require.True(t, ok, out)

	cases := map[string]struct {
		args []string
		code int
		want string
	}{
		"empty store":       {[]string{"history", "--state", filepath.Join(t.TempDir(), "new.db")}, 0, "no runs recorded"},
		"empty store json":  {[]string{"history", "--state", filepath.Join(t.TempDir(), "new.db"), "--format", "json"}, 0, "[]"},
		"host never pushed": {[]string{"history", "web-1", "--state", state}, 0, "no run recorded for web-1"},
		"unknown run":       {[]string{"history", "--state", state, "--show", "19990101"}, 1, `no run "19990101"`},
		"host not in run":   {[]string{"history", "--state", state, "--show", runID, "web-1"}, 1, "has no entry for web-1"},
		"bad format":        {[]string{"history", "--state", state, "--format", "junit"}, 1, "--format"},
		"rollback unknown":  {[]string{"rollback", "web-1", "--state", state}, 1, "web-1: no recorded run changed this host"},
		"rollback bad --to": {[]string{"rollback", "db-1", "--to", "19990101", "--state", state}, 1, `no run "19990101"`},
		"rollback no host":  {[]string{"rollback", "--state", state}, 1, "requires at least 1 arg"},
		"reconcile no -i":   {[]string{"history", "--reconcile", "--state", state}, 1, "pass -i PATH"},
		"reconcile nothing": {[]string{"history", "--reconcile", "-i", waInv, "--state", state}, 0, "nothing to reconcile"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := fwpush(t, tc.args...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			assert.Contains(t, out+errOut, tc.want)
		})
	}
}

// TestStateFromEnvAndBusy: FWPUSH_STATE names the store; a store held by
// another process fails the command clearly instead of hanging.
func TestStateFromEnvAndBusy(t *testing.T) {
	state := filepath.Join(t.TempDir(), "runs.db")
	t.Setenv("FWPUSH_STATE", state)
	code, out, errOut := fwpush(t, "history")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "no runs recorded in "+state)

	db, err := bolt.Open(state, 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	t0 := time.Now()
	code, _, errOut = fwpush(t, "history")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "another process has held it")
	assert.Less(t, time.Since(t0), 3*store.DefaultTimeout)
}
