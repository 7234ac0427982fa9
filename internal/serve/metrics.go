package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are what /metrics exports, in a registry of the server's own
// (two servers in one process, as in tests, do not collide).
type metrics struct {
	reg *prometheus.Registry

	runs        *prometheus.CounterVec   // job, mode, result
	skipped     *prometheus.CounterVec   // job
	running     *prometheus.GaugeVec     // job
	devices     *prometheus.GaugeVec     // job, status: the last check
	drift       *prometheus.GaugeVec     // job, system, device: 1 while drifted
	driftSeen   *prometheus.CounterVec   // job, system, device, kind
	pushed      *prometheus.CounterVec   // job, outcome
	repairs     *prometheus.CounterVec   // job, system, device
	pushSeconds *prometheus.HistogramVec // job: one observation per device pushed
	runSeconds  *prometheus.HistogramVec // job, mode
	lastRun     *prometheus.GaugeVec     // job
	lastSuccess *prometheus.GaugeVec     // job
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fwpush_serve_runs_total",
		Help: "Job runs by result: compliant (nothing drifted), drift (drift found and left: check mode, or not all repaired), repaired (every drifted device re-pushed), error (a device could not be checked or pushed, or the job could not load)."},
		[]string{"job", "mode", "result"})
	m.skipped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fwpush_serve_runs_skipped_total",
		Help: "Scheduled runs not started because the job's previous run was still going."}, []string{"job"})
	m.running = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fwpush_serve_job_running",
		Help: "1 while the job runs."}, []string{"job"})
	m.devices = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fwpush_serve_devices",
		Help: "Devices by status in the job's last check: compliant, drift, error."}, []string{"job", "status"})
	m.drift = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fwpush_serve_drift",
		Help: "1 when the device's last check found drift (its own part changed or missing, or foreign rules that block the policy), else 0."},
		[]string{"job", "system", "device"})
	m.driftSeen = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fwpush_serve_drift_detected_total",
		Help: "Checks that found drift on the device, by kind: modified, missing, foreign."}, []string{"job", "system", "device", "kind"})
	m.pushed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fwpush_serve_push_devices_total",
		Help: "Devices re-pushed by outcome: confirmed, unchanged, rolled-back, failed, indeterminate, locked (another controller held it), skipped."},
		[]string{"job", "outcome"})
	m.repairs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fwpush_serve_repairs_total",
		Help: "Drifted devices restored to the policy by a confirmed re-push."}, []string{"job", "system", "device"})
	m.pushSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fwpush_serve_push_duration_seconds",
		Help:    "Time to push one device: fetch, apply with the revert armed, check over a new connection, confirm.",
		Buckets: []float64{0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}}, []string{"job"})
	m.runSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fwpush_serve_run_duration_seconds",
		Help:    "Time of a whole job run (check, then re-push in repush mode).",
		Buckets: []float64{0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900}}, []string{"job", "mode"})
	m.lastRun = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fwpush_serve_last_run_timestamp_seconds",
		Help: "When the job's last run ended (Unix time)."}, []string{"job"})
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fwpush_serve_last_success_timestamp_seconds",
		Help: "When a run of the job last ended without error: every device checked and, in repush mode, every drifted device confirmed (Unix time)."},
		[]string{"job"})
	m.reg.MustRegister(m.runs, m.skipped, m.running, m.devices, m.drift, m.driftSeen, m.pushed, m.repairs,
		m.pushSeconds, m.runSeconds, m.lastRun, m.lastSuccess,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// job makes a job's series exist from the start, so a dashboard shows
// zeros instead of gaps before its first run.
func (m *metrics) job(j Job) {
	m.running.WithLabelValues(j.Name).Set(0)
	m.skipped.WithLabelValues(j.Name)
	for _, r := range []string{"compliant", "drift", "repaired", "error"} {
		m.runs.WithLabelValues(j.Name, string(j.Mode), r)
	}
}
