package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	waAnsible = "../../inventory/examples/webapp-ansible/hosts.ini"
	waNornir  = "../../inventory/examples/webapp-nornir/config.yaml"
	waClab    = "../../inventory/examples/clab-webapp"
)

// TestInventoryFormatsRenderAlike: the webapp example as an Ansible
// inventory and through a Nornir config.yaml renders byte for byte what
// the Nornir directory renders, with the same warnings and no other; the
// containerlab lab renders too (its nodes are all linux: one platform).
func TestInventoryFormatsRenderAlike(t *testing.T) {
	code, want, wantErr := fwpush(t, "plan", "--offline", "-i", waInv, "-p", waPB)
	require.Equal(t, 0, code, wantErr)
	for _, inv := range []string{waAnsible, waNornir} {
		code, got, errOut := fwpush(t, "plan", "--offline", "-i", inv, "-p", waPB)
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, want, got, inv)
		assert.Equal(t, wantErr, errOut, inv)
	}
	code, out, errOut := fwpush(t, "plan", "--offline", "-i", waClab, "-p", waPB)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "5 devices rendered offline")
	code, out, _ = fwpush(t, "explain", "-i", waClab, "-p", waPB, "--from", "web", "--to", "db", "--proto", "tcp", "--port", "5432")
	assert.Equal(t, exitDenied, code, out)
}

// TestInventoryListFormats: inventory list over the formats, with an
// Ansible pattern; and what an unreadable -i says.
func TestInventoryListFormats(t *testing.T) {
	cases := map[string]struct {
		args []string
		code int
		want []string
	}{
		"ansible, Ansible pattern": {[]string{"-i", waAnsible, "--limit", "webapp:!db-2"}, 0,
			[]string{"app-1", "db-1", "web-1", "web-2  linux-iptables"}},
		"ansible, issue's pattern": {[]string{"-i", waAnsible, "--limit", "web,!web-2"}, 0, []string{"web-1"}},
		"nornir config":            {[]string{"-i", waNornir, "--limit", "db"}, 0, []string{"db-1", "db-2"}},
		"containerlab lab dir":     {[]string{"-i", waClab, "--limit", "platform:linux-nftables and web"}, 0, []string{"web-1", "web-2"}},
		"selects nothing":          {[]string{"-i", waInv, "--limit", "web:&db"}, 1, []string{`--limit "web:&db": selects no host`}},
		"typo in an exclusion":     {[]string{"-i", waInv, "--limit", "web,!web-3"}, 1, []string{`no host or group "web-3"`}},
		"unknown file":             {[]string{"-i", "../../go.mod", "--limit", "web"}, 1, []string{"go.mod: not a file fwpush reads", "an Ansible inventory file, INI (.ini, .cfg or no extension)"}},
		"directory of something else": {[]string{"-i", "../../playbooks"}, 1,
			[]string{"a directory without hosts.yaml (Nornir), a Nornir config.yaml or topology-data.json (containerlab)", "fwpush reads:"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := fwpush(t, append([]string{"inventory", "list"}, tc.args...)...)
			assert.Equal(t, tc.code, code, "%s\n%s", out, errOut)
			for _, w := range tc.want {
				assert.Contains(t, out+errOut, w)
			}
		})
	}
	_, out, _ := fwpush(t, "inventory", "list", "-i", waAnsible, "--limit", "web,!web-2")
	assert.NotContains(t, out, "web-2")
}

// TestNoManagementNetworks: with no management networks (no networks.yaml,
// or none listed in it) the read-only commands work and no push starts:
// nothing is contacted, nothing recorded.
func TestNoManagementNetworks(t *testing.T) {
	opens, _ := countingFleet(t)
	dir := t.TempDir()
	for _, f := range []string{"hosts.yaml", "groups.yaml", "defaults.yaml"} {
		b, err := os.ReadFile(filepath.Join(waInv, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	code, out, errOut := fwpush(t, "inventory", "list", "-i", dir)
	require.Equal(t, 0, code, "without networks.yaml: %s\n%s", out, errOut)
	assert.Empty(t, errOut)
	// The playbook names the example's networks: keep them, drop management.
	b, err := os.ReadFile(filepath.Join(waInv, "networks.yaml"))
	require.NoError(t, err)
	nets := string(b)[strings.Index(string(b), "networks:"):]
	require.NoError(t, os.WriteFile(filepath.Join(dir, "networks.yaml"), []byte(nets), 0o644))
	for _, args := range [][]string{
		{"inventory", "list", "-i", dir},
		{"validate", "-i", dir, "-p", waPB},
		{"render", "-i", dir, "-p", waPB, "web-1"},
		{"explain", "-i", dir, "-p", waPB, "--from", "any", "--to", "web", "--proto", "tcp", "--port", "443"},
		{"plan", "--offline", "-i", dir, "-p", waPB},
	} {
		code, out, errOut := fwpush(t, args...)
		assert.Equal(t, 0, code, "%v\n%s\n%s", args, out, errOut)
		assert.Contains(t, errOut, "networks.yaml: management: no management networks: fwpush refuses to push", args)
	}
	state := filepath.Join(t.TempDir(), "runs.db")
	code, _, errOut = fwpush(t, "apply", "-i", dir, "-p", waPB, "--state", state, "--yes")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "lists no management networks, so fwpush cannot prove a policy keeps its own access")
	assert.Zero(t, opens.Load(), "nothing contacted")
	_, err = os.Stat(state)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing recorded")
}

// TestPlanFileAnsibleInventory: a saved plan identifies an Ansible
// inventory by all its files, group_vars/ and host_vars/ included.
func TestPlanFileAnsibleInventory(t *testing.T) {
	fakeFleet(t)
	dir := t.TempDir()
	src := filepath.Dir(waAnsible)
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	}))
	inv := filepath.Join(dir, "hosts.ini")
	planFile := filepath.Join(dir, "plan.json")
	code, out, errOut := fwpush(t, "plan", "-i", inv, "-p", waPB, "--out", planFile)
	require.Equal(t, exitChanges, code, "%s\n%s", out, errOut)
	hv := filepath.Join(dir, "host_vars", "web-1.yml")
	b, err := os.ReadFile(hv)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(hv, []byte(strings.Replace(string(b), "198.18.9.11,", "198.18.9.11, 198.18.9.99,", 1)), 0o644))
	code, _, errOut = fwpush(t, "apply", "--plan", planFile, "--yes", "--state", filepath.Join(dir, "runs.db"))
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "changed since the plan was saved")
}

// TestReadmeComingFrom runs the commands of README.md's "Coming from
// Ansible, Nornir or containerlab" section, as written: each must succeed.
func TestReadmeComingFrom(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	text := string(b)
	start := strings.Index(text, "## Coming from Ansible, Nornir or containerlab")
	require.GreaterOrEqual(t, start, 0)
	section := text[start:]
	section = section[:strings.Index(section[3:], "\n## ")+3]
	var ran int
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "./bin/fwpush ") {
			continue
		}
		var args []string
		for _, f := range splitShell(t, strings.TrimPrefix(line, "./bin/fwpush ")) {
			if strings.HasPrefix(f, "inventory/") || strings.HasPrefix(f, "playbooks/") {
				f = "../../" + f
			}
			args = append(args, f)
		}
		code, out, errOut := fwpush(t, args...)
		assert.Equal(t, 0, code, "%s\n%s\n%s", line, out, errOut)
		ran++
	}
	assert.GreaterOrEqual(t, ran, 5, "commands found in the section")
}

// splitShell splits a README command line: words, and '…' quoted.
func splitShell(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '\'' {
			end := strings.IndexByte(s[1:], '\'')
			require.GreaterOrEqual(t, end, 0, "unclosed quote in %q", s)
			out = append(out, s[1:end+1])
			s = s[end+2:]
			continue
		}
		w, rest, _ := strings.Cut(s, " ")
		out = append(out, w)
		s = rest
	}
	return out
}

// TestLimitAndPolicyErrorsTogether: a bad --limit no longer hides the
// playbook's errors (every problem of the inputs at once).
func TestLimitAndPolicyErrorsTogether(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"hosts.yaml", "groups.yaml", "defaults.yaml"} {
		b, err := os.ReadFile(filepath.Join(waInv, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	code, _, errOut := fwpush(t, "validate", "-i", dir, "-p", waPB, "--limit", "web,!web-3")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, `--limit "web,!web-3": no host or group "web-3"`)
	assert.Contains(t, errOut, `unknown role "monitoring"`)
}
