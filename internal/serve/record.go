package serve

import (
	"strings"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/check"
)

// record files a finished run: metrics, log, webhook, and the results
// the web UI shows.
func (s *Server) record(js *jobState, res *Result) {
	m, job := s.m, js.Name
	m.runs.WithLabelValues(job, string(js.Mode), res.Outcome).Inc()
	m.runSeconds.WithLabelValues(job, string(js.Mode)).Observe(res.Finished.Sub(res.Started).Seconds())
	m.lastRun.WithLabelValues(job).Set(float64(res.Finished.Unix()))
	if res.Success() {
		m.lastSuccess.WithLabelValues(job).Set(float64(res.Finished.Unix()))
	}
	system := ""
	if res.Project != nil {
		system = res.Project.Playbook.Name
	}
	var drifted, failed []string
	if rep := res.Check; rep != nil {
		m.devices.WithLabelValues(job, string(check.Compliant)).Set(float64(rep.Summary.Compliant))
		m.devices.WithLabelValues(job, string(check.Drift)).Set(float64(rep.Summary.Drift))
		m.devices.WithLabelValues(job, string(check.Error)).Set(float64(rep.Summary.Error))
		for _, d := range rep.Devices {
			switch d.Status {
			case check.Drift:
				m.drift.WithLabelValues(job, system, d.Host).Set(1)
				drifted = append(drifted, d.Host)
			case check.Compliant:
				m.drift.WithLabelValues(job, system, d.Host).Set(0)
			}
			for _, f := range d.Findings {
				if f.Kind == check.Modified || f.Kind == check.Missing || f.Kind == check.Foreign {
					m.driftSeen.WithLabelValues(job, system, d.Host, string(f.Kind)).Inc()
				}
			}
		}
	}
	var repaired []string
	if pr := res.Push; pr != nil && pr.Report != nil {
		foreign := foreignHosts(res.Check)
		for _, d := range pr.Devices {
			m.pushed.WithLabelValues(job, pushOutcome(d)).Inc()
			if d.Outcome == apply.Confirmed {
				m.repairs.WithLabelValues(job, system, d.Host).Inc()
				repaired = append(repaired, d.Host)
				if !foreign[d.Host] {
					m.drift.WithLabelValues(job, system, d.Host).Set(0) // back on the policy now
				}
			}
		}
		failed = pushFailures(pr)
	}
	attrs := []any{"job", job, "mode", js.Mode, "outcome", res.Outcome, "took", res.Finished.Sub(res.Started).Round(timeUnit)}
	if len(drifted) > 0 {
		attrs = append(attrs, "drift", strings.Join(drifted, ","))
	}
	if len(repaired) > 0 {
		attrs = append(attrs, "repaired", strings.Join(repaired, ","), "run", res.Push.Run)
	}
	if len(failed) > 0 {
		attrs = append(attrs, "push_failed", strings.Join(failed, ","))
	}
	if res.Err != nil {
		attrs = append(attrs, "error", res.Err.Error())
		s.log.Error("run", attrs...)
	} else {
		s.log.Info("run", attrs...)
	}
	s.notify(res, drifted, repaired, failed)
	js.rmu.Lock()
	js.results = append(js.results, res)
	if len(js.results) > s.o.Keep {
		js.results = js.results[len(js.results)-s.o.Keep:]
	}
	js.rmu.Unlock()
}

func foreignHosts(rep *check.Report) map[string]bool {
	out := map[string]bool{}
	if rep == nil {
		return out
	}
	for _, d := range rep.Devices {
		for _, f := range d.Findings {
			if f.Kind == check.Foreign {
				out[d.Host] = true
			}
		}
	}
	return out
}
