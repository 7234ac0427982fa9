package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFeatureFlags: --feature and --no-feature switch what the playbook's
// options.features declares (webapp's metrics flow opens tcp/9100); a
// name it does not declare, or one switched both ways, is refused.
func TestFeatureFlags(t *testing.T) {
	code, out, errOut := fwpush(t, "render", "-i", waInv, "-p", waPB, "web-1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "tcp dport 9100 accept", "metrics is on in the playbook")

	code, out, errOut = fwpush(t, "render", "-i", waInv, "-p", waPB, "--no-feature", "metrics", "web-1")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "tcp dport 9100", "--no-feature metrics drops its flow")

	code, _, errOut = fwpush(t, "render", "-i", waInv, "-p", waPB, "--feature", "metrcs", "web-1")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, `feature "metrcs" is not declared in options.features (declared: metrics)`)

	code, _, errOut = fwpush(t, "validate", "-i", waInv, "-p", waPB, "--feature", "metrics", "--no-feature", "metrics")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, `feature "metrics" is both switched on (--feature) and off (--no-feature)`)
}

// TestPlanFileKeepsFeatures: a saved plan is applied with the features it
// was planned with; other switches on the apply command line are refused.
func TestPlanFileKeepsFeatures(t *testing.T) {
	devs := fakeFleet(t)
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	code, out, errOut := fwpush(t, "plan", "-i", waInv, "-p", waPB, "--no-feature", "metrics", "--out", planFile)
	require.Equal(t, exitChanges, code, "%s\n%s", out, errOut)
	b, err := os.ReadFile(planFile)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"features": {`+"\n"+`      "metrics": false`)
	code, _, errOut = fwpush(t, "apply", "--plan", planFile, "--feature", "metrics", "--yes", "--state", filepath.Join(dir, "runs.db"))
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "the plan was saved with features --no-feature metrics, this run switches --feature metrics: run plan again")

	code, out, errOut = fwpush(t, "apply", "--plan", planFile, "--yes", "--confirm-timeout", "10s", "--state", filepath.Join(dir, "runs.db"))
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	var text string
	for _, part := range devs["web-1"].Running().Parts {
		text += part.Text
	}
	assert.Contains(t, text, "flow 1: Users reach the site", "the plan was applied")
	assert.NotContains(t, text, "tcp dport 9100", "with the features it was planned with")
}
