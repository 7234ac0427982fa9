package verify

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
)

func load(t *testing.T) *project.Project {
	p, err := project.Load(project.Options{Inventory: "../../inventory/examples/webapp", Playbook: "../../playbooks/examples/webapp.yml"})
	require.NoError(t, err)
	return p
}

func TestGenerate(t *testing.T) {
	probes, err := Generate(load(t), Options{PerFlow: 2, Negatives: 1})
	require.NoError(t, err)
	var pos, neg int
	for _, p := range probes {
		if p.Expect {
			pos++
			assert.Positive(t, p.Flow, "flows are numbered from 1")
		} else {
			// Synthetic negatives, and flow probes the policy blocks on the
			// way (webapp filters egress: app-1 may not open web-1:80 even
			// though "any" may).
			neg++
		}
		assert.NotEqual(t, p.From, p.To)
	}
	assert.Positive(t, pos)
	assert.GreaterOrEqual(t, neg, 5, "at least one negative per host")
}

// TestGenerateSkipsRejectedPorts: a port a reject flow covers is no
// negative probe: the firewall's answer reads as a refusal, which a probe
// cannot tell from a closed port on a reachable host.
func TestGenerateSkipsRejectedPorts(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "p.yml")
	port := negativePorts[0]
	require.NoError(t, os.WriteFile(pb, []byte(fmt.Sprintf(`name: p
roles: {web: {}, app: {}, db: {}}
flows:
  - {from: any, to: web, ports: [tcp/443], why: users}
  - {from: any, to: web, ports: [tcp/%d], action: reject, why: answered}
`, port)), 0o644))
	p, err := project.Load(project.Options{Inventory: "../../inventory/examples/webapp", Playbook: pb})
	require.NoError(t, err)
	probes, err := Generate(p, Options{PerFlow: 1, Negatives: 2})
	require.NoError(t, err)
	negWeb := 0
	for _, pr := range probes {
		if pr.Expect || !strings.HasPrefix(pr.To, "web-") {
			continue
		}
		negWeb++
		assert.NotEqual(t, port, pr.Port, "%s", pr)
	}
	assert.Equal(t, 4, negWeb, "two other negatives per web host")
}

// TestRunClassifies feeds canned probe output through Run: a refused port
// proves the firewall let the packet through; a timeout means blocked.
func TestRunClassifies(t *testing.T) {
	probes := []Probe{
		{From: "a", Dst: mustAddr("198.18.9.1"), Port: 80, Expect: true},
		{From: "a", Dst: mustAddr("198.18.9.2"), Port: 81, Expect: true},
		{From: "b", Dst: mustAddr("198.18.9.3"), Port: 9, Expect: false},
		{From: "b", Dst: mustAddr("198.18.9.4"), Port: 10, Expect: false},
		{From: "c", Dst: mustAddr("198.18.9.5"), Port: 11, Expect: true},
	}
	run := func(ctx context.Context, host, script string, stdin []byte) (string, error) {
		assert.Equal(t, probeScript, script, "the script is fixed; probes travel on stdin")
		switch host {
		case "a":
			assert.Equal(t, "0 tcp 198.18.9.1 80 6.0\n1 tcp 198.18.9.2 81 6.0\n", string(stdin))
			return "0 open\n1 refused\n", nil
		case "b":
			assert.Equal(t, "2 tcp 198.18.9.3 9 1.0\n3 tcp 198.18.9.4 10 1.0\n", string(stdin))
			return "2 blocked\n3 open\n", nil
		}
		return "", errors.New("c: connect: unreachable")
	}
	rep, err := Run(context.Background(), probes, run, time.Second, engine.Options{MaxFailPercentage: -1})
	require.NoError(t, err)
	var got []string
	for _, r := range rep.Results {
		got = append(got, string(r.Got)+map[bool]string{true: "/pass", false: "/FAIL"}[r.Pass])
	}
	assert.Equal(t, []string{"open/pass", "refused/pass", "blocked/pass", "open/FAIL", "error/FAIL"}, got)
	assert.Equal(t, 3, rep.Passed)
	assert.Equal(t, 2, rep.Failed)
	assert.True(t, strings.Contains(rep.Results[4].Note, "unreachable"))
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestPostCheck runs only the probes that reach the host being pushed and
// names every mismatch.
func TestPostCheck(t *testing.T) {
	probes := []Probe{
		{From: "a", To: "x", Src: mustAddr("198.18.9.9"), Dst: mustAddr("198.18.9.1"), Proto: policy.TCP, Port: 80, Expect: true},
		{From: "a", To: "x", Dst: mustAddr("198.18.9.1"), Port: 9, Expect: false},
		{From: "b", To: "y", Dst: mustAddr("198.18.9.2"), Port: 80, Expect: true},
	}
	var ran []string
	run := func(ctx context.Context, host, script string, stdin []byte) (string, error) {
		ran = append(ran, host)
		assert.NotContains(t, string(stdin), "198.18.9.2", "y's probes are not x's post-check")
		return "0 blocked\n1 blocked\n", nil
	}
	check := PostCheck(probes, run, time.Second)
	err := check(context.Background(), "x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 of 2 probes to x did not match the policy")
	assert.Contains(t, err.Error(), "a → x tcp/80")
	assert.Equal(t, []string{"a"}, ran)
	assert.NoError(t, check(context.Background(), "z"), "no probe reaches z")
}
