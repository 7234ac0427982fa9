package winsim

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/netsim"
)

// User is an account allowed to log on over WinRM.
type User struct {
	Name     string // "fwpush" or "LAB\\fwpush"
	Password string
}

// Options configure a Device.
type Options struct {
	Hostname string
	Users    []User
	// Clock runs scheduled tasks; nil is real time.
	Clock netsim.Clock
	// Rules are the firewall rules the host starts with (a WinRM rule,
	// say), in any group.
	Rules []Rule
}

// Device is one simulated Windows host: its firewall, scheduled tasks,
// files and clock. Its methods are safe for concurrent use; scripts run
// one at a time, as if each held the whole machine.
type Device struct {
	hostname string
	users    []User
	clock    netsim.Clock

	// run is held while a script runs (released while it waits for
	// stdin), so every script is atomic with respect to the others.
	run sync.Mutex

	mu       sync.Mutex // guards what follows, for readers outside scripts
	rules    map[string]*Rule
	profiles []Profile
	tasks    map[string]*task
	files    map[string]string
	dirs     map[string]time.Time
	events   []string
	slow     map[string]slowCall
	onChange []func(context.Context, enforce.State) error
	watches  []*watch
	last     *enforce.State
	enfErr   error
	// procs are the processes running; down is set between Shutdown and
	// Boot.
	procs map[*Process]struct{}
	down  bool
	// selfUnregisterFails is the FailSelfUnregister fault.
	selfUnregisterFails bool
}

// slowCall is a pending SlowCmdlet.
type slowCall struct {
	delay   time.Duration
	started chan struct{}
}

// New returns a simulated host.
func New(o Options) (*Device, error) {
	d := &Device{hostname: o.Hostname, users: o.Users, clock: o.Clock, rules: map[string]*Rule{},
		profiles: defaultProfiles(), tasks: map[string]*task{}, files: map[string]string{}, dirs: map[string]time.Time{},
		slow: map[string]slowCall{}, procs: map[*Process]struct{}{}}
	if d.hostname == "" {
		d.hostname = "WINSIM"
	}
	if d.clock == nil {
		d.clock = netsim.RealClock{}
	}
	for _, dir := range []string{`C:\`, `C:\ProgramData`, `C:\Windows`, `C:\Windows\Temp`} {
		d.dirs[strings.ToLower(dir)] = d.clock.Now()
	}
	for i := range o.Rules {
		r := o.Rules[i]
		if err := checkRule(&r); err != nil {
			return nil, fmt.Errorf("winsim: rule %s: %w", r.Name, err)
		}
		d.rules[strings.ToLower(r.Name)] = &r
	}
	return d, nil
}

// Clock returns the device's clock.
func (d *Device) Clock() netsim.Clock { return d.clock }

// OnChange registers f to be called, with the host's new enforce.State,
// after every change of its firewall that changes what it enforces (and
// once at once with the current state). An error from f is kept: see
// EnforceError.
func (d *Device) OnChange(ctx context.Context, f func(context.Context, enforce.State) error) error {
	d.mu.Lock()
	d.onChange = append(d.onChange, f)
	st := d.state()
	d.mu.Unlock()
	return f(ctx, st)
}

// changed runs the OnChange callbacks when the enforced state moved.
// Called with d.mu held.
func (d *Device) changed() {
	st := d.state()
	if d.last != nil && reflect.DeepEqual(*d.last, st) {
		return
	}
	d.last = &st
	for _, w := range d.watches {
		w.seen = append(w.seen, Change{At: time.Now(), State: st})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, f := range d.onChange {
		if err := f(ctx, st); err != nil && d.enfErr == nil {
			d.enfErr = err
		}
	}
}

// EnforceError is the first error an OnChange callback returned.
func (d *Device) EnforceError() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.enfErr
}

// Rules returns the host's firewall rules, sorted by name.
func (d *Device) Rules() []Rule {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Rule
	for _, n := range d.ruleOrder() {
		out = append(out, *d.rules[strings.ToLower(n)])
	}
	return out
}

// State returns what the host enforces now.
func (d *Device) State() enforce.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state()
}

// SetProfile changes a firewall profile (what an administrator would do
// with Set-NetFirewallProfile).
func (d *Device) SetProfile(p Profile) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.profiles {
		if d.profiles[i].Name == p.Name {
			d.profiles[i] = p
		}
	}
	d.changed()
}

// File returns a file's content, if it exists.
func (d *Device) File(path string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.files[normPath(path)]
	return s, ok
}

// Events lists what happened, oldest first: scripts run, tasks
// registered, fired and removed.
func (d *Device) Events() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.events...)
}

func (d *Device) event(format string, args ...any) {
	d.events = append(d.events, d.clock.Now().UTC().Format(time.RFC3339)+" "+fmt.Sprintf(format, args...))
}

// SlowCmdlet makes the next call of cmdlet stall for delay before it runs
// (a slow disk, a busy service), so tests can act while a script is in the
// middle of its work. The channel it returns is closed when the stall
// begins.
func (d *Device) SlowCmdlet(cmdlet string, delay time.Duration) <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	started := make(chan struct{})
	d.slow[strings.ToLower(cmdlet)] = slowCall{delay: delay, started: started}
	return started
}

func (d *Device) stall(cmdlet string) {
	d.mu.Lock()
	s, ok := d.slow[strings.ToLower(cmdlet)]
	delete(d.slow, strings.ToLower(cmdlet))
	if ok {
		d.event("stall %s %v", cmdlet, s.delay)
		close(s.started)
	}
	d.mu.Unlock()
	if ok {
		time.Sleep(s.delay)
	}
}

// Change is a state the host enforced from At (wall-clock time). Idle
// marks the end of a script: the host rests in State until the next one.
type Change struct {
	At    time.Time
	State enforce.State
	Idle  bool
}

type watch struct{ seen []Change }

// Watch records what the host enforces, now, after every change and at
// the end of every script, until the returned stop is called; stop returns
// the record.
func (d *Device) Watch() (stop func() []Change) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := &watch{seen: []Change{{At: time.Now(), State: d.state()}}}
	d.watches = append(d.watches, w)
	return func() []Change {
		d.mu.Lock()
		defer d.mu.Unlock()
		for i, x := range d.watches {
			if x == w {
				d.watches = append(d.watches[:i], d.watches[i+1:]...)
				break
			}
		}
		return w.seen
	}
}

// idle records, for the watches, that a script ended. Called with d.mu
// held.
func (d *Device) idle() {
	if len(d.watches) == 0 {
		return
	}
	st := d.state()
	for _, w := range d.watches {
		w.seen = append(w.seen, Change{At: time.Now(), State: st, Idle: true})
	}
}

// Files returns every file on the host, by lower-case path.
func (d *Device) Files() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]string, len(d.files))
	for k, v := range d.files {
		out[k] = v
	}
	return out
}

// Dirs lists the host's directories, by lower-case path, sorted.
func (d *Device) Dirs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.dirs))
	for k := range d.dirs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FailSelfUnregister makes Unregister-ScheduledTask fail ("access
// denied") when a task's own run tries to unregister that task: whether a
// running task can remove itself is not something fwpush can take for
// granted on every Windows build.
func (d *Device) FailSelfUnregister(fail bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.selfUnregisterFails = fail
}

func (d *Device) env(name string) (value, bool) {
	switch name {
	case "programdata":
		return `C:\ProgramData`, true
	case "computername":
		return d.hostname, true
	case "systemroot", "windir":
		return `C:\Windows`, true
	case "os":
		return "Windows_NT", true
	}
	return nil, false
}

// normPath makes a path a map key: Windows paths are case-insensitive.
func normPath(p string) string {
	p = strings.ReplaceAll(p, "/", `\`)
	for strings.Contains(p, `\\`) {
		p = strings.ReplaceAll(p, `\\`, `\`)
	}
	if len(p) > 3 {
		p = strings.TrimSuffix(p, `\`)
	}
	return strings.ToLower(p)
}

func parentDir(p string) string {
	i := strings.LastIndex(p, `\`)
	if i <= 2 {
		return p[:3]
	}
	return p[:i]
}
