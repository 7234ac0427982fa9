package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExplainLanguage: explain reads the playbook's own endpoint forms
// (host:NAME, a prefix, management) as flows do, names flows by their
// number and name, and says when a deny answers (reject).
func TestExplainLanguage(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "p.yml")
	require.NoError(t, os.WriteFile(pb, []byte(`name: p
roles: {web: {}, app: {}, db: {}}
flows:
  - {name: admin-ui, from: management, to: host:app-1, ports: [tcp/8443], why: admins}
  - {from: 198.19.7.0/24, to: app, ports: [tcp/23], action: reject, why: telnet answered}
`), 0o644))
	code, out, errOut := fwpush(t, "explain", "-i", waInv, "-p", pb, "--from", "management", "--to", "host:app-1", "--port", "8443")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "PERMITTED")
	assert.Contains(t, out, "permit by flow-1 — admins")
	code, out, _ = fwpush(t, "explain", "-i", waInv, "-p", pb, "--from", "198.19.7.9", "--to", "app-1", "--port", "23")
	assert.Equal(t, exitDenied, code, out)
	assert.Contains(t, out, "app-1/input: reject by flow-2 — telnet answered")
	code, out, _ = fwpush(t, "explain", "-i", waInv, "-p", pb, "--from", "198.19.8.9", "--to", "app-1", "--port", "23")
	assert.Equal(t, exitDenied, code, out)
	assert.Contains(t, out, "app-1/input: deny by default-deny")
}

// TestLint: lint prints each finding at its line, exits 1 when there is
// one and 0 when there is none; JSON carries the same findings.
func TestLint(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "p.yml")
	require.NoError(t, os.WriteFile(pb, []byte(`name: p
roles: {web: {}, app: {}, db: {}}
flows:
  - {from: any, to: db, ports: [tcp/5432], action: deny, why: nobody reaches the db}
  - {from: app, to: db, ports: [tcp/5432], why: the app reads its data}
`), 0o644))
	code, out, errOut := fwpush(t, "lint", "-i", waInv, "-p", pb)
	assert.Equal(t, exitError, code, errOut)
	assert.Contains(t, out, "shadowed: "+pb+":5:6: flows[1]: flow 2 never takes effect: flow 1 (line 4) denies all of its traffic first\n1 findings")
	code, out, _ = fwpush(t, "lint", "-i", waInv, "-p", pb, "--format", "json")
	assert.Equal(t, exitError, code)
	var res struct {
		Findings []struct {
			Kind     string
			Flow, By int
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Len(t, res.Findings, 1)
	assert.Equal(t, "shadowed", res.Findings[0].Kind)
	assert.Equal(t, []int{2, 1}, []int{res.Findings[0].Flow, res.Findings[0].By})

	code, out, errOut = fwpush(t, "lint", "-i", waInv, "-p", waPB)
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "0 findings")
}
