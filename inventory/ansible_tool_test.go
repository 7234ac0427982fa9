package inventory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// needTool returns the path of a program the test compares fwpush with.
// Without it the test fails in CI (which installs it: scripts/deps.sh)
// and is skipped elsewhere, saying what to install.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (Debian package %s; scripts/deps.sh installs it)", name, pkg)
		}
		t.Skipf("%s is not installed: apt-get install %s (scripts/deps.sh)", name, pkg)
	}
	return p
}

// ansiblePython is the Python interpreter the ansible CLI runs under (its
// #! line), which can import Ansible's own modules.
func ansiblePython(t *testing.T) string {
	t.Helper()
	cli := needTool(t, "ansible", "ansible")
	f, err := os.Open(cli)
	require.NoError(t, err)
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	require.NotEmpty(t, fields, "no #! line in %s", cli)
	if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
		p, err := exec.LookPath(fields[1])
		require.NoError(t, err)
		return p
	}
	return fields[0]
}

// runAnsible runs an Ansible program with a clean configuration (an empty
// ansible.cfg, a private home) and the UTF-8 locale it insists on,
// bounded in time. It returns stdout and stderr; a non-zero exit is err.
func runAnsible(t *testing.T, stdin string, name string, args ...string) (string, string, error) {
	t.Helper()
	for i, a := range args {
		if strings.HasPrefix(a, "testdata/") {
			abs, err := filepath.Abs(a)
			require.NoError(t, err)
			args[i] = abs
		}
	}
	home := t.TempDir()
	cfg := filepath.Join(home, "ansible.cfg")
	require.NoError(t, os.WriteFile(cfg, nil, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "ANSIBLE_CONFIG="+cfg, "ANSIBLE_HOME="+home,
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(home, "tmp"), "ANSIBLE_NOCOLOR=1", "ANSIBLE_HOST_PATTERN_MISMATCH=warning")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "%s %v timed out", name, args)
	return out.String(), errOut.String(), err
}

// ansibleSelection is Ansible's answer for one --limit pattern.
type ansibleSelection struct {
	Hosts    []string `json:"hosts"`
	Error    string   `json:"error"`
	Warnings []string `json:"warnings"`
}

// ansibleSelect asks Ansible which hosts of the inventory file each
// pattern selects, making the ansible CLI's own calls in one process
// (testdata/ansible_select.py).
func ansibleSelect(t *testing.T, inventory string, patterns []string) map[string]ansibleSelection {
	t.Helper()
	script, err := filepath.Abs("testdata/ansible_select.py")
	require.NoError(t, err)
	in, err := json.Marshal(patterns)
	require.NoError(t, err)
	out, errOut, err := runAnsible(t, string(in), ansiblePython(t), script, inventory)
	require.NoError(t, err, errOut)
	var res map[string]ansibleSelection
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	return res
}

// ansibleListHosts runs `ansible all -i inventory --list-hosts -l pattern`
// and returns the hosts it lists, or its error.
func ansibleListHosts(t *testing.T, inventory, pattern string) ansibleSelection {
	t.Helper()
	cli := needTool(t, "ansible", "ansible")
	out, errOut, err := runAnsible(t, "", cli, "all", "-i", inventory, "--list-hosts", "-l", pattern)
	var sel ansibleSelection
	for _, l := range strings.Split(errOut, "\n") {
		if m := strings.TrimPrefix(l, "[WARNING]: "); m != l {
			sel.Warnings = append(sel.Warnings, m)
		}
	}
	if err != nil {
		sel.Error = strings.TrimSpace(errOut)
		return sel
	}
	sel.Hosts = []string{}
	listing := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(strings.TrimSpace(l), "hosts ("):
			listing = true
		case listing && strings.TrimSpace(l) != "":
			sel.Hosts = append(sel.Hosts, strings.TrimSpace(l))
		}
	}
	return sel
}

// ansibleInventoryList runs ansible-inventory --list on an inventory.
func ansibleInventoryList(t *testing.T, inventory string) map[string]any {
	t.Helper()
	cli := needTool(t, "ansible-inventory", "ansible")
	out, errOut, err := runAnsible(t, "", cli, "-i", inventory, "--list")
	require.NoError(t, err, errOut)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	return res
}
