package winsim

import (
	"fmt"
	"strings"
	"time"
)

const taskClass = "MSFT_ScheduledTask"

func taskObject(t *task) *psObject {
	return &psObject{typeName: "Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_ScheduledTask",
		props: objProps("TaskName", t.name, "TaskPath", t.path, "State", t.state), native: t}
}

func registerTasks() {
	register(
		&cmdlet{name: "New-ScheduledTaskAction", params: []param{strp("Execute", 0, true), strp("Argument", 1, false), strp("WorkingDirectory", -1, false)},
			run: func(in *interp, b *bound) []value {
				return []value{newObject("Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_TaskExecAction",
					"Execute", b.str("Execute"), "Arguments", b.str("Argument"), "WorkingDirectory", b.str("WorkingDirectory"))}
			}},
		&cmdlet{name: "New-ScheduledTaskTrigger", params: []param{sw("Once"), {name: "At", kind: kDate, position: -1}},
			run: func(in *interp, b *bound) []value {
				if !b.flag("Once") || !b.has("At") {
					in.fail(&psError{msg: invented + "only -Once -At triggers are modelled", category: "NotImplemented", fqid: "NotModelled"})
				}
				return []value{newObject("Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_TaskTimeTrigger",
					"StartBoundary", b.vals["At"].(time.Time).Format("2006-01-02T15:04:05"), "at", b.vals["At"])}
			}},
		&cmdlet{name: "New-ScheduledTaskPrincipal", params: []param{strp("UserId", -1, true),
			enum("LogonType", "LogonTypeEnum", false, "None", "Password", "S4U", "Interactive", "Group", "ServiceAccount", "InteractiveOrPassword"),
			enum("RunLevel", "RunLevelEnum", false, "Limited", "Highest")},
			run: func(in *interp, b *bound) []value {
				return []value{newObject("Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_TaskPrincipal2",
					"UserId", b.str("UserId"), "LogonType", b.str("LogonType"), "RunLevel", b.str("RunLevel"))}
			}},
		&cmdlet{name: "New-ScheduledTaskSettingsSet", params: []param{sw("StartWhenAvailable"), sw("AllowStartIfOnBatteries"), sw("DontStopIfGoingOnBatteries")},
			run: func(in *interp, b *bound) []value {
				return []value{newObject("Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/MSFT_TaskSettings3",
					"StartWhenAvailable", b.flag("StartWhenAvailable"))}
			}},
		&cmdlet{name: "Register-ScheduledTask", params: []param{strp("TaskName", 0, true), strp("TaskPath", 1, false),
			{name: "Action", kind: kObject, position: -1, mandatory: true}, {name: "Trigger", kind: kObject, position: -1},
			{name: "Principal", kind: kObject, position: -1}, {name: "Settings", kind: kObject, position: -1},
			strp("Description", -1, false), sw("Force")},
			run: func(in *interp, b *bound) []value {
				d := in.dev
				path := b.str("TaskPath")
				if path == "" {
					path = `\`
				}
				if !strings.HasPrefix(path, `\`) || !strings.HasSuffix(path, `\`) {
					in.cmdError(b.action, &psError{msg: "The specified path is invalid.", category: "InvalidArgument", fqid: "HRESULT 0x800700a1,Register-ScheduledTask"})
					return nil
				}
				t := &task{path: path, name: b.str("TaskName"), state: "Ready", user: "SYSTEM"}
				acts := enumerate(b.vals["Action"])
				act, ok := acts[0].(*psObject)
				if len(acts) != 1 || !ok {
					in.fail(&psError{msg: invented + "exactly one action made by New-ScheduledTaskAction is modelled", category: "NotImplemented", fqid: "NotModelled"})
				}
				t.execute, t.argument = toString(objGet(act, "Execute")), toString(objGet(act, "Arguments"))
				if tr, ok := b.vals["Trigger"].(*psObject); ok {
					t.at, t.hasTrigger = objGet(tr, "at").(time.Time), true
				}
				if p, ok := b.vals["Principal"].(*psObject); ok {
					t.user = toString(objGet(p, "UserId"))
				}
				if s, ok := b.vals["Settings"].(*psObject); ok {
					t.startWhenAvailable = truthy(objGet(s, "StartWhenAvailable"))
				}
				d.mu.Lock()
				defer d.mu.Unlock()
				key := taskKey(t.path, t.name)
				if old, ok := d.tasks[key]; ok {
					if !b.flag("Force") {
						in.cmdError(b.action, &psError{msg: "Cannot create a file when that file already exists.", category: "ResourceExists", fqid: "HRESULT 0x800700b7,Register-ScheduledTask"})
						return nil
					}
					if old.timer != nil {
						old.timer.Stop()
					}
				}
				d.tasks[key] = t
				d.arm(t)
				d.event("task %s%s registered for %s as %s", t.path, t.name, t.at.UTC().Format(time.RFC3339), t.user)
				return []value{taskObject(t)}
			}},
		&cmdlet{name: "Get-ScheduledTask", params: []param{strsp("TaskName", 0), strsp("TaskPath", 1)},
			run: func(in *interp, b *bound) []value {
				ts := in.selectTasks(b, "Get-ScheduledTask")
				var out []value
				for _, t := range ts {
					out = append(out, taskObject(t))
				}
				return out
			}},
		&cmdlet{name: "Unregister-ScheduledTask", shouldProcess: true, params: []param{strsp("TaskName", 0), strsp("TaskPath", 1), pipeObj("InputObject", -1, false)},
			run: func(in *interp, b *bound) []value {
				if !b.has("Confirm") || b.flag("Confirm") {
					in.fail(&psError{msg: invented + "Unregister-ScheduledTask would ask for confirmation: a non-interactive session fails here; pass -Confirm:$false", category: "NotImplemented", fqid: "NotModelled"})
				}
				d := in.dev
				for _, t := range in.selectTasks(b, "Unregister-ScheduledTask") {
					d.mu.Lock()
					if d.selfUnregisterFails && in.proc != nil && in.proc.task == t {
						d.event("task %s%s: its own run could not unregister it", t.path, t.name)
						d.mu.Unlock()
						in.cmdError(b.action, &psError{msg: "Access is denied. (" + invented + "fault injected: a task's own run cannot unregister it)",
							category: "PermissionDenied", fqid: "HRESULT 0x80070005,Unregister-ScheduledTask", target: t.name})
						continue
					}
					if t.timer != nil {
						t.timer.Stop()
					}
					delete(d.tasks, taskKey(t.path, t.name))
					d.event("task %s%s unregistered", t.path, t.name)
					d.mu.Unlock()
				}
				return nil
			}},
	)
}

func objGet(o *psObject, k string) value {
	v, _ := o.props.get(k)
	return v
}

func (in *interp) selectTasks(b *bound, cmd string) []*task {
	d := in.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*task
	for _, t := range d.tasks {
		ok := true
		if b.has("TaskName") {
			ok = ok && anyFold(b.strs("TaskName"), t.name)
		}
		if b.has("TaskPath") {
			ok = ok && anyFold(b.strs("TaskPath"), t.path)
		}
		if o, isObj := b.vals["InputObject"].(*psObject); isObj {
			ok = ok && o.native == t
		}
		if ok {
			out = append(out, t)
		}
	}
	if len(out) == 0 && b.has("TaskName") {
		in.cmdError(b.action, notFound(taskClass, "TaskName", strings.Join(b.strs("TaskName"), ", "), cmd))
	}
	_ = fmt.Sprint
	return out
}
