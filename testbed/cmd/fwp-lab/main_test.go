package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers/driverstest"
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

// newScratch builds fwp-lab and a scratch namespace standing in for the root
// one: the binary runs there under nsenter --net, which keeps the mount
// namespace, so the lab's namespaces are still global, and the test never
// touches the machine's own root namespace. It returns the binary, a
// command runner inside the scratch namespace, the namespace, the lab
// prefix and a state dir.
func newScratch(ctx context.Context, t *testing.T) (bin string, inScratch func(...string) *exec.Cmd, ns, prefix, state string) {
	prefix = testbed.RandomPrefix()
	bin = filepath.Join(t.TempDir(), "fwp-lab")
	sh(t, "go", "build", "-tags", "standins", "-o", bin, ".")
	ns = "fwp-" + prefix + "-scratch"
	sh(t, "ip", "netns", "add", ns)
	t.Cleanup(func() {
		testbed.Sweep(context.Background(), prefix)
		exec.Command("ip", "netns", "del", ns).Run()
	})
	sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	state = filepath.Join(t.TempDir(), "state")
	inScratch = func(args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + ns, "--"}, args...)...)
	}
	return bin, inScratch, ns, prefix, state
}

// sshArgs runs cmd on root@addr with the lab's key and known_hosts.
func sshArgs(state, addr, cmd string) []string {
	return []string{"ssh", "-F", "/dev/null", "-i", filepath.Join(state, "id_ed25519"),
		"-o", "UserKnownHostsFile=" + filepath.Join(state, "known_hosts"), "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
		"root@" + addr, cmd}
}

// TestUpDownRootLink runs the real binary as `make lab-up` would, with
// --root-link, inside a scratch namespace (see newScratch).
func TestUpDownRootLink(t *testing.T) {
	needRoot(t)
	t.Parallel() // each lab has a scratch namespace and prefix of its own
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin, inScratch, scratch, prefix, state := newScratch(ctx, t)

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
		out, err := inScratch(sshArgs(state, addr, "cat /etc/nftables.conf")...).CombinedOutput()
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

// TestUpDownRouted starts the routed example inventory as `make lab-up`
// would (playbook, root link), its Windows host given a password: the
// scratch "root" namespace reaches hosts behind the router through fwp0's
// routes, the one hook serves both the Windows host (winsim) and the
// router (netsim), and down removes every trace, simulators included.
func TestUpDownRouted(t *testing.T) {
	needRoot(t)
	t.Parallel() // each lab has a scratch namespace and prefix of its own
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin, inScratch, scratch, prefix, state := newScratch(ctx, t)
	inv := filepath.Join(t.TempDir(), "routed")
	require.NoError(t, os.CopyFS(inv, os.DirFS("../../labinv/testdata/routed")))
	groups := filepath.Join(inv, "groups.yaml")
	b, err := os.ReadFile(groups)
	require.NoError(t, err)
	withPassword := strings.Replace(string(b), "winsrv:\n  platform: windows\n",
		"winsrv:\n  platform: windows\n  password: ${FWP_LAB_WIN_PASSWORD}\n", 1)
	require.NotEqual(t, string(b), withPassword, "the routed inventory's winsrv group changed")
	require.NoError(t, os.WriteFile(groups, []byte(withPassword), 0o644))
	up := inScratch(bin, "up", "--inventory", inv, "--playbook", "../../labinv/testdata/routed.yml",
		"--root-link", "--state", state, "--prefix", prefix)
	up.Env = append(os.Environ(), "FWP_LAB_WIN_PASSWORD=lab-Win-"+prefix)
	out, err := up.CombinedOutput()
	if err != nil {
		t.Fatalf("up: %v: %s", err, out)
	}
	t.Logf("up:\n%s", out)
	for _, want := range []string{"4 hosts, 1 routers, 3 segments", "edge-rtr-1", "GigabitEthernet0/1 gi0-1", "win-1", "(no sshd)",
		"Windows hosts (the winsim simulator", "win-1 (WinRM 5986)",
		"routers (the netsim simulator", "edge-rtr-1 (cisco_iosxe on 198.18.0.254:22)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("up output lacks %q", want)
		}
	}
	if strings.Contains(string(out), "not served") {
		t.Errorf("up left a device without its simulator")
	}
	for _, sim := range []string{"winsim", "netsim"} {
		if pids := simulatorPids(sim, state); len(pids) != 1 {
			t.Errorf("%d %s processes after up, want 1", len(pids), sim)
		}
	}
	var st struct {
		Segments []struct{ Name string }
		Routers  []struct {
			Name       string
			Interfaces []struct{ Name, Linux string }
		}
	}
	b, err = os.ReadFile(filepath.Join(state, "lab.json"))
	if err != nil || json.Unmarshal(b, &st) != nil || len(st.Segments) != 3 || len(st.Routers) != 1 || len(st.Routers[0].Interfaces) != 3 {
		t.Fatalf("lab.json: %v: %s", err, b)
	}
	routes, _ := inScratch("ip", "route", "show").CombinedOutput()
	if !strings.Contains(string(routes), "198.18.0.0/15 via 198.18.0.254 dev fwp0") {
		t.Errorf("scratch routes:\n%s", routes)
	}
	// web-1 and db-1 sit behind the router; app-1 next to fwp0.
	for _, addr := range []string{"198.18.9.11", "2001:db8:20::31", "198.18.0.21"} {
		out, err := inScratch(sshArgs(state, addr, "ip -br addr show eth0")...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), addr) {
			t.Errorf("ssh %s through the root link: %v: %s", addr, err, out)
		}
	}
	script := "exec 3<>/dev/tcp/198.18.9.11/80 && head -c 100 <&3"
	if out, err := inScratch("timeout", "5", "bash", "-c", script).CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "fwp-listen web-1 tcp/80") {
		t.Errorf("web-1's listener: %v: %q", err, out)
	}

	out, err = inScratch(bin, "down", "--state", state).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "4 hosts and 1 routers removed") {
		t.Fatalf("down: %v: %s", err, out)
	}
	for _, sim := range []string{"winsim", "netsim"} {
		if pids := simulatorPids(sim, state); len(pids) > 0 {
			t.Errorf("%s processes still running after down: %v", sim, pids)
		}
	}
	if out, _ := inScratch("ip", "-o", "route", "show", "table", "all", "root", "198.18.0.0/15").CombinedOutput(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("lab routes left in the scratch namespace: %s", out)
	}
	left, _ := filepath.Glob("/run/netns/fwp-" + prefix + "-*")
	if len(left) != 1 || filepath.Base(left[0]) != scratch {
		t.Errorf("namespaces after down: %v", left)
	}
}

// simulatorPids lists the running processes of `fwp-lab sim` for the lab
// in state (zombies, which have no command line, excluded).
func simulatorPids(sim, state string) []string {
	var pids []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), "\x00"+sim+"\x00--state\x00"+state+"\x00") {
			pids = append(pids, filepath.Base(filepath.Dir(f)))
		}
	}
	return pids
}

// TestRouterSeedPlan starts a router seed as `make lab-up` would: up
// serves each CLI router as a simulator in its namespace (host keys in the
// lab's known_hosts), so a real fwpush plan against the written inventory
// reads every host and router through the lab, and an apply to the
// routers makes their namespaces filter what the devices now hold. down
// stops the simulators with the rest.
func TestRouterSeedPlan(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin, inScratch, _, prefix, state := newScratch(ctx, t)
	fwpush := filepath.Join(t.TempDir(), "fwpush")
	sh(t, "go", "build", "-o", fwpush, "github.com/fwpush/fwpush/cmd/fwpush")
	inv, pb := filepath.Join(t.TempDir(), "inventory"), "../../../playbooks/satellite.yml"
	out, err := inScratch(bin, "up", "--inventory", "../../../inventory/examples/satellite-routers", "--playbook", pb,
		"--root-link", "--state", state, "--prefix", prefix, "--write-inventory", inv).CombinedOutput()
	if err != nil {
		t.Fatalf("up: %v: %s", err, out)
	}
	t.Logf("up:\n%s", out)
	for _, want := range []string{"routers (the netsim simulator", "edge-ios-1 (cisco_iosxe on 198.18.0.251:22)",
		"core-nxos-1 (cisco_nxos on 198.18.0.252:22)", "leaf-eos-1 (arista_eos on 198.18.0.253:22)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("up output lacks %q", want)
		}
	}
	known, err := os.ReadFile(filepath.Join(state, "known_hosts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"198.18.0.251 ", "198.18.0.252 ", "198.18.0.253 "} {
		if !strings.Contains(string(known), "\n"+addr) {
			t.Errorf("known_hosts lacks the simulator at %s", addr)
		}
	}
	var daemons []string
	for _, r := range []string{"edge-ios-1", "core-nxos-1", "leaf-eos-1"} {
		pids := strings.Fields(sh(t, "ip", "netns", "pids", "fwp-"+prefix+"-"+r))
		if len(pids) != 1 {
			t.Errorf("%s: want its simulator alone in its namespace, found pids %v", r, pids)
		}
		daemons = append(daemons, pids...)
	}

	// idm-1 sits behind the IOS router and listens on 443, which only the
	// capsules may reach; the router filters nothing yet.
	probe := func(from func(...string) *exec.Cmd, secs string) error {
		script := "exec 3<>/dev/tcp/198.18.10.43/443 && head -c 100 <&3"
		out, err := from("timeout", secs, "bash", "-c", script).CombinedOutput()
		if err == nil && !strings.HasPrefix(string(out), "fwp-listen idm-1 tcp/443") {
			return fmt.Errorf("not the listener: %q", out)
		}
		return err
	}
	inCapsule := func(args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", "fwp-" + prefix + "-capsule-1"}, args...)...)
	}
	if err := probe(inScratch, "10"); err != nil {
		t.Errorf("before apply, the controller reaches idm-1:443: %v", err)
	}

	code := func(err error) int {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			return -1
		}
		return 0
	}
	out, err = inScratch(fwpush, "plan", "-i", inv, "-p", pb).CombinedOutput()
	if code(err) != 2 || !strings.Contains(string(out), "11 devices: 11 changed") {
		t.Fatalf("plan: want exit 2 (changes pending) on 11 devices: %v:\n%s", err, out)
	}
	for _, row := range []string{"core-nxos-1  cisco-nxos      changed", "edge-ios-1   cisco-ios       changed", "leaf-eos-1   arista-eos      changed"} {
		if !strings.Contains(string(out), row) {
			t.Errorf("plan lacks the row %q", row)
		}
	}
	out, err = inScratch(fwpush, "apply", "-i", inv, "-p", pb, "--limit", "routers", "--yes").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3 devices: 3 changed") {
		t.Fatalf("apply to the routers: %v:\n%s", err, out)
	}
	if err := probe(inScratch, "2"); err == nil {
		t.Errorf("after apply, the IOS router still forwards the controller's idm-1:443")
	}
	if err := probe(inCapsule, "10"); err != nil {
		t.Errorf("after apply, a capsule no longer reaches idm-1:443: %v", err)
	}
	out, err = inScratch(fwpush, "plan", "-i", inv, "-p", pb, "--limit", "routers").CombinedOutput()
	if code(err) != 0 {
		t.Errorf("plan after apply: want exit 0 (nothing to do): %v:\n%s", err, out)
	}

	out, err = inScratch(bin, "down", "--state", state).CombinedOutput()
	if err != nil {
		t.Fatalf("down: %v: %s", err, out)
	}
	for _, pid := range daemons {
		if _, err := os.Stat("/proc/" + pid + "/ns/net"); err == nil { // a zombie has none
			t.Errorf("simulator pid %s still alive after down", pid)
		}
	}
}

// TestMain gives in-process runs the stand-in platforms the binary gets
// with -tags standins.
func TestMain(m *testing.M) {
	registry = driverstest.LabRegistry
	os.Exit(m.Run())
}

// TestUpDownWindows starts a lab with Windows hosts as `make lab-up` does
// (playbook, root link, written inventory) in a scratch namespace: `up`
// serves each Windows host with its own winsim process, one over WinRM,
// one over OpenSSH (its host key in the lab's known_hosts); fwpush plans
// and pushes every host through the written inventory; `down` stops the
// simulators with the rest of the lab.
func TestUpDownWindows(t *testing.T) {
	needRoot(t)
	t.Parallel() // each lab has a scratch namespace and prefix of its own
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, inScratch, _, prefix, state := newScratch(ctx, t)
	fwpush := filepath.Join(t.TempDir(), "fwpush")
	sh(t, "go", "build", "-o", fwpush, "../../../cmd/fwpush")
	inv := filepath.Join(t.TempDir(), "inv")
	env := append(os.Environ(), "FWP_LAB_WIN_PASSWORD=lab-Win-"+prefix)
	run := func(args ...string) (string, error) {
		cmd := inScratch(args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(bin, "up", "--inventory", "testdata/windows/inventory", "--playbook", "testdata/windows/windows.yml",
		"--root-link", "--state", state, "--prefix", prefix, "--write-inventory", inv)
	if err != nil {
		t.Fatalf("up: %v: %s", err, out)
	}
	t.Logf("up:\n%s", out)
	if !strings.Contains(out, "win-1 (WinRM 5986), win-2 (OpenSSH 22)") {
		t.Errorf("up does not list the simulators it started")
	}
	if strings.Contains(out, "skipped") {
		t.Errorf("up skipped hosts")
	}
	simulators := func() []string { return simulatorPids("winsim", state) }
	if n := len(simulators()); n != 2 {
		t.Errorf("%d simulator processes after up, want 2", n)
	}

	out, err = run(fwpush, "plan", "-i", inv, "-p", "testdata/windows/windows.yml")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("plan: want exit 2 (changes pending), got %v: %s", err, out)
	}
	out, err = run(fwpush, "apply", "-i", inv, "-p", "testdata/windows/windows.yml", "--yes", "--confirm-timeout", "30s")
	if err != nil {
		t.Fatalf("apply: %v: %s", err, out)
	}
	for _, h := range []string{"lnx-1", "win-1", "win-2"} {
		if !regexp.MustCompile(`(?m)^` + h + ` .* confirmed `).MatchString(out) {
			t.Errorf("apply did not confirm %s:\n%s", h, out)
		}
	}

	out, err = run(bin, "down", "--state", state)
	if err != nil {
		t.Fatalf("down: %v: %s", err, out)
	}
	if pids := simulators(); len(pids) > 0 {
		t.Errorf("simulators still running after down: %v", pids)
	}
}
