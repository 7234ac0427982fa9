package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCapircaCommands: export writes aclgen's layout, refuses to
// overwrite, and import reads it back into files fwpush loads.
func TestCapircaCommands(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := fwpush(t, "export", "capirca", "-i", "../../inventory/examples/clearwater", "-p", "../../playbooks/clearwater.yml", "-o", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "wrote "+filepath.Join(dir, "pol", "clearwater.pol"))
	require.Contains(t, errOut, "note: left out flow 2 (line 95): feature snmp is off")
	for _, f := range []string{"pol/clearwater.pol", "def/NETWORK.net", "def/SERVICES.svc"} {
		require.FileExists(t, filepath.Join(dir, f))
	}
	code, _, errOut = fwpush(t, "export", "capirca", "-i", "../../inventory/examples/clearwater", "-p", "../../playbooks/clearwater.yml", "-o", dir)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "clearwater.pol exists: --force overwrites it")

	imp := t.TempDir()
	code, out, errOut = fwpush(t, "import", "capirca", filepath.Join(dir, "pol", "clearwater.pol"), "--defs", filepath.Join(dir, "def"), "-o", imp)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "wrote "+filepath.Join(imp, "clearwater.yml"))
	pb, err := os.ReadFile(filepath.Join(imp, "clearwater.yml"))
	require.NoError(t, err)
	require.Contains(t, string(pb), "name: clearwater\n")

	code, _, errOut = fwpush(t, "import", "capirca", filepath.Join(dir, "pol", "clearwater.pol"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--defs: name the definitions directory")
	code, _, errOut = fwpush(t, "import", "capirca", filepath.Join(dir, "pol", "clearwater.pol"), "--defs", filepath.Join(dir, "def"), "--filter", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no filter named "nope" (filters: clearwater)`)
}
