package journal_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/journal"
)

// TestRollbackWave: waves of two; web-1 in the second wave refuses, which
// passes max_fail_percentage 0. The wave's confirmed device (db-2) is
// restored by a run of its own; the first wave stays on the new policy;
// web-2 is never touched; history keeps both runs.
func TestRollbackWave(t *testing.T) {
	f := setup(t, webappInv)
	f.devs["web-1"].Reject = true
	initial := map[string]string{}
	for h, d := range f.devs {
		initial[h] = d.Running().String()
	}
	o := opts(2 * time.Second)
	o.Engine = engine.Options{Serial: []string{"2"}, MaxFailPercentage: 0}
	res, err := journal.Apply(context.Background(), f.st, newRun(t, "apply"), f.p, nil, f.open, o)
	require.Error(t, err)
	require.Equal(t, 2, res.Summary.AbortedBatch, res.Summary.Aborted)

	wave := journal.FailedWave(res)
	require.Len(t, wave, 1)
	assert.Equal(t, "db-2", wave[0].Host)
	assert.Equal(t, res.Run, wave[0].Run)

	wr, err := journal.RollbackWave(context.Background(), f.st, res, "fwpush apply # wave rollback", f.open, o)
	require.NoError(t, err)
	require.NotNil(t, wr)
	assert.Equal(t, map[string]apply.Outcome{"db-2": apply.Confirmed}, outcomes(wr.Report))

	assert.Equal(t, initial["db-2"], f.devs["db-2"].Running().String(), "db-2 restored")
	assert.Equal(t, initial["web-1"], f.devs["web-1"].Running().String(), "web-1 refused: untouched")
	assert.Equal(t, initial["web-2"], f.devs["web-2"].Running().String(), "web-2 never started")
	assert.Equal(t, 1, f.devs["web-2"].Opens, "web-2 only read before the push")
	assert.Equal(t, 0, f.devs["web-2"].Applies, "web-2 never pushed")
	for _, h := range []string{"app-1", "db-1"} {
		assert.NotEqual(t, initial[h], f.devs[h].Running().String(), "%s: the first wave passed and keeps the change", h)
	}

	r, _, err := f.st.Run(wr.Run)
	require.NoError(t, err)
	assert.Equal(t, "rollback", r.Kind)
	assert.Equal(t, map[string]string{"db-2": res.Run}, r.Restores)
	es, err := f.st.HostEntries("db-2")
	require.NoError(t, err)
	var states []string
	for _, e := range es {
		states = append(states, e.State())
	}
	assert.Equal(t, []string{"confirmed", "confirmed"}, states)
}

// TestRollbackWaveNothingToUndo: a run that was not stopped, or whose
// failed wave confirmed nothing, needs no rollback run.
func TestRollbackWaveNothingToUndo(t *testing.T) {
	f := setup(t, webappInv)
	f.devs["app-1"].Reject = true // the canary fails alone
	o := opts(2 * time.Second)
	o.Engine = engine.Options{Canary: 1, MaxFailPercentage: 0}
	res, err := journal.Apply(context.Background(), f.st, newRun(t, "apply"), f.p, nil, f.open, o)
	require.Error(t, err)
	assert.Empty(t, journal.FailedWave(res))
	wr, err := journal.RollbackWave(context.Background(), f.st, res, "x", f.open, o)
	assert.NoError(t, err)
	assert.Nil(t, wr)
	runs, err := f.st.Runs(0)
	require.NoError(t, err)
	assert.Len(t, runs, 1, "no rollback run recorded")
}
