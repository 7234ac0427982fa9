package testbed

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// DefaultRootLink is the root-namespace interface WithRootLink("") creates.
const DefaultRootLink = "fwp0"

// Option configures Start.
type Option func(*config) error

type config struct {
	prefix       string
	dir          string
	rootLink     string
	controller   bool
	sshdExtra    []string
	listener     []string
	parallel     int
	readyTimeout time.Duration
	detach       bool
	// failHost makes that host's setup fail after its sshd is up; tests use
	// it to prove a partial Start cleans up.
	failHost string
	// masks are the directories hidden from lab hosts (maskedRun; tests
	// substitute their own).
	masks []string
	// segments and routers make a routed lab (segment.go).
	segments []SegmentSpec
	routers  []RouterSpec
}

func defaultConfig() config {
	return config{parallel: 16, readyTimeout: 10 * time.Second, masks: maskedRun}
}

var ifNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)

// WithPrefix namespaces the lab: its namespaces become fwp-PREFIX-HOST, so
// labs with different prefixes coexist and Sweep(PREFIX) finds leftovers.
// A prefix is 1–16 lowercase letters or digits.
func WithPrefix(prefix string) Option {
	return func(c *config) error {
		if !prefixRE.MatchString(prefix) {
			return fmt.Errorf("prefix %q: must match %s", prefix, prefixRE)
		}
		c.prefix = prefix
		return nil
	}
}

// WithDir sets the lab's state directory (keys, sshd configs, logs,
// lab.json). It must be absent or empty; Close removes it. By default Start
// uses a new temporary directory.
func WithDir(path string) Option {
	return func(c *config) error {
		if path == "" {
			return errors.New("WithDir: empty path")
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("WithDir: %w", err)
		}
		c.dir = abs
		return nil
	}
}

// WithRootLink connects the namespace Start runs in (normally the root
// namespace) to the lab: one veth end called name (DefaultRootLink when
// empty) with 198.18.0.1/15 and 2001:db8::1/32 and their connected routes,
// nothing else. It is for `make lab-up`, so a user's shell reaches the lab.
// Start refuses when the lab's prefixes are already routed there.
func WithRootLink(name string) Option {
	return func(c *config) error {
		if name == "" {
			name = DefaultRootLink
		}
		if !ifNameRE.MatchString(name) {
			return fmt.Errorf("root link %q: must match %s", name, ifNameRE)
		}
		c.rootLink = name
		return nil
	}
}

// WithController adds a controller namespace (fwp[-PREFIX]-ctl) holding
// 198.18.0.1/15 and 2001:db8::1/32, from which DialContext and
// Exec(ctx, Controller, …) reach the hosts. Tests use it instead of a root
// link so the root namespace stays untouched.
func WithController() Option {
	return func(c *config) error {
		c.controller = true
		return nil
	}
}

// WithSSHDConfig adds lines to every host's sshd_config, e.g.
// "ClientAliveInterval 1" or "MaxStartups 3:50:6". They come before the
// lab's own lines, and sshd keeps the first value of a keyword, so they
// override the lab's defaults. Match blocks are refused: they would swallow
// the lab's lines that follow.
func WithSSHDConfig(lines ...string) Option {
	return func(c *config) error {
		for _, l := range lines {
			if strings.ContainsAny(l, "\r\n") {
				return fmt.Errorf("sshd_config line %q: one line each", l)
			}
			if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], "Match") {
				return fmt.Errorf("sshd_config line %q: Match blocks are not supported", l)
			}
		}
		c.sshdExtra = append(c.sshdExtra, lines...)
		return nil
	}
}

// WithListener sets the command that runs the probe listener; the lab
// appends -name/-addr/-tcp/-udp flags (see package testbed/internal/listen).
// By default the lab builds testbed/cmd/fwp-listen once per process with
// `go build`, which needs the Go toolchain and the fwpush module as the
// working directory (true under `go test`).
func WithListener(argv ...string) Option {
	return func(c *config) error {
		if len(argv) == 0 || argv[0] == "" {
			return errors.New("WithListener: empty command")
		}
		c.listener = append([]string(nil), argv...)
		return nil
	}
}

// WithParallel bounds how many hosts are set up at once (default 16).
func WithParallel(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 256 {
			return fmt.Errorf("WithParallel(%d): want 1..256", n)
		}
		c.parallel = n
		return nil
	}
}

// WithReadyTimeout bounds how long Start waits for one host's sshd and
// listener to accept (default 10s).
func WithReadyTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 || d > 5*time.Minute {
			return fmt.Errorf("WithReadyTimeout(%s): want (0, 5m]", d)
		}
		c.readyTimeout = d
		return nil
	}
}

// WithDetach lets the lab's processes outlive the process that called
// Start (own session, no parent-death signal), for `fwp-lab up`. Without it
// they are killed when their parent dies, so a crashed test leaves no
// daemons behind (namespaces remain for Sweep).
func WithDetach() Option {
	return func(c *config) error {
		c.detach = true
		return nil
	}
}

func withFailHost(host string) Option {
	return func(c *config) error {
		c.failHost = host
		return nil
	}
}

func withMasks(dirs ...string) Option {
	return func(c *config) error {
		c.masks = dirs
		return nil
	}
}
