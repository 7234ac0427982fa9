package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/inventory"
)

// TestFlagRangesRefused: a fleet, timeout or commit-confirm flag out of
// its range is refused before anything is loaded, recorded or contacted,
// naming the flag and what it accepts. --confirm-timeout 0s used to mean
// "no revert", silently (a policy that cut management then locked the
// host out for good, exit 0); only --no-confirm turns the revert off.
func TestFlagRangesRefused(t *testing.T) {
	var opens atomic.Int32
	testOpener = func(*inventory.Inventory) plan.Opener {
		return func(context.Context, string) (drivers.Session, error) {
			opens.Add(1)
			return nil, errors.New("no connection may be opened")
		}
	}
	t.Cleanup(func() { testOpener = nil })

	apply := []string{"apply", "-i", waInv, "-p", waPB}
	cases := map[string]struct {
		args []string
		want string
	}{
		"confirm 0s":            {append(apply, "--confirm-timeout", "0s"), "--confirm-timeout 0s: want 10s to 1h"},
		"confirm negative":      {append(apply, "--confirm-timeout", "-5s"), "--confirm-timeout -5s: want 10s to 1h"},
		"confirm too short":     {append(apply, "--confirm-timeout", "5s"), "--confirm-timeout 5s: want 10s to 1h"},
		"confirm too long":      {append(apply, "--confirm-timeout", "2h"), "--confirm-timeout 2h0m0s: want 10s to 1h"},
		"no-confirm and timer":  {append(apply, "--no-confirm", "--confirm-timeout", "60s"), "--no-confirm and --confirm-timeout contradict"},
		"forks 0":               {append(apply, "--forks", "0"), "--forks 0: want 1 or more"},
		"forks -1":              {append(apply, "--forks", "-1"), "--forks -1: want 1 or more"},
		"canary -1":             {append(apply, "--canary", "-1"), "--canary -1: want 0 (no canary) or more"},
		"max-fail 101":          {append(apply, "--max-fail-percentage", "101"), "--max-fail-percentage 101: want 0 to 100"},
		"max-fail -1":           {append(apply, "--max-fail-percentage", "-1"), "--max-fail-percentage -1: want 0 to 100"},
		"max-fail NaN":          {append(apply, "--max-fail-percentage", "NaN"), "--max-fail-percentage NaN: want 0 to 100"},
		"serial 0":              {append(apply, "--serial", "0"), `--serial "0": want a number of devices (1 or more) or a percentage (1% to 100%)`},
		"serial 150%":           {append(apply, "--serial", "1,150%"), `--serial "150%"`},
		"serial 2.5%":           {append(apply, "--serial", "2.5%"), `--serial "2.5%"`},
		"serial -2":             {append(apply, "--serial=-2"), `--serial "-2"`},
		"wave without max-fail": {append(apply, "--rollback-wave-on-failure"), "--rollback-wave-on-failure needs --max-fail-percentage"},
		"connect-timeout 0s":    {append(apply, "--connect-timeout", "0s"), "--connect-timeout 0s: want a duration above 0"},
		"connect-timeout -1s":   {append(apply, "--connect-timeout", "-1s"), "--connect-timeout -1s: want a duration above 0"},
		"command-timeout 0s":    {append(apply, "--command-timeout", "0s"), "--command-timeout 0s: want a duration above 0"},
		"connect-retries -1":    {append(apply, "--connect-retries", "-1"), "--connect-retries -1: want 0 or more"},
		"probe-timeout 0s":      {append(apply, "--verify", "--probe-timeout", "0s"), "--probe-timeout 0s: want a duration above 0"},
		"plan forks 0":          {[]string{"plan", "-i", waInv, "-p", waPB, "--forks", "0"}, "--forks 0: want 1 or more"},
		"plan has no waves":     {[]string{"plan", "-i", waInv, "-p", waPB, "--serial", "0%"}, "unknown flag: --serial"},
		"verify probe 0s":       {[]string{"verify", "-i", waInv, "-p", waPB, "--probe-timeout", "0s"}, "--probe-timeout 0s: want a duration above 0"},
		"verify per-flow 0":     {[]string{"verify", "-i", waInv, "-p", waPB, "--per-flow", "0"}, "--per-flow 0: want 1 or more"},
		"verify forks -1":       {[]string{"verify", "-i", waInv, "-p", waPB, "--forks", "-1"}, "--forks -1"},
		"rollback confirm 0s":   {[]string{"rollback", "web-1", "--confirm-timeout", "0s"}, "--confirm-timeout 0s: want 10s to 1h"},
		"rollback forks 0":      {[]string{"rollback", "web-1", "--forks", "0"}, "--forks 0"},
		"reconcile forks 0":     {[]string{"history", "--reconcile", "-i", waInv, "--forks", "0"}, "--forks 0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state", "runs.db")
			args := tc.args
			if tc.args[0] != "plan" && tc.args[0] != "verify" {
				args = append(args, "--state", state) // the commands that record runs
			}
			code, out, errOut := fwpush(t, args...)
			assert.Equal(t, exitError, code, "%s\n%s", out, errOut)
			assert.Contains(t, errOut, tc.want)
			assert.Zero(t, opens.Load(), "no connection opened")
			assert.NoFileExists(t, state, "no run recorded")
		})
	}
}

// TestConfirmTimeoutOneMessage: the flag and the playbook's push section
// refuse the same values with the same words, only the name differs.
func TestConfirmTimeoutOneMessage(t *testing.T) {
	fakeFleet(t)
	for _, d := range []string{"0s", "5s", "2h"} {
		state := filepath.Join(t.TempDir(), "runs.db")
		code, _, flagErr := fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", state, "--confirm-timeout", d)
		require.Equal(t, exitError, code)
		code, _, pbErr := fwpush(t, "apply", "-i", waInv, "-p", withPush(t, "  confirm_timeout: "+d+"\n"), "--state", state)
		require.Equal(t, exitError, code)
		_, flagMsg, ok := strings.Cut(strings.TrimSpace(flagErr), "--confirm-timeout ")
		require.True(t, ok, flagErr)
		_, pbMsg, ok := strings.Cut(strings.TrimSpace(pbErr), "push.confirm_timeout: confirm_timeout ")
		require.True(t, ok, pbErr)
		assert.Equal(t, flagMsg, pbMsg)
	}
}

// TestNoConfirmIsTheOnlyWayOff: --no-confirm still pushes without a
// revert, and says so; the report calls the outcome applied.
func TestNoConfirmIsTheOnlyWayOff(t *testing.T) {
	devs := fakeFleet(t)
	state := filepath.Join(t.TempDir(), "runs.db")
	code, out, errOut := fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", state, "--no-confirm", "--format", "json", "--limit", "web-1")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, errOut, "WARNING: --no-confirm: no device-side revert is armed")
	var res struct {
		Devices []struct{ Host, Outcome string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Len(t, res.Devices, 1)
	assert.Equal(t, "applied", res.Devices[0].Outcome)
	assert.Zero(t, devs["web-1"].Confirms)
}
