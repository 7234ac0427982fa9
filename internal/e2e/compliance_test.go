package e2e

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/check"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/report"
	"github.com/fwpush/fwpush/internal/serve"
	"github.com/fwpush/fwpush/internal/store"
)

// TestComplianceLab is the lab story on both Linux drivers. After
// an apply, one host's owned rules are changed by hand: the check (read
// only) says drift, naming that host and what it now permits. serve in
// repush mode on a 10-second schedule restores it, and /metrics, scraped
// over HTTP, shows the drift and the repair. Then the host drifts again
// and SIGTERM (the server's stop) comes while its re-push is armed: the
// change finishes (confirmed), serve stops cleanly, no timer is left.
func TestComplianceLab(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t, "baseline.yml", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e.push(t, ctx)
	policyHash := map[string]string{}
	for _, h := range e.hostNames() {
		policyHash[h] = e.hash(t, h)
	}
	byHand := func() {
		e.sh(t, "nft-1", "nft add rule inet fwpush input tcp dport 8080 accept")
	}
	byHand()

	rep, err := check.Run(ctx, e.p, e.opener(), eo())
	require.NoError(t, err)
	assert.Equal(t, check.ExitDrift, rep.ExitCode(), "fwpush check exits 2")
	assert.Equal(t, []string{"nft-1"}, rep.Repairable())
	var text bytes.Buffer
	require.NoError(t, report.CheckText(&text, rep))
	assert.Contains(t, text.String(), "=== nft-1 (linux-nftables): drift")
	assert.Contains(t, text.String(), "+ permitted by hand, not by the policy: input: tcp dport 8080 accept")
	assert.Contains(t, text.String(), "ipt-1  linux-iptables  compliant")
	assert.NotEqual(t, policyHash["nft-1"], e.hash(t, "nft-1"), "the check changed nothing")

	abs, err := filepath.Abs(rel)
	require.NoError(t, err)
	cfg, err := serve.ParseConfig(filepath.Join(t.TempDir(), "serve.yaml"), []byte(`
jobs:
  - name: lab
    inventory: `+abs+`/inventory
    playbook: `+abs+`/baseline.yml
    schedule: "*/10 * * * * *"
    mode: repush
    timeout: 2m
    confirm_timeout: 30s
`))
	require.NoError(t, err)
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var stopAtCheck atomic.Bool
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	srv, err := serve.New(cfg, serve.Options{Store: st, Listener: ln,
		Open: func(p *project.Project) plan.Opener { return labEnv(p, e.lab).opener() },
		// The second re-push is stopped while nft-1 is armed, changed,
		// and being checked: the moment SIGTERM must not cut.
		PostCheck: func(ctx context.Context, host string) error {
			if stopAtCheck.Load() {
				stop()
				time.Sleep(time.Second)
			}
			return nil
		}})
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Run(sctx) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-served:
		case <-time.After(2 * time.Minute):
			t.Error("serve did not stop")
		}
	})
	<-srv.Ready()

	repaired := waitResult(t, srv, 0, 90*time.Second)
	require.NoError(t, repaired.Err)
	assert.Equal(t, serve.OutcomeRepaired, repaired.Outcome)
	assert.Equal(t, policyHash["nft-1"], e.hash(t, "nft-1"), "serve restored the policy")
	for _, h := range e.hostNames() {
		assert.False(t, e.armed(t, h), "%s: no timer left", h)
	}
	metrics := scrape(t, "http://"+srv.Addr()+"/metrics")
	l := `device="nft-1",job="lab",system="baseline"`
	assert.Equal(t, 1.0, metricSample(t, metrics, `fwpush_serve_drift_detected_total{device="nft-1",job="lab",kind="modified",system="baseline"}`), "the drift")
	assert.Equal(t, 1.0, metricSample(t, metrics, `fwpush_serve_repairs_total{`+l+`}`), "and the repair")
	assert.Equal(t, 0.0, metricSample(t, metrics, `fwpush_serve_drift{`+l+`}`), "back on the policy")
	assert.Equal(t, 1.0, metricSample(t, metrics, `fwpush_serve_runs_total{job="lab",mode="repush",result="repaired"}`))
	assert.Greater(t, metricSample(t, metrics, `fwpush_serve_last_success_timestamp_seconds{job="lab"}`), 0.0)

	// Drift again; SIGTERM while the re-push is armed.
	stopAtCheck.Store(true)
	byHand()
	select {
	case err := <-served:
		require.NoError(t, err, "a stop is a clean exit")
	case <-time.After(90 * time.Second):
		t.Fatal("serve did not re-push and stop")
	}
	served <- nil // for the cleanup
	last := srv.Results("lab")[0]
	require.NotNil(t, last.Push, "the stop came during the second re-push")
	require.Len(t, last.Push.Devices, 1)
	assert.Equal(t, "confirmed", string(last.Push.Devices[0].Outcome), "the armed change finished: %s", last.Push.Devices[0].Error)
	assert.Equal(t, policyHash["nft-1"], e.hash(t, "nft-1"))
	for _, h := range e.hostNames() {
		assert.False(t, e.armed(t, h), "%s: no trial left armed", h)
		assert.Empty(t, strings.TrimSpace(e.sh(t, h, "cat /var/lib/fwpush/lock/holder 2>/dev/null || true")), "%s: device lock released", h)
	}
	hosts, err := st.UnfinishedHosts()
	require.NoError(t, err)
	assert.Empty(t, hosts, "every re-push recorded to its outcome")
}

// waitResult waits until the job has more than n results and returns the
// newest.
func waitResult(t *testing.T, srv *serve.Server, n int, within time.Duration) *serve.Result {
	t.Helper()
	deadline := time.Now().Add(within)
	for len(srv.Results("lab")) <= n {
		require.True(t, time.Now().Before(deadline), "no run of the job within %s", within)
		time.Sleep(100 * time.Millisecond)
	}
	return srv.Results("lab")[0]
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func metricSample(t *testing.T, metrics, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(metrics)
	require.NotNil(t, m, "no %s in /metrics", series)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}
