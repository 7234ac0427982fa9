package linuxhost

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/hostiletest"
)

// fileDialect stages each part of a config as the file named by the part.
type fileDialect struct{ Dialect }

func (fileDialect) Stage(c drivers.Config) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, p := range c.Parts {
		out[p.Name] = []byte(p.Text)
	}
	return out, nil
}

// runLocal runs a staging script with sh on this machine, as sshd would.
func runLocal(t *testing.T, script string, stdin []byte) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestStageLarge: files far over the kernel's 128 KiB limit on one argument
// (the limit the heredoc-in-the-command staging hit), with every hostile
// string in them, arrive byte for byte, while the command line stays a
// few hundred bytes whatever the files hold.
func TestStageLarge(t *testing.T) {
	c := hostiletest.NewCanaries(t)
	var hostile strings.Builder
	for _, p := range c.Corpus() {
		hostile.WriteString(p.Text + "\n")
	}
	var big strings.Builder
	for i := 0; big.Len() < 1<<20; i++ {
		big.WriteString("198.18.0.1/32, 2001:db8::1,\n")
	}
	cfg := drivers.Config{Parts: []drivers.Part{
		{Name: "a", Text: big.String()},
		{Name: "b", Text: hostile.String()},
		{Name: "c", Text: ""},
		{Name: "d", Text: "no newline"},
	}}
	var b bundle
	require.NoError(t, b.add(fileDialect{}, "desired", cfg))
	require.NoError(t, b.add(fileDialect{}, "rollback", drivers.Config{Parts: []drivers.Part{{Name: "a", Text: "old\n"}}}))
	dir := t.TempDir()
	script, stdin := b.script(dir)
	assert.Less(t, len(script), 2048, "the script does not grow with the config")
	assert.NotContains(t, script, "2001:db8::1", "no data in the command line")
	out, err := runLocal(t, script, stdin)
	require.NoError(t, err, out)
	for name, want := range map[string]string{
		"desired.a": big.String(), "desired.b": hostile.String(), "desired.c": "\n", "desired.d": "no newline\n",
		"rollback.a": "old\n",
	} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.True(t, string(got) == want, "%s: %d bytes staged, want %d", name, len(got), len(want))
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	hidden, _ := filepath.Glob(filepath.Join(dir, ".*"))
	assert.Empty(t, append(left, hidden...), "no temp file left")
	assert.Empty(t, c.Fired(), "a payload ran")
}

// TestStageTruncated: a stream cut short (a dropped connection) stages
// nothing, and the files staged before stay as they were.
func TestStageTruncated(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "desired.a"), []byte("before\n"), 0o600))
	var b bundle
	require.NoError(t, b.add(fileDialect{}, "desired", drivers.Config{Parts: []drivers.Part{{Name: "a", Text: strings.Repeat("x", 5000)}}}))
	script, stdin := b.script(dir)
	out, err := runLocal(t, script, stdin[:4000])
	require.Error(t, err)
	assert.Contains(t, out, "received 4000 of 5001 bytes")
	got, err := os.ReadFile(filepath.Join(dir, "desired.a"))
	require.NoError(t, err)
	assert.Equal(t, "before\n", string(got))
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	assert.Empty(t, left, "the partial stream is removed")
}

// TestStageNames: only fwpush's own file names are staged.
func TestStageNames(t *testing.T) {
	var b bundle
	err := b.add(fileDialect{}, "desired", drivers.Config{Parts: []drivers.Part{{Name: "../x", Text: "x"}}})
	assert.ErrorContains(t, err, `staged file name "desired.../x"`)
}
