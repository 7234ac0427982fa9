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
	// ran is set once the one-time trigger has started the task: it is
	// not missed, so a boot does not start it again.
	ran bool
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
	if !t.hasTrigger || t.ran || d.down {
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
	t.state, t.ran = "Running", true
	d.event("task %s%s fired", t.path, t.name)
	cmd := t.execute + " " + t.argument
	d.mu.Unlock()
	p := d.StartCommand(Command{Line: cmd, User: t.user, task: t})
	p.CloseInput()
	<-p.Done()
	res := p.Result()
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

// Shutdown models the host going down: every process stops (a script
// before its next command), and with them every session; the Task
// Scheduler's timers stop, its tasks stay registered, the firewall rules
// stay (Windows keeps them in its persistent store). Nothing runs until
// Boot.
func (d *Device) Shutdown() {
	d.mu.Lock()
	d.event("shutdown")
	d.down = true
	for _, t := range d.tasks {
		if t.timer != nil {
			t.timer.Stop()
		}
		t.state = "Ready"
	}
	procs := make([]*Process, 0, len(d.procs))
	for p := range d.procs {
		procs = append(procs, p)
	}
	d.mu.Unlock()
	for _, p := range procs {
		p.Signal()
	}
}

// Boot starts the host again: every task's timer is armed again, and a
// one-time trigger missed while the host was down starts its task now
// when the task says StartWhenAvailable, as the Task Scheduler does when
// it starts.
func (d *Device) Boot() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.event("boot")
	d.down = false
	for _, t := range d.tasks {
		d.arm(t)
	}
}

// Reboot is Shutdown, then Boot.
func (d *Device) Reboot() {
	d.Shutdown()
	d.Boot()
}
