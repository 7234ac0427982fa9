package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/check/checktest"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/serve"
	"github.com/fwpush/fwpush/internal/store"
)

const root = "../.."

// config is one job over the webapp example, run by hand (Trigger): its
// schedule is far away. push, when set, is the playbook's push section.
func config(t *testing.T, mode serve.Mode, extra string, push ...string) *serve.Config {
	t.Helper()
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	pb := abs + "/playbooks/examples/webapp.yml"
	if len(push) > 0 {
		data, err := os.ReadFile(pb)
		require.NoError(t, err)
		pb = filepath.Join(t.TempDir(), "webapp.yml")
		require.NoError(t, os.WriteFile(pb, append(data, []byte("push:\n"+strings.Join(push, "\n")+"\n")...), 0o644))
	}
	cfg, err := serve.ParseConfig(filepath.Join(t.TempDir(), "serve.yaml"), []byte(fmt.Sprintf(`
jobs:
  - name: webapp
    inventory: %s/inventory/examples/webapp
    playbook: %s
    schedule: "0 0 1 1 *"
    mode: %s
    timeout: 1m
%s`, abs, pb, mode, extra)))
	require.NoError(t, err)
	return cfg
}

// running is a started server and how to reach and stop it.
type running struct {
	srv    *serve.Server
	stop   context.CancelFunc
	exited chan struct{} // closed when Run returned, err then set
	err    error
	url    string
}

func start(t *testing.T, cfg *serve.Config, o serve.Options) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	o.Listener = ln
	srv, err := serve.New(cfg, o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, stop: cancel, exited: make(chan struct{}), url: "http://" + ln.Addr().String()}
	go func() {
		r.err = srv.Run(ctx)
		close(r.exited)
	}()
	select {
	case <-srv.Ready():
	case <-r.exited:
		t.Fatalf("serve stopped at once: %v", r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve not ready within 10s")
	}
	t.Cleanup(func() {
		cancel()
		r.wait(t)
	})
	return r
}

// wait waits for Run to return and gives its error.
func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop within a minute")
	}
	return r.err
}

// runOnce triggers the job and waits for its result.
func (r *running) runOnce(t *testing.T, job string) *serve.Result {
	t.Helper()
	before := len(r.srv.Results(job))
	require.True(t, r.srv.Trigger(job))
	deadline := time.Now().Add(time.Minute)
	for len(r.srv.Results(job)) == before {
		require.True(t, time.Now().Before(deadline), "no result within a minute")
		time.Sleep(20 * time.Millisecond)
	}
	return r.srv.Results(job)[0]
}

func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(r.url + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// metric reads one sample of /metrics (0 when absent).
func (r *running) metric(t *testing.T, series string) float64 {
	t.Helper()
	_, body := r.get(t, "/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

func fleetOpener(f *checktest.Fleet) func(*project.Project) plan.Opener {
	return func(*project.Project) plan.Opener { return f.Opener() }
}

func bolt(t *testing.T) store.Backend {
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	return st
}

// TestRepushRepairsDrift: web-1 changed by hand; a repush run re-pushes
// it and no other device,
// commit-confirmed and recorded; /metrics shows the drift found, the
// repairs, the push durations and the last success; the web UI shows the
// run.
func TestRepushRepairsDrift(t *testing.T) {
	f := checktest.NewFleet(t, root)
	checktest.Edit(t, f.Devs["web-1"], "tcp dport { 80, 443 }", "tcp dport { 80, 443, 8443 }")
	want := map[string]string{}
	for h, d := range f.Devs {
		want[h] = d.Running().String()
	}
	pl, err := plan.Render(f.P, "web-1")
	require.NoError(t, err)
	want["web-1"] = pl.Desired.String()
	st := bolt(t)
	r := start(t, config(t, serve.Repush, ""), serve.Options{Store: st, Open: fleetOpener(f)})

	res := r.runOnce(t, "webapp")
	require.NoError(t, res.Err)
	assert.Equal(t, serve.OutcomeRepaired, res.Outcome)
	first := res
	require.NotNil(t, res.Push)
	require.Len(t, res.Push.Devices, 1, "only the drifted device is pushed")
	assert.Equal(t, "web-1", res.Push.Devices[0].Host)
	for h, d := range f.Devs {
		assert.Equal(t, want[h], d.Running().String(), "%s: on the policy", h)
		assert.Nil(t, d.Holder(), "%s: no trial left", h)
		if h == "web-1" {
			assert.Equal(t, 1, d.Applies)
			assert.Equal(t, 1, d.Confirms, "commit-confirmed")
		} else {
			assert.Zero(t, d.Applies, "%s: compliant devices are not pushed", h)
		}
	}
	run, entries, err := st.Run(res.Push.Run)
	require.NoError(t, err)
	assert.Contains(t, run.Command, "job webapp re-pushes 1 drifted device")
	require.Len(t, entries, 1)
	assert.Equal(t, "confirmed", entries[0].Outcome)

	l := `{device="web-1",job="webapp",system="webapp"}`
	assert.Equal(t, 0.0, r.metric(t, "fwpush_serve_drift"+l), "back on the policy")
	assert.Equal(t, 1.0, r.metric(t, "fwpush_serve_repairs_total"+l))
	assert.Equal(t, 1.0, r.metric(t, `fwpush_serve_drift_detected_total{device="web-1",job="webapp",kind="modified",system="webapp"}`))
	assert.Equal(t, 1.0, r.metric(t, `fwpush_serve_runs_total{job="webapp",mode="repush",result="repaired"}`))
	assert.Equal(t, 1.0, r.metric(t, `fwpush_serve_push_devices_total{job="webapp",outcome="confirmed"}`))
	assert.Equal(t, 1.0, r.metric(t, `fwpush_serve_push_duration_seconds_count{job="webapp"}`))
	assert.Equal(t, 1.0, r.metric(t, `fwpush_serve_devices{job="webapp",status="drift"}`))
	assert.InDelta(t, float64(time.Now().Unix()), r.metric(t, `fwpush_serve_last_success_timestamp_seconds{job="webapp"}`), 60)

	// The next run finds nothing to do.
	res = r.runOnce(t, "webapp")
	assert.Equal(t, serve.OutcomeCompliant, res.Outcome)
	assert.Nil(t, res.Push)
	assert.Equal(t, 1, f.Devs["web-1"].Applies)
	assert.Equal(t, 5.0, r.metric(t, `fwpush_serve_devices{job="webapp",status="compliant"}`))

	code, body := r.get(t, "/healthz")
	assert.Equal(t, http.StatusOK, code)
	var h serve.Health
	require.NoError(t, json.Unmarshal([]byte(body), &h))
	assert.Equal(t, "ok", h.Status)
	require.Len(t, h.Jobs, 1)
	assert.Equal(t, serve.OutcomeCompliant, h.Jobs[0].LastOutcome)
	require.NotNil(t, h.Jobs[0].Next)
	code, body = r.get(t, "/")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `<a href="/jobs/webapp">webapp</a>`)
	_, body = r.get(t, "/jobs/webapp")
	assert.Contains(t, body, "Communication matrix")
	assert.Contains(t, body, `href="/runs/`+first.Push.Run+`"`, "the re-push's run is linked")
	_, body = r.get(t, "/history")
	assert.Contains(t, body, entries[0].Run)
	_, body = r.get(t, "/runs/"+entries[0].Run)
	assert.Contains(t, body, "8443", "the run's stored diff")
	code, _ = r.get(t, "/jobs/nope")
	assert.Equal(t, http.StatusNotFound, code)
}

// TestCheckModeNeverPushes: check mode reports drift (and the webhook
// hears of it) but changes nothing.
func TestCheckModeNeverPushes(t *testing.T) {
	f := checktest.NewFleet(t, root)
	f.Scenario(t)
	var mu sync.Mutex
	var events []serve.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e serve.Event
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&e))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}))
	defer hook.Close()
	cfg := config(t, serve.CheckOnly, "webhook:\n  url: "+hook.URL+"/token\n")
	r := start(t, cfg, serve.Options{Open: fleetOpener(f)})
	res := r.runOnce(t, "webapp")
	assert.Equal(t, serve.OutcomeError, res.Outcome, "db-1 and db-2 cannot be judged")
	assert.Nil(t, res.Push)
	for h, d := range f.Devs {
		if h != "db-1" { // the scenario's own pending trial
			assert.Zero(t, d.Applies, h)
		}
	}
	assert.Equal(t, 1.0, r.metric(t, `fwpush_serve_drift{device="web-1",job="webapp",system="webapp"}`))
	assert.Equal(t, 1.0, r.metric(t, `fwpush_serve_drift{device="app-1",job="webapp",system="webapp"}`), "foreign rules count as drift")
	assert.Equal(t, 0.0, r.metric(t, `fwpush_serve_last_success_timestamp_seconds{job="webapp"}`))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, events, 2)
	assert.Equal(t, serve.EventDrift, events[0].Event)
	assert.Equal(t, "webapp", events[0].System)
	var hosts []string
	for _, d := range events[0].Devices {
		hosts = append(hosts, d.Host)
	}
	assert.ElementsMatch(t, []string{"web-1", "web-2", "app-1"}, hosts)
	assert.Contains(t, events[0].Text, "drift on")
	assert.Equal(t, serve.EventFailure, events[1].Event)
	assert.Contains(t, events[1].Error, "db-2 (unreachable)")
}

// TestNoOverlap: a run of a job that is still going makes the next
// trigger a skip, counted.
func TestNoOverlap(t *testing.T) {
	f := checktest.NewFleet(t, root)
	release := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{})
	open := func(p *project.Project) plan.Opener {
		inner := f.Opener()
		return func(ctx context.Context, host string) (drivers.Session, error) {
			if host == "app-1" {
				once.Do(func() { close(entered) })
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			return inner(ctx, host)
		}
	}
	r := start(t, config(t, serve.CheckOnly, ""), serve.Options{Open: open})
	require.True(t, r.srv.Trigger("webapp"))
	<-entered
	require.True(t, r.srv.Trigger("webapp"))
	deadline := time.Now().Add(10 * time.Second)
	for r.metric(t, `fwpush_serve_runs_skipped_total{job="webapp"}`) != 1 {
		require.True(t, time.Now().Before(deadline), "the second run was not skipped")
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, 1.0, r.metric(t, `fwpush_serve_job_running{job="webapp"}`))
	close(release)
	deadline = time.Now().Add(10 * time.Second)
	for len(r.srv.Results("webapp")) == 0 {
		require.True(t, time.Now().Before(deadline))
		time.Sleep(20 * time.Millisecond)
	}
	assert.Len(t, r.srv.Results("webapp"), 1, "one run, not two")
}

// TestStopLetsTheTrialFinish: the stop (SIGTERM) comes while the first
// re-pushed device is armed and being checked. That device finishes its
// change (confirmed, no timer left), the next wave's device is not
// started, and Run returns nil.
func TestStopLetsTheTrialFinish(t *testing.T) {
	f := checktest.NewFleet(t, root)
	checktest.Edit(t, f.Devs["web-1"], "tcp dport { 80, 443 }", "tcp dport { 80, 443, 8443 }")
	checktest.Edit(t, f.Devs["db-1"], "ip saddr @db_v4 tcp dport 5432 accept", "ip saddr @db_v4 tcp dport 5433 accept")
	var r *running
	var once sync.Once
	post := func(ctx context.Context, host string) error {
		once.Do(func() {
			r.stop() // what serve's command does on SIGTERM
			time.Sleep(300 * time.Millisecond)
		})
		return nil
	}
	cfg := config(t, serve.Repush, "", "  serial: [1]") // one device per wave: db-1, then web-1
	r = start(t, cfg, serve.Options{Store: bolt(t), Open: fleetOpener(f), PostCheck: post})
	require.True(t, r.srv.Trigger("webapp"))
	require.NoError(t, r.wait(t), "a stop is a clean exit")
	res := r.srv.Results("webapp")
	require.Len(t, res, 1)
	require.NotNil(t, res[0].Push)
	outcomes := map[string]string{}
	for _, d := range res[0].Push.Devices {
		outcomes[d.Host] = string(d.Outcome)
	}
	assert.Equal(t, map[string]string{"db-1": "confirmed", "web-1": ""}, outcomes)
	assert.Equal(t, 1, f.Devs["db-1"].Confirms, "the device in flight was confirmed")
	assert.Zero(t, f.Devs["web-1"].Applies, "the next wave was not started")
	for h, d := range f.Devs {
		assert.Nil(t, d.Holder(), "%s: no trial left armed", h)
	}
	assert.False(t, r.srv.Trigger("webapp"), "a stopped server starts nothing")
}
