package main

import (
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
