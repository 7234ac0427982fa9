package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/check/checktest"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/inventory"
)

// checkFleet is the webapp fleet on in-memory devices behind the CLI.
func checkFleet(t *testing.T) *checktest.Fleet {
	t.Helper()
	f := checktest.NewFleet(t, "../..")
	testOpener = func(*inventory.Inventory) plan.Opener {
		open := f.Opener()
		return func(ctx context.Context, host string) (drivers.Session, error) { return open(ctx, host) }
	}
	t.Cleanup(func() { testOpener = nil })
	return f
}

func TestCheckExitCodes(t *testing.T) {
	cases := map[string]struct {
		setup func(t *testing.T, f *checktest.Fleet)
		code  int
		want  []string
	}{
		"compliant": {func(*testing.T, *checktest.Fleet) {}, 0, []string{"5 devices: 5 compliant, 0 drift, 0 error"}},
		"drift names the host and the change": {func(t *testing.T, f *checktest.Fleet) {
			checktest.Edit(t, f.Devs["db-2"], "\t\tip saddr @db_v4 tcp dport 5432 accept", "\t\tip saddr @db_v4 tcp dport 5433 accept")
		}, 2, []string{"=== db-2 (linux-nftables): drift", "+ permitted by hand, not by the policy: input: ip saddr @db_v4 tcp dport 5433 accept comment \"flow 4: Streaming replication between primary and replica\"",
			"- no longer permitted (the policy permits it): input: ip saddr @db_v4 tcp dport 5432 accept comment \"flow 4: Streaming replication between primary and replica\""}},
		"unreachable is an error, named": {func(t *testing.T, f *checktest.Fleet) { f.Down["app-1"] = true }, 1,
			[]string{"unreachable: app-1", "fwpush: 1 of 5 devices could not be checked: app-1 (unreachable)"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := checkFleet(t)
			tc.setup(t, f)
			code, out, errOut := fwpush(t, "check", "-i", waInv, "-p", waPB)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			for _, w := range tc.want {
				assert.Contains(t, out+errOut, w)
			}
		})
	}
}

// TestCheckFormats: JSON is the documented document; markdown, junit and
// html are produced by the same command with the same exit code.
func TestCheckFormats(t *testing.T) {
	f := checkFleet(t)
	f.Scenario(t)
	code, out, errOut := fwpush(t, "check", "-i", waInv, "-p", waPB, "--format", "json")
	require.Equal(t, 1, code, errOut)
	var doc struct {
		Playbook  string `json:"playbook"`
		Compliant bool   `json:"compliant"`
		Summary   struct {
			Total, Compliant, Drift, Error int
		} `json:"summary"`
		Devices []struct {
			Host     string `json:"host"`
			Status   string `json:"status"`
			Findings []struct {
				Kind, Detail string
			} `json:"findings"`
			Drift *struct {
				Permitted   []string `json:"newly_permitted"`
				Unpermitted []string `json:"no_longer_permitted"`
			} `json:"drift"`
			Repair *struct {
				Unified string `json:"unified"`
			} `json:"repair"`
			Lock *struct{ Run string } `json:"lock"`
		} `json:"devices"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	assert.Equal(t, "webapp", doc.Playbook)
	assert.False(t, doc.Compliant)
	assert.Equal(t, 3, doc.Summary.Drift)
	for _, d := range doc.Devices {
		if d.Host == "web-1" {
			assert.Equal(t, "drift", d.Status)
			assert.Equal(t, "modified", d.Findings[0].Kind)
			assert.Equal(t, []string{"input: tcp dport 3306 accept"}, d.Drift.Permitted)
			assert.NotEmpty(t, d.Repair.Unified)
		}
		if d.Host == "db-1" {
			assert.Equal(t, "run-of-bob", d.Lock.Run)
		}
	}

	for format, want := range map[string]string{
		"markdown": "| web-1 | linux-nftables | ⚠️ drift | modified |",
		"junit":    `<testcase name="web-1" classname="fwpush.check.linux-nftables">`,
		"html":     "<h2>Communication matrix</h2>",
	} {
		code, out, errOut := fwpush(t, "check", "-i", waInv, "-p", waPB, "--format", format)
		assert.Equal(t, 1, code, errOut)
		assert.Contains(t, out, want, format)
	}
	code, _, errOut = fwpush(t, "check", "-i", waInv, "-p", waPB, "--format", "yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--format")
}

// TestCheckIsReadOnly: a check arms nothing, applies nothing, takes no
// lock and records nothing in the run store.
func TestCheckIsReadOnly(t *testing.T) {
	f := checkFleet(t)
	checktest.Edit(t, f.Devs["web-1"], "tcp dport { 80, 443 }", "tcp dport { 80, 443, 8443 }")
	state := filepath.Join(t.TempDir(), "runs.db")
	t.Setenv("FWPUSH_STATE", state) // check takes no --state: it must not open the store at all
	code, _, errOut := fwpush(t, "check", "-i", waInv, "-p", waPB)
	require.Equal(t, 2, code, errOut)
	for h, d := range f.Devs {
		assert.Zero(t, d.Applies, h)
		assert.Nil(t, d.Holder(), h)
	}
	_, err := os.Stat(state)
	assert.True(t, os.IsNotExist(err), "no run store created")
}

// TestReportCommand: report writes one HTML file (check, offline) or the
// graph alone.
func TestReportCommand(t *testing.T) {
	f := checkFleet(t)
	checktest.Edit(t, f.Devs["web-1"], "tcp dport { 80, 443 }", "tcp dport { 80, 443, 8443 }")
	dir := t.TempDir()
	out := filepath.Join(dir, "r.html")
	code, stdout, errOut := fwpush(t, "report", "-i", waInv, "-p", waPB, "-o", out)
	require.Equal(t, 0, code, "%s\n%s", stdout, errOut)
	assert.Contains(t, errOut, "wrote "+out+" (5 devices: 4 compliant, 1 drift, 0 error)")
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(page), "8443")

	code, stdout, errOut = fwpush(t, "report", "--offline", "-i", cwInv, "-p", cwPB)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, stdout, "12 devices rendered offline")
	assert.Contains(t, stdout, "rendered config")

	code, stdout, errOut = fwpush(t, "report", "--graph", "dot", "-i", cwInv, "-p", cwPB)
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(stdout, `digraph "clearwater" {`), stdout)
	assert.Contains(t, stdout, `"bono" -> "sprout" [label="tcp/5054\ntcp/5052"];`)
	code, stdout, _ = fwpush(t, "report", "--graph", "mermaid", "-i", cwInv, "-p", cwPB)
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(stdout, "flowchart LR\n"), stdout)
	code, _, errOut = fwpush(t, "report", "--graph", "svg", "-i", cwInv, "-p", cwPB)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--graph")
}

// TestFormatHTMLHooks: plan, apply and history write the same report.
func TestFormatHTMLHooks(t *testing.T) {
	fakeFleet(t)
	state := filepath.Join(t.TempDir(), "runs.db")
	code, out, errOut := fwpush(t, "plan", "-i", waInv, "-p", waPB, "--format", "html")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, out, "dry run of 5 devices")
	code, out, _ = fwpush(t, "plan", "--offline", "-i", waInv, "-p", waPB, "--format", "html")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "rendered offline")
	code, out, errOut = fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", state, "--confirm-timeout", "10s", "--format", "html")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "recorded as run")
	code, out, _ = fwpush(t, "history", "--state", state, "--format", "html")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "<h2>History</h2>")
}
