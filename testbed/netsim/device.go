package netsim

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/testbed/enforce"
)

// Platform names a simulated CLI dialect, spelled as scrapligo spells the
// platform that drives it.
type Platform string

// Platforms.
const (
	PlatformIOSXE Platform = "cisco_iosxe"
	PlatformNXOS  Platform = "cisco_nxos"
	PlatformEOS   Platform = "arista_eos"
)

// User is a login account of the simulated device.
type User struct {
	Name     string
	Password string // empty: no password login
	// AuthorizedKeys may log in with public-key authentication.
	AuthorizedKeys []ssh.PublicKey
	// Privilege 15 lands in privileged exec (`R1#`); lower levels land in
	// user exec (`R1>`) and need `enable`. NX-OS always lands in `#`.
	Privilege int
}

// Options configure a Device.
type Options struct {
	Platform Platform
	Hostname string
	// Config is the initial running (and startup) configuration in the
	// dialect's own syntax. Blocks the simulator does not model are kept
	// verbatim. Empty: a minimal configuration with the mapped interfaces.
	Config string
	// Interfaces maps device interface names (GigabitEthernet0/1,
	// Ethernet1/1, Ethernet1) to the Linux interface that enforces their
	// ACLs in the lab namespace. Each one exists in the configuration.
	Interfaces map[string]string
	Users      []User
	// EnableSecret is the password `enable` asks for.
	EnableSecret string
	// Clock drives device-side timers; nil means RealClock.
	Clock Clock
}

// Event is one entry of the device's event log.
type Event struct {
	Time   time.Time
	Kind   string
	Detail string
}

// PendingTimer is a device-side timer that has not fired yet.
type PendingTimer struct {
	Kind     string // ios-revert, eos-commit-timer, nxos-eem-countdown
	Name     string
	Deadline time.Time
}

// Device is one simulated router or switch: its configurations, its
// device-side timers and its SSH-facing CLI sessions share it.
type Device struct {
	mu      sync.Mutex
	opts    Options
	d       dialect
	clock   Clock
	running *Config
	startup *Config
	files   map[string]*Config // flash:/bootflash: files (IOS archive, copies)
	events  []Event
	nextSes int

	configCmds   int
	mutatingCmds int
	rejectLine   int
	failCommit   bool
	atLine       int
	atLineF      func()
	onLine       func(line string) bool

	// per-dialect state
	ios  iosState
	eos  eosState
	nxos nxosState

	cbMu      sync.Mutex
	callbacks []func(enforce.State)
	lastState *enforce.State
	dirty     bool

	sessions map[*session]bool
}

// NewDevice builds a device from opts; it fails when the initial
// configuration does not parse in the dialect.
func NewDevice(opts Options) (*Device, error) {
	d, err := dialectFor(opts.Platform)
	if err != nil {
		return nil, err
	}
	if opts.Hostname == "" {
		return nil, errors.New("netsim: Options.Hostname is empty")
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	dev := &Device{
		opts:     opts,
		d:        d,
		clock:    opts.Clock,
		files:    map[string]*Config{},
		sessions: map[*session]bool{},
	}
	cfg, err := loadConfig(dev, opts.Config)
	if err != nil {
		return nil, fmt.Errorf("netsim: %s: initial config: %w", opts.Hostname, err)
	}
	if cfg.Hostname == "" {
		// Devices always print their hostname.
		cfg.Hostname = opts.Hostname
		cfg.place(secHostname, "hostname", d.order())
	}
	names := make([]string, 0, len(opts.Interfaces))
	for n := range opts.Interfaces {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if cfg.iface(n) == nil {
			cfg.ifaces[n] = &Interface{Name: n}
			cfg.place(secIface, n, d.order())
		}
	}
	dev.running = cfg
	dev.startup = cfg.clone()
	dev.logf("boot", "%s simulator up as %s", opts.Platform, cfg.Hostname)
	return dev, nil
}

// Platform is the simulated dialect.
func (dev *Device) Platform() Platform { return dev.opts.Platform }

// Clock is the clock the device's timers run on.
func (dev *Device) Clock() Clock { return dev.clock }

// OnChange registers f to receive the enforce.State after every change of
// the running configuration that changes it (and the current state at
// once). Calls are serialized and in order.
func (dev *Device) OnChange(f func(enforce.State)) {
	dev.mu.Lock()
	st := buildState(dev.running, dev.d, dev.opts.Interfaces)
	dev.mu.Unlock()
	dev.cbMu.Lock()
	defer dev.cbMu.Unlock()
	dev.callbacks = append(dev.callbacks, f)
	f(st)
}

// State is the enforce.State of the current running configuration.
func (dev *Device) State() enforce.State {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	return buildState(dev.running, dev.d, dev.opts.Interfaces)
}

// RunningConfig is the running configuration as `show running-config`
// prints it.
func (dev *Device) RunningConfig() string {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	return dev.d.renderConfig(dev, dev.running)
}

// StartupConfig is the startup configuration as `show startup-config`
// prints it.
func (dev *Device) StartupConfig() string {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	return dev.d.renderConfig(dev, dev.startup)
}

// ConfigModeCommands counts the lines received in any configuration mode,
// including the commands that enter one (RELIABILITY A12: a dry run sends
// none).
func (dev *Device) ConfigModeCommands() int {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	return dev.configCmds
}

// MutatingCommands counts exec-mode commands that change device state
// (write memory, copy, checkpoint, rollback, configure confirm/revert,
// session commit/abort).
func (dev *Device) MutatingCommands() int {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	return dev.mutatingCmds
}

// Events is a copy of the event log.
func (dev *Device) Events() []Event {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	return append([]Event(nil), dev.events...)
}

// RejectLine arms a fault: line n (1-based) of the next configuration block
// — the lines after `configure terminal` or `configure session` — is
// refused with the dialect's invalid-input error, as if the device did not
// accept it. What happens to the other lines is what the real platform
// does: applied one by one in IOS `configure terminal`, kept private in an
// EOS or NX-OS session.
func (dev *Device) RejectLine(n int) {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	dev.rejectLine = n
	dev.logf("fault", "reject line %d of the next config block", n)
}

// AtConfigLine arms a hook: f runs when line n (1-based) of the next
// configuration block arrives, before the device takes the line; a test
// cuts a link there to fail a change half-way. f runs with the device
// locked: it must not use the device.
func (dev *Device) AtConfigLine(n int, f func()) {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	dev.atLine, dev.atLineF = n, f
	dev.logf("fault", "hook at line %d of the next config block", n)
}

// OnConfigLine arms a hook: f sees every line typed in a configuration
// mode, before the device takes it, until it returns true. It runs with
// the device locked: it must not use the device (start a goroutine to).
func (dev *Device) OnConfigLine(f func(line string) bool) {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	dev.onLine = f
}

// FailNextCommit arms a fault: the next NX-OS configuration-session commit
// (or verify) fails, and nothing of the session is applied.
func (dev *Device) FailNextCommit() {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	dev.failCommit = true
	dev.logf("fault", "fail the next session commit")
}

// PendingTimers lists the device-side timers not yet fired.
func (dev *Device) PendingTimers() []PendingTimer {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	var out []PendingTimer
	if t := dev.ios.revert; t != nil {
		out = append(out, PendingTimer{Kind: "ios-revert", Name: t.archive, Deadline: t.deadline})
	}
	for _, s := range dev.eos.sessions {
		if s.timer != nil {
			out = append(out, PendingTimer{Kind: "eos-commit-timer", Name: s.name, Deadline: s.deadline})
		}
	}
	for _, a := range dev.nxos.armed {
		out = append(out, PendingTimer{Kind: "nxos-eem-countdown", Name: a.name, Deadline: a.deadline})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Deadline.Before(out[j].Deadline) })
	return out
}

// Reload simulates a reboot: every CLI session is dropped, pending timers
// are lost and the running configuration becomes the startup one.
func (dev *Device) Reload() {
	dev.mu.Lock()
	for s := range dev.sessions {
		s.kill()
	}
	dev.cancelTimersLocked()
	// Configuration sessions live in memory: a reboot loses them.
	dev.eos.sessions, dev.eos.order = nil, nil
	dev.nxos.sessions, dev.nxos.order = nil, nil
	dev.running = dev.startup.clone()
	dev.dirty = true
	dev.logf("reload", "running-config loaded from startup-config")
	dev.mu.Unlock()
	dev.deliver()
}

// Exec runs one command line as a privileged, non-interactive session
// would (no paging) and returns its output: a test's look at the device
// without SSH. It counts like any other command.
func (dev *Device) Exec(line string) string {
	s := dev.newSession("admin", 15, "internal", nil)
	defer dev.closeSession(s)
	return s.input(line)
}

func (dev *Device) logf(kind, format string, a ...any) {
	dev.events = append(dev.events, Event{Time: dev.clock.Now(), Kind: kind, Detail: fmt.Sprintf(format, a...)})
}

// setRunning replaces the running configuration (revert, rollback,
// commit); the caller holds mu and calls deliver after unlocking.
func (dev *Device) setRunning(c *Config) {
	dev.running = c
	dev.dirty = true
}

// deliver hands the new enforce.State to the callbacks when the running
// configuration changed since the last delivery. Called without mu held.
func (dev *Device) deliver() {
	dev.cbMu.Lock()
	defer dev.cbMu.Unlock()
	dev.mu.Lock()
	if !dev.dirty {
		dev.mu.Unlock()
		return
	}
	dev.dirty = false
	st := buildState(dev.running, dev.d, dev.opts.Interfaces)
	dev.mu.Unlock()
	if dev.lastState != nil && reflect.DeepEqual(*dev.lastState, st) {
		return
	}
	dev.lastState = &st
	for _, f := range dev.callbacks {
		f(st)
	}
}

func (dev *Device) cancelTimersLocked() {
	if dev.ios.revert != nil {
		dev.ios.revert.t.Stop()
		dev.ios.revert = nil
	}
	for _, s := range dev.eos.sessions {
		if s.timer != nil {
			s.timer.Stop()
			s.timer = nil
		}
	}
	for n, a := range dev.nxos.armed {
		a.t.Stop()
		delete(dev.nxos.armed, n)
	}
}

func (dev *Device) newSession(user string, priv int, tty string, w func(string)) *session {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	dev.nextSes++
	s := &session{
		dev: dev, d: dev.d, id: dev.nextSes, user: user, priv: priv, tty: tty,
		termLen: 24, termWidth: 80, async: w,
	}
	s.mode = dev.d.initialMode(priv)
	dev.sessions[s] = true
	return s
}

func (dev *Device) closeSession(s *session) {
	dev.mu.Lock()
	delete(dev.sessions, s)
	dev.d.sessionClosed(s)
	dev.mu.Unlock()
}

func (dev *Device) hostname() string { return dev.running.Hostname }
