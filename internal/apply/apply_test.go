package apply

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
)

func setup(t *testing.T) (*project.Project, map[string]*driverstest.Device, plan.Opener) {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: "../../inventory/examples/webapp", Playbook: "../../playbooks/examples/webapp.yml"})
	require.NoError(t, err)
	devs := map[string]*driverstest.Device{}
	for _, h := range p.Selected {
		devs[h.Name] = &driverstest.Device{Name: h.Name}
	}
	open := func(ctx context.Context, host string) (drivers.Session, error) { return devs[host].Open(ctx) }
	return p, devs, open
}

func outcomes(r *Report) map[string]Outcome {
	m := map[string]Outcome{}
	for _, d := range r.Devices {
		m[d.Host] = d.Outcome
	}
	return m
}

func TestConfirmedThenUnchanged(t *testing.T) {
	p, devs, open := setup(t)
	o := Options{ConfirmWithin: 2 * time.Second, Engine: engine.Options{MaxFailPercentage: -1}}
	rep, err := Run(context.Background(), p, open, o)
	require.NoError(t, err)
	for h, oc := range outcomes(rep) {
		assert.Equal(t, Confirmed, oc, h)
		assert.Equal(t, 1, devs[h].Confirms, h)
	}
	time.Sleep(2500 * time.Millisecond) // past the deadline: confirmed means kept
	rep, err = Run(context.Background(), p, open, o)
	require.NoError(t, err)
	for h, oc := range outcomes(rep) {
		assert.Equal(t, Unchanged, oc, h)
		assert.Equal(t, 1, devs[h].Applies, "second run sends no config to %s", h)
		assert.NotEmpty(t, devs[h].Running().String())
	}
}

func TestLockOutRollsBackByItself(t *testing.T) {
	p, devs, open := setup(t)
	devs["web-1"].LockOut = true
	o := Options{ConfirmWithin: 500 * time.Millisecond, Settle: 200 * time.Millisecond, Engine: engine.Options{MaxFailPercentage: -1}}
	t0 := time.Now()
	rep, err := Run(context.Background(), p, open, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "web-1: check: new management connection failed")
	oc := outcomes(rep)
	assert.Equal(t, RolledBack, oc["web-1"])
	assert.Equal(t, "", devs["web-1"].Running().String(), "web-1 back to its old (empty) state")
	assert.Equal(t, Confirmed, oc["web-2"], "one device's failure never touches another")
	assert.Less(t, time.Since(t0), 5*time.Second)
}

func TestRejectedChangesNothing(t *testing.T) {
	p, devs, open := setup(t)
	devs["db-1"].Reject = true
	rep, err := Run(context.Background(), p, open, Options{ConfirmWithin: time.Second, Engine: engine.Options{MaxFailPercentage: -1}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, err))
	oc := outcomes(rep)
	assert.Equal(t, Failed, oc["db-1"])
	assert.Equal(t, "", devs["db-1"].Running().String())
	assert.Equal(t, 4, rep.Summary.Counts[engine.Changed])
	assert.Equal(t, 1, rep.Summary.Counts[engine.Failed])
}

// TestStagingFailureIsFailed: a session that fails while staging, before
// anything is armed, changed nothing; the outcome says so at once, rather
// than "rolled-back" after waiting out a timer that was never armed.
func TestStagingFailureIsFailed(t *testing.T) {
	p, devs, open := setup(t)
	devs["db-1"].SetRunning(driverstest.Config("old\n"))
	devs["db-1"].StageFails = true
	o := Options{ConfirmWithin: 2 * time.Second, Settle: time.Second, Engine: engine.Options{MaxFailPercentage: -1}}
	t0 := time.Now()
	rep, err := Run(context.Background(), p, open, o)
	require.Error(t, err)
	assert.Equal(t, Failed, outcomes(rep)["db-1"])
	assert.Equal(t, "old\n", devs["db-1"].Running().String())
	assert.Less(t, time.Since(t0), o.ConfirmWithin, "nothing armed, nothing to wait for")
	assert.Equal(t, Confirmed, outcomes(rep)["web-1"])
}

func TestPostCheckFailureRollsBackNow(t *testing.T) {
	p, devs, open := setup(t)
	devs["app-1"].SetRunning(driverstest.Config("old\n"))
	o := Options{ConfirmWithin: time.Minute, Engine: engine.Options{MaxFailPercentage: -1},
		PostCheck: func(ctx context.Context, host string) error {
			if host == "app-1" {
				return errors.New("probe web→app tcp/8080 failed")
			}
			return nil
		}}
	t0 := time.Now()
	rep, err := Run(context.Background(), p, open, o)
	require.Error(t, err)
	assert.Equal(t, RolledBack, outcomes(rep)["app-1"])
	assert.Equal(t, "old\n", devs["app-1"].Running().String())
	assert.Less(t, time.Since(t0), 10*time.Second, "rollback is immediate, not at the deadline")
}

func TestWaveStopsOnFailure(t *testing.T) {
	p, devs, open := setup(t)
	devs["app-1"].Reject = true // first host in name order: the canary
	rep, err := Run(context.Background(), p, open,
		Options{ConfirmWithin: time.Second, Engine: engine.Options{Canary: 1, MaxFailPercentage: 0}})
	require.Error(t, err)
	assert.Contains(t, rep.Summary.Aborted, "batch 1")
	assert.Equal(t, 4, rep.Summary.Counts[engine.Skipped])
	for _, h := range []string{"db-1", "db-2", "web-1", "web-2"} {
		assert.Equal(t, 1, devs[h].Opens, "%s only read before the push, never pushed after the canary failed", h)
		assert.Equal(t, 0, devs[h].Applies, "%s never changed after the canary failed", h)
	}
}

// TestDeviceRefusalFoundByPlan: a change the device's own check refuses
// fails a checked plan at "validate"; a plain plan asks no device; apply
// fails that device while the others are pushed; unchanged devices are
// not asked.
func TestDeviceRefusalFoundByPlan(t *testing.T) {
	p, devs, open := setup(t)
	devs["db-1"].Refuses = "5432"
	eo := engine.Options{MaxFailPercentage: -1}
	_, _, err := plan.Live(context.Background(), p, open, eo)
	require.NoError(t, err, "a plain plan asks no device to check")
	assert.Zero(t, devs["db-1"].Validates)
	pl, _, err := plan.LiveChecked(context.Background(), p, open, eo)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `db-1: validate: commit check: "5432": syntax error`)
	for _, d := range pl.Devices {
		assert.Equal(t, d.Host != "db-1", d.Validated, d.Host)
	}
	rep, err := Run(context.Background(), p, open, Options{ConfirmWithin: time.Second, Engine: eo})
	require.Error(t, err)
	assert.Equal(t, Failed, outcomes(rep)["db-1"])
	assert.Equal(t, Confirmed, outcomes(rep)["web-1"])

	devs["db-1"].Refuses = ""
	_, err = Run(context.Background(), p, open, Options{ConfirmWithin: time.Second, Engine: eo})
	require.NoError(t, err)
	before := devs["web-1"].Validates
	pl, _, err = plan.LiveChecked(context.Background(), p, open, eo)
	require.NoError(t, err)
	assert.False(t, pl.Changes())
	assert.Equal(t, before, devs["web-1"].Validates, "no change, nothing to check")
}
