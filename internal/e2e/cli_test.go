package e2e

import (
	"context"
	"encoding/xml"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// TestCLIAgainstLab runs the real fwpush binary from the lab's controller
// namespace, as a CI job would: exit codes, JUnit, no waiting for input.
func TestCLIAgainstLab(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fwpush")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/fwpush")
	built, err := build.CombinedOutput()
	require.NoError(t, err, "%s", built)

	e := newEnv(t, "../../inventory/examples/webapp", "../../playbooks/examples/webapp.yml")
	inv := filepath.Join(t.TempDir(), "inv")
	state := filepath.Join(t.TempDir(), "runs.db")
	require.NoError(t, labinv.WriteInventory("../../inventory/examples/webapp", inv, e.lab.KnownHostsPath(), e.lab.ClientKeyPath()))
	pb, err := filepath.Abs("../../playbooks/examples/webapp.yml")
	require.NoError(t, err)

	fwpush := func(args ...string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		argv := append([]string{"netns", "exec", e.lab.Namespace(testbed.Controller), bin}, args...)
		argv = append(argv, "-i", inv, "-p", pb, "--ssh-config", "none")
		if args[0] == "apply" {
			argv = append(argv, "--state", state)
		}
		cmd := exec.CommandContext(ctx, "ip", argv...)
		cmd.Stdin = nil // no terminal: apply must not wait for an answer
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), string(out)
		}
		require.NoError(t, err, "%s", out)
		return 0, string(out)
	}

	code, out := fwpush("plan")
	assert.Equal(t, 2, code, "changes pending: %s", out)
	assert.Contains(t, out, "+ permit")
	assert.Contains(t, out, "5 devices: 5 changed")

	code, out = fwpush("apply", "--confirm-timeout", "30s", "--format", "junit")
	require.Equal(t, 0, code, out)
	start := strings.Index(out, "<?xml")
	require.GreaterOrEqual(t, start, 0, out)
	var suites junitSuites
	require.NoError(t, xml.Unmarshal([]byte(out[start:]), &suites))
	require.Len(t, suites.Suites, 1)
	assert.Equal(t, 5, suites.Suites[0].Tests)
	assert.Equal(t, 0, suites.Suites[0].Failures)

	code, out = fwpush("plan", "--format", "json")
	assert.Equal(t, 0, code, "no changes after apply: %s", out)
	code, out = fwpush("verify")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "0 failed")
}

type junitSuites struct {
	Suites []struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	} `xml:"testsuite"`
}
