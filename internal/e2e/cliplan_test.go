package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
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

// TestCLIPlanFileAndDialogue runs the real binary from the lab's
// controller: `plan --out` saves what was reviewed; one device is changed
// by hand before `apply --plan`, which refuses that device, naming it, and
// pushes the others exactly as reviewed. The apply runs with -vv: stderr
// shows the device dialogue (every command sent and every reply), and the
// inventory's password, planted in a reply too (a flow's why that quotes
// it, so the device lists it back), never appears in it.
func TestCLIPlanFileAndDialogue(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fwpush")
	built, err := exec.Command("go", "build", "-o", bin, "../../cmd/fwpush").CombinedOutput()
	require.NoError(t, err, "%s", built)

	e := newEnv(t, "../../inventory/examples/webapp", "../../playbooks/examples/webapp.yml")
	inv := filepath.Join(t.TempDir(), "inv")
	require.NoError(t, labinv.WriteInventory("../../inventory/examples/webapp", inv, e.lab.KnownHostsPath(), e.lab.ClientKeyPath()))
	const secret = "S3cr3t-pl4nted-pw"
	defaults, err := os.ReadFile(filepath.Join(inv, "defaults.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(inv, "defaults.yaml"), append(defaults, []byte("password: "+secret+"\n")...), 0o600))
	src, err := os.ReadFile("../../playbooks/examples/webapp.yml")
	require.NoError(t, err)
	pb := filepath.Join(t.TempDir(), "webapp.yml")
	// The first flow's why quotes the password: the hosts list it back in
	// their rule comments, so the dialogue carries it.
	planted := strings.Replace(string(src), "why: ", "why: "+secret+" ", 1)
	require.NotEqual(t, string(src), planted)
	require.NoError(t, os.WriteFile(pb, []byte(planted), 0o600))
	state := filepath.Join(t.TempDir(), "runs.db")
	planFile := filepath.Join(t.TempDir(), "plan.json")

	fwpush := func(args ...string) (int, string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		argv := append([]string{"netns", "exec", e.lab.Namespace(testbed.Controller), bin}, args...)
		argv = append(argv, "--ssh-config", "none")
		if args[0] == "apply" {
			argv = append(argv, "--state", state)
		}
		cmd := exec.CommandContext(ctx, "ip", argv...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), stdout.String(), stderr.String()
		}
		require.NoError(t, err, "%s%s", stdout.String(), stderr.String())
		return 0, stdout.String(), stderr.String()
	}

	code, out, errOut := fwpush("plan", "-i", inv, "-p", pb, "--out", planFile)
	require.Equal(t, 2, code, "changes pending: %s%s", out, errOut)
	saved, err := os.ReadFile(planFile)
	require.NoError(t, err)
	var f struct {
		Format string `json:"format"`
		Plan   struct {
			Devices []struct {
				Host         string `json:"host"`
				BeforeDigest string `json:"before_sha256"`
			} `json:"devices"`
		} `json:"plan"`
	}
	require.NoError(t, json.Unmarshal(saved, &f))
	assert.Equal(t, "fwpush-plan/1", f.Format)
	require.Len(t, f.Plan.Devices, 5)

	// An operator changes db-1 (nftables) by hand after the review.
	e.sh(t, "db-1", "nft add table inet fwpush; nft add chain inet fwpush manual")

	code, out, errOut = fwpush("apply", "--plan", planFile, "--confirm-timeout", "30s", "-vv")
	assert.Equal(t, 1, code, "one device refused: %s%s", out, errOut)
	assert.Contains(t, errOut, "db-1: not pushed: its config changed since the reviewed plan")
	for _, h := range []string{"app-1", "db-2", "web-1", "web-2"} {
		assert.Regexp(t, `(?m)^`+h+`\s+\S+\s+changed\s+confirmed`, out, "%s pushed as reviewed", h)
	}
	assert.Regexp(t, `(?m)^db-1\s+\S+\s+failed\s+failed`, out)
	assert.Contains(t, e.sh(t, "db-1", "nft list table inet fwpush"), "chain manual", "the hand change stays")

	// The dialogue is logged, the password is not.
	assert.Contains(t, errOut, "msg=\"ssh exec\"")
	assert.Contains(t, errOut, "msg=\"ssh reply\"")
	assert.Contains(t, errOut, "[redacted]", "the reply that quoted the password was scrubbed")
	assert.NotContains(t, errOut, secret)
	assert.NotContains(t, errOut, "S3cr3t", "not even part of it")
}
