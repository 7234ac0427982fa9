package winsim

import (
	"strings"
	"time"

	"github.com/fwpush/fwpush/testbed/netsim"
)

// task is a registered scheduled task with a one-time trigger.
type task struct {
	path, name         string
	execute, argument  string
	at                 time.Time
	hasTrigger         bool
	startWhenAvailable bool
	user               string
	state              string // Ready, Running
	timer              netsim.Timer
	lastResult         int
}

func taskKey(path, name string) string { return strings.ToLower(path + name) }

// TaskInfo is what Tasks reports.
type TaskInfo struct {
	Path, Name, User, State string
	At                      time.Time
	LastResult              int
}

// Tasks lists the registered scheduled tasks.
func (d *Device) Tasks() []TaskInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []TaskInfo
	for _, t := range d.tasks {
		out = append(out, TaskInfo{Path: t.path, Name: t.name, User: t.user, State: t.state, At: t.at, LastResult: t.lastResult})
	}
	return out
}

// arm starts t's timer. Called with d.mu held.
func (d *Device) arm(t *task) {
	if !t.hasTrigger {
		return
	}
	wait := t.at.Sub(d.clock.Now())
	if wait < 0 {
		if !t.startWhenAvailable {
			return // a one-time trigger in the past never fires
		}
		wait = 0
	}
	key := taskKey(t.path, t.name)
	t.timer = d.clock.AfterFunc(wait, func() { d.fire(key, t) })
}

// fire runs a task's action as its user, like the Task Scheduler service:
// outside any WinRM session, so it survives them.
func (d *Device) fire(key string, t *task) {
	d.mu.Lock()
	if d.tasks[key] != t {
		d.mu.Unlock()
		return // unregistered or replaced meanwhile
	}
	t.state = "Running"
	d.event("task %s%s fired", t.path, t.name)
	cmd := t.execute + " " + t.argument
	d.mu.Unlock()
	res := d.Run(cmd, t.user, nil)
	d.mu.Lock()
	defer d.mu.Unlock()
	t.lastResult = res.ExitCode
	if d.tasks[key] == t {
		t.state = "Ready"
	}
	d.event("task %s%s exited %d%s", t.path, t.name, res.ExitCode, firstLine(res.Stderr))
}

func firstLine(s string) string {
	if s == "" {
		return ""
	}
	s, _, _ = strings.Cut(s, "\n")
	return ": " + s
}

// Reboot models a restart: every process and session is gone; tasks stay
// registered, and a one-time trigger missed while down runs at boot when
// the task says StartWhenAvailable.
func (d *Device) Reboot() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.event("reboot")
	for _, t := range d.tasks {
		if t.timer != nil {
			t.timer.Stop()
		}
		t.state = "Ready"
		d.arm(t)
	}
}
