package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fwpush/fwpush/internal/report"
)

// Handler serves /metrics (Prometheus), /healthz, and the read-only web
// UI: / (the jobs), /jobs/NAME (the HTML report of the job's latest run),
// /history (the run store's runs) and /runs/ID (a run's stored diffs).
// The UI changes nothing and has no authentication of its own: listen on
// a trusted address, or put it behind a proxy that authenticates.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /jobs/{name}", s.jobPage)
	mux.HandleFunc("GET /history", s.history)
	mux.HandleFunc("GET /runs/{id}", s.runPage)
	return mux
}

// Health is the /healthz document.
type Health struct {
	Status string      `json:"status"` // ok, stopping
	Jobs   []JobHealth `json:"jobs"`
}

// JobHealth is one job in /healthz.
type JobHealth struct {
	Name        string     `json:"name"`
	Mode        Mode       `json:"mode"`
	Schedule    string     `json:"schedule"`
	Running     bool       `json:"running"`
	Next        *time.Time `json:"next,omitempty"`
	LastRun     *time.Time `json:"last_run,omitempty"`
	LastOutcome string     `json:"last_outcome,omitempty"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
}

func (s *Server) health() Health {
	h := Health{Status: "ok"}
	select {
	case <-s.stopping:
		h.Status = "stopping"
	default:
	}
	for _, js := range s.jobs {
		jh := JobHealth{Name: js.Name, Mode: js.Mode, Schedule: js.Schedule}
		if js.busy.TryLock() {
			js.busy.Unlock()
		} else {
			jh.Running = true
		}
		if e := s.cron.Entry(js.entry); !e.Next.IsZero() {
			next := e.Next.UTC()
			jh.Next = &next
		}
		for i, r := range s.Results(js.Name) {
			if i == 0 {
				jh.LastRun, jh.LastOutcome = &r.Finished, r.Outcome
			}
			if r.Success() {
				jh.LastSuccess = &r.Finished
				break
			}
		}
		h.Jobs = append(h.Jobs, jh)
	}
	return h
}

// healthz answers 200 while the server runs and 503 once it stops, so a
// load balancer or systemd watchdog script stops sending to it.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	h := s.health()
	w.Header().Set("Content-Type", "application/json")
	if h.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(h)
}

func (s *Server) nav() []report.Link {
	return []report.Link{{Label: "Jobs", Href: "/"}, {Label: "Run history", Href: "/history"}, {Label: "Metrics", Href: "/metrics"}}
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	h := s.health()
	pg := report.Page{Title: "fwpush serve", Generated: time.Now().UTC(), Links: s.nav(),
		Subtitle: fmt.Sprintf("%d %s from %s; listening on %s", len(s.jobs), map[bool]string{true: "job", false: "jobs"}[len(s.jobs) == 1], s.cfg.File, s.addr)}
	counts := map[string]int{}
	jobs := report.Table{ID: "jobs", Title: "Jobs", Head: []string{"job", "mode", "schedule", "next run", "last run", "outcome", "last success"}}
	for _, j := range h.Jobs {
		last, outcome := "never", ""
		if j.LastRun != nil {
			last, outcome = when(*j.LastRun), j.LastOutcome
			counts[outcome]++
		}
		if j.Running {
			outcome = "running"
		}
		next, success := "-", "-"
		if j.Next != nil {
			next = when(*j.Next)
		}
		if j.LastSuccess != nil {
			success = when(*j.LastSuccess)
		}
		jobs.Rows = append(jobs.Rows, []report.Cell{{Text: j.Name, Href: "/jobs/" + url.PathEscape(j.Name)}, {Text: string(j.Mode)},
			{Text: j.Schedule}, {Text: next}, {Text: last}, {Text: dash(outcome), Class: report.ClassOf(outcome)}, {Text: success}})
	}
	pg.Stats = []report.Stat{{Label: "jobs", N: len(h.Jobs), Class: "info"}, {Label: "compliant", N: counts[OutcomeCompliant], Class: "ok"},
		{Label: "repaired", N: counts[OutcomeRepaired], Class: "ok"}, {Label: "drift", N: counts[OutcomeDrift], Class: "warn"},
		{Label: "error", N: counts[OutcomeError], Class: "bad"}}
	pg.Tables = []report.Table{jobs}
	s.page(w, pg)
}

// jobPage is the HTML report of the job's latest run, with its recent
// runs listed.
func (s *Server) jobPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if s.byID[name] == nil {
		http.Error(w, "no such job", http.StatusNotFound)
		return
	}
	results := s.Results(name)
	pg := report.Page{Title: "fwpush serve: job " + name, Generated: time.Now().UTC(), Subtitle: "no run yet"}
	if len(results) > 0 && results[0].Check != nil {
		pg = report.FromCheck(results[0].Check, results[0].Project)
		pg.Title = "fwpush serve: job " + name
	}
	pg.Links = s.nav()
	recent := report.Table{ID: "runs", Title: "Recent runs", Note: "newest first; a re-push is recorded in the run store",
		Head: []string{"started", "took", "outcome", "devices", "re-push", "error"}}
	for _, res := range results {
		devices, push := "-", report.Cell{Text: "-"}
		if res.Check != nil {
			devices = fmt.Sprintf("%d compliant, %d drift, %d error", res.Check.Summary.Compliant, res.Check.Summary.Drift, res.Check.Summary.Error)
		}
		if res.Push != nil && res.Push.Run != "" {
			push = report.Cell{Text: res.Push.Run, Href: "/runs/" + url.PathEscape(res.Push.Run)}
		}
		errText := ""
		if res.Err != nil {
			errText = res.Err.Error()
		}
		recent.Rows = append(recent.Rows, []report.Cell{{Text: when(res.Started)}, {Text: res.Finished.Sub(res.Started).Round(timeUnit).String()},
			{Text: res.Outcome, Class: report.ClassOf(res.Outcome)}, {Text: devices}, push, {Text: errText}})
	}
	pg.Tables = []report.Table{recent}
	s.page(w, pg)
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	if s.o.Store == nil {
		http.Error(w, "no run store", http.StatusNotFound)
		return
	}
	runs, err := s.o.Store.Runs(100)
	if err != nil {
		s.log.Error("history", "error", err)
		http.Error(w, "the run store could not be read", http.StatusInternalServerError)
		return
	}
	pg := report.FromHistory(s.o.Store.Path(), runs, nil, nil, func(id string) string { return "/runs/" + url.PathEscape(id) })
	pg.Links = s.nav()
	s.page(w, pg)
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	if s.o.Store == nil {
		http.Error(w, "no run store", http.StatusNotFound)
		return
	}
	run, entries, err := s.o.Store.Run(r.PathValue("id"))
	if err != nil {
		http.Error(w, "no such run", http.StatusNotFound)
		return
	}
	pg := report.FromHistory(s.o.Store.Path(), nil, &run, entries, nil)
	pg.Links = s.nav()
	s.page(w, pg)
}

func (s *Server) page(w http.ResponseWriter, pg report.Page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:")
	if err := report.HTML(w, pg); err != nil {
		s.log.Error("page", "error", err)
	}
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
