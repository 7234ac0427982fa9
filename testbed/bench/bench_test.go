package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxnftables"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed/gen"
)

func TestMedian(t *testing.T) {
	tests := map[string]struct {
		in   []float64
		want float64
	}{
		"empty":        {nil, 0},
		"one":          {[]float64{4}, 4},
		"odd":          {[]float64{9, 1, 5}, 5},
		"even (lower)": {[]float64{8, 2, 6, 4}, 4},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var in []Sample
			for _, v := range tc.in {
				in = append(in, Sample{Wall: v, ClientCPU: 2 * v, ServerCPU: 3 * v, MachineCPU: 10 * v})
			}
			want := Sample{Wall: tc.want, ClientCPU: 2 * tc.want, ServerCPU: 3 * tc.want, MachineCPU: 10 * tc.want}
			require.Equal(t, want, median(in))
		})
	}
}

func TestParseBusy(t *testing.T) {
	tests := map[string]struct {
		line    string
		want    time.Duration
		wantErr bool
	}{
		// user nice system idle iowait irq softirq steal: idle and iowait
		// do not count.
		"busy":      {line: "cpu  100 1 50 9999 77 2 3 4 0 0\n", want: 1600 * time.Millisecond},
		"not cpu":   {line: "cpu0 1 2 3 4 5 6 7 8\n", wantErr: true},
		"too short": {line: "cpu 1 2 3\n", wantErr: true},
		"garbage":   {line: "cpu 1 2 x 4 5 6 7 8\n", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseBusy(tc.line)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	// A comm with spaces and parentheses must not shift the fields.
	stat := "4242 (ss) h (x)) S 1 4242 4242 0 -1 4194560 10 0 0 0 7 3 20 40 20 0 1 0 100 0 0"
	own, err := parseStatCPU(stat, false)
	require.NoError(t, err)
	require.Equal(t, 100*time.Millisecond, own) // utime 7 + stime 3
	all, err := parseStatCPU(stat, true)
	require.NoError(t, err)
	require.Equal(t, 700*time.Millisecond, all) // + cutime 20 + cstime 40
	_, err = parseStatCPU("4242 no parens", true)
	require.Error(t, err)
}

// cpuSink keeps the busy loop from being optimized away.
var cpuSink int

// TestProcCPUSelf: /proc counts the CPU this process burns. It burns until
// the count grows, bounded in time, because on a loaded 2-vCPU machine a
// fixed 50 ms of wall time may get less than the 10 ms clock tick /proc
// counts in.
func TestProcCPUSelf(t *testing.T) {
	start, err := procCPU(os.Getpid(), false)
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i := 0; i < 1_000_000; i++ {
			cpuSink ^= i
		}
		d, err := procCPU(os.Getpid(), false)
		require.NoError(t, err)
		if d > start {
			return
		}
	}
	t.Fatalf("10 s of busy work never showed in /proc/%d/stat (still %s)", os.Getpid(), start)
}

func TestTimeCommand(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		script  string
		want    int
		wantErr string
	}{
		"expected exit 0": {script: "echo hi", want: 0},
		"expected exit 2": {script: "exit 2", want: 2},
		"unexpected exit": {script: "echo boom >&2; exit 1", want: 0, wantErr: "exit 1, want 0"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			log := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".log")
			s, err := timeCommand(context.Background(), command{argv: []string{"sh", "-c", tc.script}, wantExit: tc.want, log: log}, nil)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Greater(t, s.Wall, 0.0)
			require.Zero(t, s.ServerCPU) // no lab
		})
	}
	b, err := os.ReadFile(filepath.Join(dir, "unexpected-exit.log"))
	require.NoError(t, err)
	require.Equal(t, "boom\n", string(b))
}

func TestTimeCommandCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	// The child of sh must die with it: the whole process group is killed.
	script := "sleep 30 & echo $! > " + pidFile + "; wait"
	_, err := timeCommand(ctx, command{argv: []string{"sh", "-c", script}, log: pidFile + ".log"}, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	stat := "/proc/" + strings.TrimSpace(string(b)) + "/stat"
	require.Eventually(t, func() bool {
		st, err := os.ReadFile(stat)
		// Gone, or a zombie waiting for whoever inherited it.
		return err != nil || strings.Contains(string(st), ") Z ")
	}, 5*time.Second, 20*time.Millisecond, "background sleep survived the cancel")
}

func TestRenderedTables(t *testing.T) {
	good := `{"devices":[{"host":"h1","desired":{"parts":[{"name":"nftables","text":"table inet fwpush {\n}\n"}]}},
		{"host":"h0","desired":{"parts":[{"name":"nftables","text":"T0"}]}}]}`
	got, err := renderedTables([]byte(good))
	require.NoError(t, err)
	if d := cmp.Diff(map[string]string{"h0": "T0", "h1": "table inet fwpush {\n}\n"}, got); d != "" {
		t.Fatalf("(-want +got)\n%s", d)
	}
	_, err = renderedTables([]byte(`{"devices":[{"host":"h2","desired":{"parts":[{"name":"iptables","text":"x"}]}}]}`))
	require.ErrorContains(t, err, "h2: no nftables part")
	_, err = renderedTables([]byte("not json"))
	require.Error(t, err)
}

// The template must produce exactly the file fwpush stages and loads with
// nft -f, or Ansible would not do the same work.
func TestTemplateIsFwpushApplyScript(t *testing.T) {
	tpl, err := ansibleFiles.ReadFile("ansible/templates/fwpush.nft.j2")
	require.NoError(t, err)
	part := "table inet fwpush {\n\tchain input {\n\t}\n}\n"
	got := strings.Replace(string(tpl), "{{ fwpush_ruleset }}", part, 1)
	want := linuxnftables.ApplyScript(drivers.Config{Parts: []drivers.Part{{Name: linuxnftables.PartName, Text: part}}})
	// Jinja may add or drop one trailing newline; nft ignores it.
	require.Equal(t, strings.TrimRight(want, "\n"), strings.TrimRight(got, "\n"))
}

func TestTargets(t *testing.T) {
	tests := map[string]struct {
		iptablesEvery int
		wantErr       string
	}{
		"all nftables":    {iptablesEvery: 0},
		"iptables hosts":  {iptablesEvery: 2, wantErr: "the Ansible play pushes nftables only"},
		"every host ipt.": {iptablesEvery: 1, wantErr: "platform linux-iptables"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, gen.Write(dir, gen.Spec{Hosts: 12, Roles: 3, Flows: 5, Seed: 1, IptablesEvery: tc.iptablesEvery}))
			inv, err := inventory.Load(filepath.Join(dir, "inventory"))
			require.NoError(t, err)
			got, err := targets(inv)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 12)
			require.Equal(t, target{Name: "h0", Addr: "198.18.1.0"}, got[0])
			require.Equal(t, target{Name: "h1", Addr: "198.18.1.1"}, got[1])
			require.Equal(t, "h10", got[2].Name) // sorted by name
		})
	}
}

func TestWriteAnsible(t *testing.T) {
	dir := t.TempDir()
	hosts := []target{{Name: "h0", Addr: "198.18.1.0"}, {Name: "h1", Addr: "198.18.1.1"}}
	tables := map[string]string{"h0": "table inet fwpush {\n\tcomment \"it's {x}\"\n}\n", "h1": "T1"}
	require.NoError(t, writeAnsible(dir, hosts, tables, "/lab/known_hosts", "/lab/id_ed25519"))

	for _, f := range []string{"push.yml", "ansible.cfg", "templates/fwpush.nft.j2"} {
		require.FileExists(t, filepath.Join(dir, f))
	}
	ini, err := os.ReadFile(filepath.Join(dir, "hosts.ini"))
	require.NoError(t, err)
	want := `[lab]
h0 ansible_host=198.18.1.0
h1 ansible_host=198.18.1.1

[lab:vars]
ansible_user=root
ansible_port=22
ansible_ssh_private_key_file=/lab/id_ed25519
ansible_ssh_common_args='-F none -o BatchMode=yes -o UserKnownHostsFile=/lab/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'
ansible_python_interpreter=/usr/bin/python3
`
	if d := cmp.Diff(want, string(ini)); d != "" {
		t.Fatalf("hosts.ini (-want +got)\n%s", d)
	}
	b, err := os.ReadFile(filepath.Join(dir, "host_vars", "h0.json"))
	require.NoError(t, err)
	var vars map[string]string
	require.NoError(t, json.Unmarshal(b, &vars))
	require.Equal(t, tables["h0"], vars["fwpush_ruleset"])

	err = writeAnsible(t.TempDir(), append(hosts, target{Name: "h2", Addr: "198.18.1.2"}), tables, "k", "i")
	require.ErrorContains(t, err, "h2: no rendered table")
}

func TestResult(t *testing.T) {
	s := func(wall, cpu float64) []Sample {
		return []Sample{{Wall: wall, ClientCPU: cpu / 2, ServerCPU: cpu / 2, MachineCPU: cpu}}
	}
	b := &bench{o: Options{Forks: 8, Runs: 1, AnsibleRuns: 1}, hosts: make([]target, 100), samples: map[string][]Sample{
		OpFloor: s(10, 20), OpFloorX25519: s(5, 10), OpPlan: s(12, 10), OpApply: s(30, 60),
		OpPlanNoop: s(11, 10), OpApplyUnsafe: s(15, 30), OpAnsible: s(300, 240),
	}}
	r := b.result()
	require.Len(t, r.Ops, 7) // ansible-check was not measured
	want := Ratios{PlanVsFloor: 1.2, PlanNoopVsFloor: 1.1, PlanVsFloorX25519: 2.4, AnsibleOverApply: 10,
		AnsibleOverApplyUnsafe: 20, AnsibleOverPlan: 25}
	if d := cmp.Diff(want, r.Wall, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })); d != "" {
		t.Fatalf("wall ratios (-want +got)\n%s", d)
	}
	require.InDelta(t, 4.0, r.CPU.AnsibleOverApply, 1e-9)
	require.InDelta(t, 3.0, r.op(OpApply).VsFloor, 1e-9)

	var out bytes.Buffer
	require.NoError(t, r.WriteTable(&out))
	require.Contains(t, out.String(), "goal plan ≤ 1.3× floor (wall):       met")
	require.Contains(t, out.String(), "apply NOT met, apply --no-confirm met, plan met")
	require.NotContains(t, out.String(), "--check")

	var back Result
	out.Reset()
	require.NoError(t, r.WriteJSON(&out))
	require.NoError(t, json.Unmarshal(out.Bytes(), &back))
	require.Equal(t, r.Wall, back.Wall)
}
