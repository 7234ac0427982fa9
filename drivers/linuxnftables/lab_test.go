package linuxnftables

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/testbed"
)

// labNamespace creates a throwaway network namespace, removed when the test
// ends, pass or fail. Every command of these tests runs inside it, never in
// the machine's own namespace.
func labNamespace(t *testing.T) string { return testbed.NamespaceT(t) }

// inNS runs a command inside the namespace with a deadline.
func inNS(ns string, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%v: %w: %s", args, err, stderr.String())
	}
	return stdout.String(), nil
}

// labLoad loads a render into the namespace the way a session will: nft
// -c accepts the apply script, the real load replaces what was there, and
// nft lists exactly the rendered text back.
func labLoad(t *testing.T, ns string, cfg drivers.Config) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "apply.nft")
	require.NoError(t, os.WriteFile(script, []byte(ApplyScript(cfg)), 0o600))
	_, err := inNS(ns, nil, "nft", "-c", "-f", script)
	require.NoError(t, err)
	_, err = inNS(ns, nil, "nft", "-f", script)
	require.NoError(t, err)
	got, err := inNS(ns, nil, "nft", "list", "table", "inet", "fwpush")
	require.NoError(t, err)
	if d := cmp.Diff(cfg.Part(PartName), got); d != "" {
		t.Errorf("nft lists something else than the render (-render +listed):\n%s", d)
	}
}

// TestLabRemove: an empty config removes the table.
func TestLabRemove(t *testing.T) {
	ns := labNamespace(t)
	cfg, err := New().Render(edgeIntent())
	require.NoError(t, err)
	labLoad(t, ns, cfg)
	_, err = inNS(ns, []byte(ApplyScript(drivers.Config{})), "nft", "-f", "-")
	require.NoError(t, err)
	out, err := inNS(ns, nil, "nft", "list", "tables")
	require.NoError(t, err)
	require.Empty(t, out, "an empty config removes the table")
}
