package windows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/internal/project"
)

// TestStaleRevertTaskRemoved: a revert task whose own run cannot
// unregister it (the simulator's FailSelfUnregister; whether Windows
// always lets a running task delete itself is not something fwpush relies
// on) still restores the rules and frees the lock, and stays registered,
// its trigger past, until the next apply removes it. The next trial then
// leaves no task behind once confirmed.
func TestStaleRevertTaskRemoved(t *testing.T) {
	s := startSim(t, "testdata/a.yml")
	s.dev.FailSelfUnregister(true)
	b, err := project.Load(project.Options{Inventory: "testdata/inventory", Playbook: "testdata/b.yml", Registry: all.Registry()})
	require.NoError(t, err)
	render := func(p *project.Project) drivers.Config {
		c, err := windows.New().Render(p.Intents["win-1"])
		require.NoError(t, err)
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := s.open(ctx, "win-1")
	require.NoError(t, err)
	defer sess.Close()
	before, err := sess.Fetch(ctx)
	require.NoError(t, err)

	first := drivers.Trial{Run: "run-1", Controller: "ctl", User: "alice", Since: time.Now().UTC().Truncate(time.Second)}
	armed, err := sess.Apply(ctx, render(s.p), drivers.ApplyOptions{Trial: first, ConfirmWithin: 30 * time.Second})
	require.NoError(t, err)
	s.clock.Advance(armed.Within + time.Second)
	now, err := sess.Fetch(ctx)
	require.NoError(t, err)
	assert.Equal(t, before.String(), now.String(), "the task restored the rules")
	holder, err := sess.(drivers.LockReporter).DeviceLock(ctx)
	require.NoError(t, err)
	assert.Nil(t, holder, "and freed the lock")
	tasks := s.dev.Tasks()
	require.Len(t, tasks, 1, "the task could not unregister itself: %v", s.dev.Events())
	assert.Equal(t, "revert-run-1", tasks[0].Name)

	second := drivers.Trial{Run: "run-2", Controller: "ctl", User: "alice", Since: time.Now().UTC().Truncate(time.Second)}
	_, err = sess.Apply(ctx, render(b), drivers.ApplyOptions{Trial: second, ConfirmWithin: 30 * time.Second})
	require.NoError(t, err)
	var names []string
	for _, tk := range s.dev.Tasks() {
		names = append(names, tk.Name)
	}
	assert.Equal(t, []string{"revert-run-2"}, names, "the next apply removed the stale task")
	check, err := s.open(ctx, "win-1")
	require.NoError(t, err)
	defer check.Close()
	require.NoError(t, check.Confirm(ctx, second))
	assert.Empty(t, s.dev.Tasks(), "confirmed: no task left")
}
