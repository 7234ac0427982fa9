package serve_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/serve"
)

// TestContribServeYAML: the example config parses as shipped.
func TestContribServeYAML(t *testing.T) {
	cfg, err := serve.LoadConfig(root + "/contrib/serve.yaml")
	require.NoError(t, err)
	require.Len(t, cfg.Jobs, 2)
	assert.Equal(t, serve.CheckOnly, cfg.Jobs[0].Mode)
	assert.Equal(t, serve.Repush, cfg.Jobs[1].Mode)
	assert.Equal(t, serve.DefaultListen, cfg.Listen)
}

// TestContribSystemdUnits: the units are valid for systemd (systemd-analyze
// verify, with fwpush's path pointed at a binary that exists), hardened
// as the issue asks, and systemd's own exposure score stays low.
func TestContribSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getuid() == 0 {
			t.Fatal("no systemd-analyze: install Debian's systemd (make deps)")
		}
		t.Skip("no systemd-analyze")
	}
	src := root + "/contrib/systemd"
	dir := t.TempDir()
	units := []string{"fwpush-serve.service", "fwpush-check.service", "fwpush-check.timer"}
	text := map[string]string{}
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join(src, u))
		require.NoError(t, err)
		text[u] = string(b)
		// verify checks that ExecStart's binary exists: any will do.
		b = bytes.ReplaceAll(b, []byte("/usr/local/bin/fwpush"), []byte("/bin/true"))
		require.NoError(t, os.WriteFile(filepath.Join(dir, u), b, 0o644))
	}
	for _, svc := range []string{"fwpush-serve.service", "fwpush-check.service"} {
		for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=fwpush", "NoNewPrivileges=yes",
			"CapabilityBoundingSet=\n", "LoadCredential=ssh-key:"} {
			assert.Contains(t, text[svc], want, svc)
		}
	}
	assert.Contains(t, text["fwpush-serve.service"], "ExecStart=/usr/local/bin/fwpush serve --config /etc/fwpush/serve.yaml")
	assert.Contains(t, text["fwpush-serve.service"], "KillSignal=SIGTERM")
	assert.Contains(t, text["fwpush-check.service"], "ExecStart=/usr/local/bin/fwpush check ")
	assert.Contains(t, text["fwpush-check.timer"], "OnUnitActiveSec=15min")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"verify"}
	for _, u := range units {
		args = append(args, filepath.Join(dir, u))
	}
	cmd := exec.CommandContext(ctx, analyze, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify warns")

	out, _ = exec.CommandContext(ctx, analyze, "--offline=true", "security", filepath.Join(dir, "fwpush-serve.service")).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for fwpush-serve.service: ([0-9.]+)`).FindSubmatch(out)
	require.NotNil(t, m, "%s", out)
	score, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	t.Logf("systemd-analyze security: exposure %.1f", score)
	assert.LessOrEqual(t, score, 2.0, "%s", out)
}
