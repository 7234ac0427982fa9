package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/hostiletest"
)

// terminalControl is what must never reach an operator's terminal from a
// playbook or an inventory: C0 controls but tab and newline (ESC starts ANSI
// sequences), C1 controls (CSI), bidi overrides and isolates.
const terminalControl = "[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069]"

// TestHostileTextOnTerminal runs the commands that print playbook text
// (explain, render, plan --offline) over a playbook whose why is each
// hostile string, and validate over one whose role name is: the output
// holds the text as one line, and no terminal control comes through.
func TestHostileTextOnTerminal(t *testing.T) {
	c := hostiletest.NewCanaries(t)
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv")
	require.NoError(t, os.MkdirAll(inv, 0o755))
	for n, text := range map[string]string{
		"hosts.yaml":    "web-1:\n  hostname: 198.18.0.5\n  platform: linux\n  groups: [web]\n",
		"groups.yaml":   "web: {}\n",
		"networks.yaml": "management: [198.18.0.0/24]\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(inv, n), []byte(text), 0o644))
	}
	pb := filepath.Join(dir, "pb.yml")
	for _, p := range c.Corpus() {
		t.Run(p.Name, func(t *testing.T) {
			y := hostiletest.YAML(p.Text)
			require.NoError(t, os.WriteFile(pb, []byte("name: x\nroles: {web: {}}\nflows:\n  - {from: any, to: web, ports: [tcp/443], why: "+y+"}\n"), 0o644))
			for _, args := range [][]string{
				{"explain", "--from", "any", "--to", "web-1", "--proto", "tcp", "--port", "443"},
				{"render", "web-1"},
				{"plan", "--offline"},
			} {
				code, out, errOut := fwpush(t, append(args, "-i", inv, "-p", pb)...)
				assert.Contains(t, []int{0, 2}, code, "%v: %s", args, errOut)
				assert.NotRegexp(t, terminalControl, out+errOut, args[0])
			}
			require.NoError(t, os.WriteFile(pb, []byte("name: x\nroles: {web: {}, "+y+": {}}\nflows:\n  - {from: any, to: web, ports: [tcp/443], why: w}\n"), 0o644))
			code, out, errOut := fwpush(t, "validate", "-i", inv, "-p", pb)
			assert.Equal(t, exitError, code)
			assert.Contains(t, errOut, "pb.yml:2:")
			assert.NotRegexp(t, terminalControl, out+errOut, "validate")
		})
	}
	assert.Empty(t, c.Fired())
}
