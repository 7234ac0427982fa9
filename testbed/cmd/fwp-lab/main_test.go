package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fwpush/fwpush/testbed"
)

func TestUsage(t *testing.T) {
	tests := map[string]struct {
		args []string
		want int
	}{
		"no command":      {args: nil, want: 2},
		"unknown command": {args: []string{"sideways"}, want: 2},
		"up no inventory": {args: []string{"up"}, want: 2},
		"up bad port":     {args: []string{"up", "--inventory", "x", "--tcp", "http"}, want: 2},
		"up bad flag":     {args: []string{"up", "--nope"}, want: 2},
		"up missing inv":  {args: []string{"up", "--inventory", "/nonexistent"}, want: 1},
		"down no state":   {args: []string{"down", "--state", "/nonexistent/fwp"}, want: 1},
		"sweep bad":       {args: []string{"sweep", "--prefix", "Bad-Prefix"}, want: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := run(context.Background(), tc.args, io.Discard, io.Discard); got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
}

// needRoot fails under CI or as root if the lab cannot run, else skips, the
// same rule as testbed.StartT.
func needRoot(t *testing.T) {
	testbed.SkipShort(t)
	if os.Geteuid() != 0 && os.Getenv("CI") == "" {
		t.Skip("the lab needs root (CI unset)")
	}
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestUpDownRootLink runs the real binary as `make lab-up` would, with
// --root-link, but inside a scratch namespace standing in for the root one
// (nsenter --net keeps the mount namespace, so the lab's namespaces are
// still global): the test never touches the machine's own root namespace.
func TestUpDownRootLink(t *testing.T) {
	needRoot(t)
	prefix := testbed.RandomPrefix()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "fwp-lab")
	sh(t, "go", "build", "-o", bin, ".")
	scratch := "fwp-" + prefix + "-scratch"
	sh(t, "ip", "netns", "add", scratch)
	t.Cleanup(func() {
		testbed.Sweep(context.Background(), prefix)
		exec.Command("ip", "netns", "del", scratch).Run()
	})
	sh(t, "ip", "-n", scratch, "link", "set", "lo", "up")
	state := filepath.Join(t.TempDir(), "state")
	inScratch := func(args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + scratch, "--"}, args...)...)
	}

	out, err := inScratch(bin, "up", "--inventory", "../../testdata/inventory", "--root-link",
		"--state", state, "--prefix", prefix, "--tcp", "80", "--udp", "53").CombinedOutput()
	if err != nil {
		t.Fatalf("up: %v: %s", err, out)
	}
	t.Logf("up:\n%s", out)
	if !strings.Contains(string(out), "skipped (not Linux): edge-rtr-1 (cisco-ios)") {
		t.Errorf("up did not report the router it skipped")
	}
	var st struct {
		Hosts []struct{ Pids map[string]int }
	}
	b, err := os.ReadFile(filepath.Join(state, "lab.json"))
	if err != nil || json.Unmarshal(b, &st) != nil || len(st.Hosts) != 3 {
		t.Fatalf("lab.json: %v: %s", err, b)
	}

	// `up` has exited; the lab must still answer from the "root" namespace.
	for _, addr := range []string{"198.18.5.11", "2001:db8:5::21"} {
		out, err := inScratch("ssh", "-F", "/dev/null", "-i", filepath.Join(state, "id_ed25519"),
			"-o", "UserKnownHostsFile="+filepath.Join(state, "known_hosts"), "-o", "GlobalKnownHostsFile=/dev/null",
			"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
			"root@"+addr, "cat /etc/nftables.conf").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "fwp-"+prefix+"-") {
			t.Errorf("ssh %s through the root link: %v: %s", addr, err, out)
		}
		script := `exec 3<>"/dev/tcp/$1/80" && head -c 100 <&3`
		if out, err := inScratch("timeout", "2", "bash", "-c", script, "probe", addr).CombinedOutput(); err != nil ||
			!strings.HasPrefix(string(out), "fwp-listen ") {
			t.Errorf("listener %s: %v: %q", addr, err, out)
		}
	}

	out, err = inScratch(bin, "down", "--state", state).CombinedOutput()
	if err != nil {
		t.Fatalf("down: %v: %s", err, out)
	}
	if out, err := exec.Command("ip", "-n", scratch, "link", "show", testbed.DefaultRootLink).CombinedOutput(); err == nil {
		t.Errorf("root link still there after down: %s", out)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state dir after down: %v", err)
	}
	left, _ := filepath.Glob("/run/netns/fwp-" + prefix + "-*")
	if len(left) != 1 || filepath.Base(left[0]) != scratch {
		t.Errorf("namespaces after down: %v", left)
	}
	for _, h := range st.Hosts {
		for kind, pid := range h.Pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil {
				t.Errorf("%s pid %d still alive", kind, pid)
			}
		}
	}
}
