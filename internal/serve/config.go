package serve

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// Mode is what a job does with drift.
type Mode string

// Modes.
const (
	// CheckOnly reports: it reads, never pushes.
	CheckOnly Mode = "check"
	// Repush pushes, commit-confirmed, the devices whose own part drifted
	// (and only those), in the playbook's waves.
	Repush Mode = "repush"
)

// Config is a serve.yaml: where to listen, the run store, the webhook and
// the jobs.
type Config struct {
	File string
	// Listen is the HTTP address of /metrics, /healthz and the web UI.
	Listen string
	// State is the run store (a bbolt file or a postgres:// URL); the
	// --state flag wins over it, and it over $FWPUSH_STATE.
	State   string
	Webhook *Webhook
	Jobs    []Job
}

// Webhook is where events are POSTed as JSON.
type Webhook struct {
	URL string
	// On lists the events sent: drift, repaired, failure (default: drift
	// and failure).
	On      []string
	Timeout time.Duration
}

// Events a webhook may be sent.
const (
	EventDrift    = "drift"
	EventRepaired = "repaired"
	EventFailure  = "failure"
)

// Job is one scheduled compliance run.
type Job struct {
	Name      string
	Inventory string
	Playbook  string
	Limit     string
	// Schedule is cron syntax: five fields, or six with seconds first, or
	// a descriptor (@hourly, @every 10m); CRON_TZ= sets the zone.
	Schedule string
	Mode     Mode
	// Jitter delays each run by a random duration below it, so that many
	// controllers (or jobs) on one schedule do not start together.
	Jitter time.Duration
	// Timeout bounds a run: its reads are cancelled, and a re-push stops
	// starting devices (those in flight finish their change).
	Timeout time.Duration
	// ConfirmTimeout is the device-side revert delay of a re-push (the
	// playbook's push.confirm_timeout, else 120s, when unset).
	ConfirmTimeout time.Duration

	schedule cron.Schedule
}

type rawJob struct {
	Name           string `yaml:"name"`
	Inventory      string `yaml:"inventory"`
	Playbook       string `yaml:"playbook"`
	Limit          string `yaml:"limit"`
	Schedule       string `yaml:"schedule"`
	Mode           string `yaml:"mode"`
	Jitter         string `yaml:"jitter"`
	Timeout        string `yaml:"timeout"`
	ConfirmTimeout string `yaml:"confirm_timeout"`
}

type rawConfig struct {
	Listen  string `yaml:"listen"`
	State   string `yaml:"state"`
	Webhook *struct {
		URL     string   `yaml:"url"`
		On      []string `yaml:"on"`
		Timeout string   `yaml:"timeout"`
	} `yaml:"webhook"`
	Jobs []rawJob `yaml:"jobs"`
}

// DefaultListen is where serve listens when the config names nowhere:
// this machine only (the UI has no authentication of its own).
const DefaultListen = "127.0.0.1:9464"

// Defaults of a job.
const (
	DefaultTimeout        = 15 * time.Minute
	DefaultConfirmTimeout = 120 * time.Second
)

// scheduleParser accepts five fields, an optional leading seconds field
// (a 10-second schedule is "*/10 * * * * *") and descriptors.
var scheduleParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var jobName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// LoadConfig reads and checks a serve.yaml. Every problem is reported at
// once, each as file:line:col: field: message. Relative inventory and
// playbook paths are relative to the config file's directory.
func LoadConfig(path string) (*Config, error) {
	data, err := yamlsrc.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses a serve.yaml read from file.
func ParseConfig(file string, data []byte) (*Config, error) {
	doc, err := yamlsrc.Parse(file, data)
	if err != nil {
		return nil, err
	}
	var raw rawConfig
	if err := doc.Decode(&raw); err != nil {
		return nil, err
	}
	var errs []error
	bad := func(path []any, format string, args ...any) { errs = append(errs, doc.Errorf(path, format, args...)) }
	dur := func(path []any, s string, def time.Duration, min time.Duration) time.Duration {
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			bad(path, "%s: want a duration such as 30s, 10m or 1h", yamlsrc.Quote(s))
		case d < min:
			bad(path, "%s: want at least %s", s, min)
		}
		return d
	}
	cfg := &Config{File: file, Listen: raw.Listen, State: raw.State}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	} else if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		bad([]any{"listen"}, "listen %s: want host:port (127.0.0.1:9464, [::1]:9464, :9464)", yamlsrc.Quote(cfg.Listen))
	}
	if w := raw.Webhook; w != nil {
		cfg.Webhook = &Webhook{URL: w.URL, On: w.On}
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL itself is not repeated: webhook URLs carry tokens.
			bad([]any{"webhook", "url"}, "webhook url: want an http:// or https:// URL")
		}
		if len(cfg.Webhook.On) == 0 {
			cfg.Webhook.On = []string{EventDrift, EventFailure}
		}
		for i, e := range cfg.Webhook.On {
			if e != EventDrift && e != EventRepaired && e != EventFailure {
				bad([]any{"webhook", "on", i}, "event %s: want drift, repaired or failure", yamlsrc.Quote(e))
			}
		}
		cfg.Webhook.Timeout = dur([]any{"webhook", "timeout"}, w.Timeout, 10*time.Second, time.Second)
	}
	if len(raw.Jobs) == 0 {
		bad([]any{"jobs"}, "no jobs: list at least one (name, inventory, playbook, schedule, mode)")
	}
	dir := filepath.Dir(file)
	seen := map[string]bool{}
	for i, rj := range raw.Jobs {
		at := func(field ...any) []any { return append([]any{"jobs", i}, field...) }
		j := Job{Name: rj.Name, Inventory: rj.Inventory, Playbook: rj.Playbook, Limit: rj.Limit, Schedule: rj.Schedule,
			Mode: Mode(rj.Mode)}
		switch {
		case !jobName.MatchString(j.Name):
			bad(at("name"), "job name %s: use lower-case letters, digits, '.', '_' and '-' (up to 63)", yamlsrc.Quote(j.Name))
		case seen[j.Name]:
			bad(at("name"), "job %s is listed twice", yamlsrc.Quote(j.Name))
		}
		seen[j.Name] = true
		if j.Inventory == "" {
			bad(at(), "job needs an inventory (a directory)")
		} else if !filepath.IsAbs(j.Inventory) {
			j.Inventory = filepath.Join(dir, j.Inventory)
		}
		if j.Playbook == "" {
			bad(at(), "job needs a playbook (a file)")
		} else if !filepath.IsAbs(j.Playbook) {
			j.Playbook = filepath.Join(dir, j.Playbook)
		}
		if j.Schedule == "" {
			bad(at(), "job needs a schedule (cron syntax: \"*/15 * * * *\", \"@every 10m\")")
		} else if j.schedule, err = scheduleParser.Parse(j.Schedule); err != nil {
			bad(at("schedule"), "schedule %s: %v", yamlsrc.Quote(j.Schedule), err)
		}
		switch j.Mode {
		case CheckOnly, Repush:
		case "":
			bad(at(), "job needs a mode: check (report only) or repush (push the drifted devices)")
		default:
			bad(at("mode"), "mode %s: want check or repush", yamlsrc.Quote(rj.Mode))
		}
		j.Jitter = dur(at("jitter"), rj.Jitter, 0, 0)
		j.Timeout = dur(at("timeout"), rj.Timeout, DefaultTimeout, time.Second)
		if rj.ConfirmTimeout != "" {
			j.ConfirmTimeout = dur(at("confirm_timeout"), rj.ConfirmTimeout, 0, 0)
			if err := policy.CheckConfirmTimeout("confirm_timeout", j.ConfirmTimeout); err != nil {
				bad(at("confirm_timeout"), "%v", err)
			}
		}
		cfg.Jobs = append(cfg.Jobs, j)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// Repushes says whether any job pushes (and so needs a writable store).
func (c *Config) Repushes() bool {
	for _, j := range c.Jobs {
		if j.Mode == Repush {
			return true
		}
	}
	return false
}
