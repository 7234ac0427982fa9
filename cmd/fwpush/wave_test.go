package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withPush writes the webapp playbook with a push section appended.
func withPush(t *testing.T, push string) string {
	t.Helper()
	src, err := os.ReadFile(waPB)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "webapp.yml")
	require.NoError(t, os.WriteFile(p, append(src, []byte("\npush:\n"+push)...), 0o644))
	return p
}

// TestPlaybookPushWaves: the playbook's push section sets waves of two,
// max_fail_percentage 0 and rollback_wave_on_failure. web-1 (second wave,
// hosts in name order) refuses: the run stops, db-2 (same wave, confirmed)
// is rolled back by a run of its own, the first wave keeps the change,
// web-2 is never contacted, exit 1. A flag overrides the playbook.
func TestPlaybookPushWaves(t *testing.T) {
	devs := fakeFleet(t)
	devs["web-1"].Reject = true
	pb := withPush(t, "  serial: [2]\n  max_fail_percentage: 0\n  rollback_wave_on_failure: true\n  confirm_timeout: 10s\n")
	state := filepath.Join(t.TempDir(), "runs.db")

	code, out, errOut := fwpush(t, "apply", "-i", waInv, "-p", pb, "--state", state, "--format", "json")
	require.Equal(t, exitError, code, "%s\n%s", out, errOut)
	var res struct {
		Run     string
		Summary struct {
			Aborted      string `json:"aborted"`
			AbortedBatch int    `json:"aborted_batch"`
		}
		Devices []struct {
			Host, Outcome string
			Batch         int
		}
		WaveRollback *struct {
			Run      string
			Restores []struct{ Host, Run string }
			Devices  []struct{ Host, Outcome string }
		} `json:"wave_rollback"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, 2, res.Summary.AbortedBatch, res.Summary.Aborted)
	batches := map[string]int{}
	for _, d := range res.Devices {
		batches[d.Host] = d.Batch
	}
	assert.Equal(t, map[string]int{"app-1": 1, "db-1": 1, "db-2": 2, "web-1": 2, "web-2": 0}, batches)
	require.NotNil(t, res.WaveRollback, out)
	require.Len(t, res.WaveRollback.Devices, 1)
	assert.Equal(t, "db-2", res.WaveRollback.Devices[0].Host)
	assert.Equal(t, "confirmed", res.WaveRollback.Devices[0].Outcome)
	assert.Equal(t, res.Run, res.WaveRollback.Restores[0].Run)
	assert.Equal(t, "", devs["db-2"].Running().String(), "db-2 back to before")
	assert.NotEmpty(t, devs["app-1"].Running().String(), "the first wave passed")
	assert.Equal(t, 0, devs["web-2"].Applies, "web-2 never pushed (only read before the push)")

	// Text output names the undoing run; --max-fail-percentage on the
	// command line beats the playbook (no wave fails at 100%).
	code, out, errOut = fwpush(t, "apply", "-i", waInv, "-p", pb, "--state", state, "--max-fail-percentage", "100")
	require.Equal(t, exitError, code, "%s\n%s", out, errOut)
	assert.NotContains(t, out, "rolled back the failed wave")
	assert.NotEmpty(t, devs["web-2"].Running().String(), "all waves ran")
}

// TestWaveRollbackText: the text report says the wave was rolled back and
// under which run; history lists both runs.
func TestWaveRollbackText(t *testing.T) {
	devs := fakeFleet(t)
	devs["web-1"].Reject = true
	state := filepath.Join(t.TempDir(), "runs.db")
	code, out, errOut := fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", state, "--confirm-timeout", "10s",
		"--serial", "2", "--max-fail-percentage", "0", "--rollback-wave-on-failure")
	require.Equal(t, exitError, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "rolled back the failed wave's confirmed devices (--rollback-wave-on-failure)")
	assert.Regexp(t, `db-2\s+linux-\S+\s+changed\s+confirmed`, out)
	assert.Equal(t, "", devs["db-2"].Running().String())

	code, out, _ = fwpush(t, "history", "--state", state)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "rollback")
	assert.Contains(t, out, "apply")
}
