package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/fwpush/fwpush/internal/check"
)

const timeUnit = time.Millisecond

// Event is what a webhook receives, as JSON. Text is one line for chat
// tools that show a "text" field (Slack, Mattermost and compatible
// incoming webhooks).
type Event struct {
	Event   string        `json:"event"` // drift, repaired, failure
	Job     string        `json:"job"`
	System  string        `json:"system,omitempty"`
	Mode    Mode          `json:"mode"`
	At      time.Time     `json:"at"`
	Run     string        `json:"run,omitempty"` // the re-push's run in the store
	Devices []EventDevice `json:"devices,omitempty"`
	Error   string        `json:"error,omitempty"`
	Text    string        `json:"text"`
}

// EventDevice is one device an event is about.
type EventDevice struct {
	Host     string          `json:"host"`
	Status   string          `json:"status"`
	Findings []check.Finding `json:"findings,omitempty"`
}

// notify posts the run's events the webhook asks for: drift found,
// drift repaired, and failures (a device that could not be checked or
// pushed, or a job that could not load).
func (s *Server) notify(res *Result, drifted, repaired, failed []string) {
	w := s.cfg.Webhook
	if w == nil {
		return
	}
	base := Event{Job: res.Job, Mode: res.Mode, At: res.Finished}
	if res.Project != nil {
		base.System = res.Project.Playbook.Name
	}
	if res.Push != nil {
		base.Run = res.Push.Run
	}
	devices := func(hosts []string) []EventDevice {
		var out []EventDevice
		if res.Check == nil {
			return out
		}
		for _, d := range res.Check.Devices {
			if slices.Contains(hosts, d.Host) {
				out = append(out, EventDevice{Host: d.Host, Status: string(d.Status), Findings: d.Findings})
			}
		}
		return out
	}
	var events []Event
	if len(drifted) > 0 {
		e := base
		e.Event, e.Devices = EventDrift, devices(drifted)
		e.Text = fmt.Sprintf("fwpush serve: job %s: drift on %s", res.Job, strings.Join(drifted, ", "))
		events = append(events, e)
	}
	if len(repaired) > 0 {
		e := base
		e.Event, e.Devices = EventRepaired, devices(repaired)
		e.Text = fmt.Sprintf("fwpush serve: job %s: re-pushed and confirmed %s (run %s)", res.Job, strings.Join(repaired, ", "), base.Run)
		events = append(events, e)
	}
	if res.Err != nil || len(failed) > 0 {
		e := base
		e.Event = EventFailure
		var hosts []string
		if res.Check != nil {
			for _, d := range res.Check.Devices {
				if d.Status == check.Error {
					hosts = append(hosts, d.Host)
				}
			}
		}
		e.Devices = devices(hosts)
		if res.Err != nil {
			e.Error = res.Err.Error()
		}
		what := e.Error
		if len(failed) > 0 {
			what = "push failed on " + strings.Join(failed, ", ")
		}
		e.Text = fmt.Sprintf("fwpush serve: job %s failed: %s", res.Job, what)
		events = append(events, e)
	}
	for _, e := range events {
		if slices.Contains(w.On, e.Event) {
			s.post(w, e)
		}
	}
}

// post sends one event, bounded by the webhook's timeout. A failure is
// logged, never fatal; the URL is not logged whole (it often holds a
// token), only its host.
func (s *Server) post(w *Webhook, e Event) {
	body, err := json.Marshal(e)
	if err != nil {
		s.log.Error("webhook: encode", "error", err)
		return
	}
	host := "?"
	if u, err := url.Parse(w.URL); err == nil {
		host = u.Host
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		s.log.Error("webhook: request", "host", host, "error", "invalid URL")
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "fwpush-serve")
	client := s.o.Client
	if client == nil {
		client = &http.Client{Timeout: w.Timeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		// The error text of net/http quotes the URL: say only what failed.
		s.log.Error("webhook: post failed", "event", e.Event, "host", host, "error", redactURL(err.Error(), w.URL))
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		s.log.Error("webhook: refused", "event", e.Event, "host", host, "status", resp.Status)
		return
	}
	s.log.Info("webhook: sent", "event", e.Event, "host", host)
}

func redactURL(msg, u string) string { return strings.ReplaceAll(msg, u, "[webhook URL]") }
