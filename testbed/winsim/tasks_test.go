package winsim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// registerTouch registers \t\touch on d: in 60 s, it appends a line to
// C:\touched.txt and, when unregister is set, unregisters itself.
func registerTouch(t *testing.T, d *Device, startWhenAvailable, unregister bool) {
	t.Helper()
	task := `Add-Content -LiteralPath 'C:\touched.txt' -Value 'ran' -Encoding UTF8`
	if unregister {
		task += "\nUnregister-ScheduledTask -TaskName touch -TaskPath '\\t\\' -Confirm:$false -ErrorAction SilentlyContinue"
	}
	settings := ""
	if startWhenAvailable {
		settings = " -Settings (New-ScheduledTaskSettingsSet -StartWhenAvailable)"
	}
	d.mu.Lock()
	d.files[normPath(`C:\touch.ps1`)] = task
	d.mu.Unlock()
	res := d.Run(encoded(`$a = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\touch.ps1"'
Register-ScheduledTask -TaskName touch -TaskPath '\t\' -Action $a -Trigger (New-ScheduledTaskTrigger -Once -At (Get-Date).AddSeconds(60))`+settings+` | Out-Null`),
		"fwpush", nil)
	require.Equal(t, 0, res.ExitCode, res.Stderr)
}

// runs counts the task's runs.
func runs(d *Device) int {
	s, _ := d.File(`C:\touched.txt`)
	return strings.Count(s, "ran")
}

// waitRuns waits (at most 5 s) for the task to have run n times.
func waitRuns(t *testing.T, d *Device, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runs(d) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, n, runs(d))
}

// TestTasksAcrossReboots: a one-time trigger fires at its time (a jump of
// the clock passes it); a host down across it runs the task at boot only
// with StartWhenAvailable; a task that already ran does not run again at
// boot; a reboot before the time keeps the trigger.
func TestTasksAcrossReboots(t *testing.T) {
	tests := map[string]struct {
		startWhenAvailable bool
		steps              func(d *Device, c *JumpClock)
		runs               int
	}{
		"fires at its time": {steps: func(d *Device, c *JumpClock) { c.Jump(61 * time.Second) }, runs: 1},
		"down across it, StartWhenAvailable: runs at boot": {startWhenAvailable: true,
			steps: func(d *Device, c *JumpClock) { d.Shutdown(); c.Jump(2 * time.Minute); d.Boot() }, runs: 1},
		"down across it, no StartWhenAvailable: missed": {
			steps: func(d *Device, c *JumpClock) { d.Shutdown(); c.Jump(2 * time.Minute); d.Boot() }, runs: 0},
		"rebooted before it: fires at its time": {startWhenAvailable: true,
			steps: func(d *Device, c *JumpClock) { d.Reboot(); c.Jump(61 * time.Second) }, runs: 1},
		"ran, then rebooted: not again": {startWhenAvailable: true,
			steps: func(d *Device, c *JumpClock) { c.Jump(61 * time.Second); d.Reboot(); c.Jump(time.Minute) }, runs: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := NewJumpClock()
			d, err := New(Options{Clock: c, Users: []User{{Name: "fwpush", Password: "x"}}})
			require.NoError(t, err)
			registerTouch(t, d, tc.startWhenAvailable, false)
			tc.steps(d, c)
			if tc.runs > 0 {
				waitRuns(t, d, tc.runs)
			}
			time.Sleep(50 * time.Millisecond) // a run too many would show
			assert.Equal(t, tc.runs, runs(d), "%v", d.Events())
		})
	}
}

// TestFailSelfUnregister: a task's own run unregisters its task, unless
// the fault says it cannot; anyone else still can.
func TestFailSelfUnregister(t *testing.T) {
	for _, fail := range []bool{false, true} {
		c := NewJumpClock()
		d, err := New(Options{Clock: c, Users: []User{{Name: "fwpush", Password: "x"}}})
		require.NoError(t, err)
		d.FailSelfUnregister(fail)
		registerTouch(t, d, true, true)
		c.Jump(61 * time.Second)
		waitRuns(t, d, 1)
		if !fail {
			assert.Empty(t, d.Tasks(), "the task removed itself")
			continue
		}
		require.Len(t, d.Tasks(), 1, "the task could not remove itself")
		assert.Equal(t, "Ready", d.Tasks()[0].State)
		res := d.Run(encoded(`Unregister-ScheduledTask -TaskName touch -TaskPath '\t\' -Confirm:$false`), "fwpush", nil)
		require.Equal(t, 0, res.ExitCode, res.Stderr)
		assert.Empty(t, d.Tasks(), "another process removes it")
	}
}

// TestJumpClock: timers run in real time, a jump runs those it passes at
// once, in order, and a stopped timer never runs.
func TestJumpClock(t *testing.T) {
	c := NewJumpClock()
	t0 := c.Now()
	var order []int
	done := make(chan struct{})
	c.AfterFunc(20*time.Millisecond, func() { close(done) })
	c.AfterFunc(time.Hour, func() { order = append(order, 2) })
	c.AfterFunc(30*time.Minute, func() { order = append(order, 1) })
	stopped := c.AfterFunc(10*time.Minute, func() { order = append(order, 0) })
	require.True(t, stopped.Stop())
	assert.False(t, stopped.Stop())
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a real-time timer did not run")
	}
	c.Jump(time.Hour)
	assert.Equal(t, []int{1, 2}, order)
	assert.GreaterOrEqual(t, c.Now().Sub(t0), time.Hour)
}

// TestWatch: a watch records the state enforced at its start, after each
// change, and at the end of each script (Idle), in order.
func TestWatch(t *testing.T) {
	d, err := New(Options{Users: []User{{Name: "fwpush", Password: "x"}}})
	require.NoError(t, err)
	stop := d.Watch()
	res := d.Run(encoded(`New-NetFirewallRule -Name a -DisplayName a -Protocol TCP -LocalPort 80 | Out-Null
New-NetFirewallRule -Name b -DisplayName b -Protocol TCP -LocalPort 81 | Out-Null`), "fwpush", nil)
	require.Equal(t, 0, res.ExitCode, res.Stderr)
	seen := stop()
	rules := func(c Change) int { return len(c.State.Host.Input.Rules) - 1 } // less the stateful rule
	var got []string
	for _, c := range seen {
		got = append(got, fmt.Sprintf("%d idle=%v", rules(c), c.Idle))
	}
	assert.Equal(t, []string{"0 idle=false", "1 idle=false", "2 idle=false", "2 idle=true"}, got)
	d.Run(encoded(`Write-Output 'x'`), "fwpush", nil)
	assert.Len(t, stop(), 4, "a stopped watch records nothing more")
}
