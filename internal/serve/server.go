// Package serve is fwpush's long-running compliance service: jobs of
// inventory + playbook + limit on a cron schedule, each checking its
// devices (read-only) and, in repush mode, pushing the drifted ones back
// to the policy commit-confirmed through the same path as apply, recorded
// in the run store. It exports Prometheus metrics, a health check and a
// small read-only web UI, and posts events to a webhook. A stop lets
// every change in flight finish (confirmed or rolled back) and starts no
// other.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
)

// Options are what the server needs besides its config.
type Options struct {
	// Store journals re-pushes (required when a job repushes) and feeds
	// the history pages. A store shared by several servers (PostgreSQL)
	// makes its device locks keep them from pushing one device twice.
	Store store.Backend
	// Open returns the sessions opener for a job's project; nil opens
	// each host through its platform's driver with Transport.
	Open      func(p *project.Project) plan.Opener
	Transport drivers.TransportOptions
	Logger    *slog.Logger
	// PostCheck, when set, runs before each re-pushed device is
	// confirmed; an error rolls the device back (as apply --verify).
	PostCheck func(ctx context.Context, host string) error
	// Listener, when set, serves HTTP instead of listening on the
	// config's address.
	Listener net.Listener
	// Client posts webhooks (nil: a client with the webhook's timeout).
	Client *http.Client
	// Keep is how many results per job the web UI keeps (default 20).
	Keep int
}

// Server runs the jobs of a Config.
type Server struct {
	cfg  *Config
	o    Options
	m    *metrics
	log  *slog.Logger
	jobs []*jobState
	byID map[string]*jobState
	cron *cron.Cron

	mu       sync.Mutex
	stopped  bool          // no run starts once set
	stopping chan struct{} // closed by a stop: runs in flight wind down
	runs     sync.WaitGroup
	addr     string
	ready    chan struct{} // closed once listening and scheduling
}

// jobState is a job and its recent results.
type jobState struct {
	Job
	// busy is held for a whole run: two runs of one job never overlap.
	busy    sync.Mutex
	rmu     sync.Mutex
	results []*Result // oldest first
	entry   cron.EntryID
}

// New checks what the server needs; nothing runs until Run.
func New(cfg *Config, o Options) (*Server, error) {
	if cfg.Repushes() && o.Store == nil {
		return nil, errors.New("serve: a repush job needs a run store")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Keep <= 0 {
		o.Keep = 20
	}
	s := &Server{cfg: cfg, o: o, m: newMetrics(), log: o.Logger, byID: map[string]*jobState{},
		stopping: make(chan struct{}), ready: make(chan struct{})}
	s.cron = cron.New(cron.WithParser(scheduleParser), cron.WithChain(cron.Recover(cronLogger{s.log})))
	for _, j := range cfg.Jobs {
		js := &jobState{Job: j}
		js.entry = s.cron.Schedule(j.schedule, cron.FuncJob(func() { s.run(js) }))
		s.jobs = append(s.jobs, js)
		s.byID[j.Name] = js
		s.m.job(j)
	}
	return s, nil
}

// Run serves HTTP and schedules the jobs until ctx is done, then stops:
// no run starts any more, reads in flight are cancelled, re-pushes in
// flight start no new device and let each device being changed finish
// its change (checked, then confirmed or rolled back); then the HTTP
// server shuts down. It returns nil after a clean stop.
func (s *Server) Run(ctx context.Context) error {
	ln := s.o.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Listen); err != nil {
			return fmt.Errorf("serve: listen: %w", err)
		}
	}
	s.addr = ln.Addr().String()
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	s.cron.Start()
	s.log.Info("serving", "listen", s.addr, "jobs", len(s.jobs))
	for _, js := range s.jobs {
		s.log.Info("scheduled", "job", js.Name, "mode", js.Mode, "schedule", js.Schedule, "next", s.cron.Entry(js.entry).Next)
	}
	close(s.ready)

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("serve: http: %w", err)
	}
	s.log.Info("stopping: no new run; runs in flight finish their changes")
	s.mu.Lock()
	s.stopped = true
	close(s.stopping)
	s.mu.Unlock()
	<-s.cron.Stop().Done()
	s.runs.Wait()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); serr != nil && err == nil {
		err = fmt.Errorf("serve: http shutdown: %w", serr)
	}
	s.log.Info("stopped")
	return err
}

// Ready is closed once the server listens and schedules.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the address the server listens on, once Ready.
func (s *Server) Addr() string { return s.addr }

// Trigger starts a run of job now, outside its schedule (as the schedule
// would: skipped while the job runs). It returns false for an unknown job
// or a stopped server.
func (s *Server) Trigger(job string) bool {
	js := s.byID[job]
	if js == nil {
		return false
	}
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return false
	}
	go s.run(js)
	return true
}

// run is one scheduled run of a job.
func (s *Server) run(js *jobState) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.runs.Add(1)
	s.mu.Unlock()
	defer s.runs.Done()
	if !js.busy.TryLock() {
		s.m.skipped.WithLabelValues(js.Name).Inc()
		s.log.Warn("run skipped: the previous run of the job is still going", "job", js.Name)
		return
	}
	defer js.busy.Unlock()
	if js.Jitter > 0 {
		select {
		case <-time.After(rand.N(js.Jitter)):
		case <-s.stopping:
			return
		}
	}
	s.m.running.WithLabelValues(js.Name).Set(1)
	defer s.m.running.WithLabelValues(js.Name).Set(0)
	res := s.execute(js.Job)
	s.record(js, res)
}

// Results are a job's recent results, newest first.
func (s *Server) Results(job string) []*Result {
	js := s.byID[job]
	if js == nil {
		return nil
	}
	js.rmu.Lock()
	defer js.rmu.Unlock()
	out := make([]*Result, len(js.results))
	for i, r := range js.results {
		out[len(out)-1-i] = r
	}
	return out
}

// cronLogger sends the scheduler's errors (a panicking run) to the log.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error(msg, append([]any{"error", err}, kv...)...)
}
