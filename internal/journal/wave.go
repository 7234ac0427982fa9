package journal

import (
	"context"
	"errors"
	"fmt"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
)

// FailedWave returns, for a run stopped by max_fail_percentage, the
// devices of the wave that stopped it which did confirm the change, each
// with the snapshot taken before it. A wave is all-or-nothing for
// operators who ask for it: half a wave on the new policy is a state
// nobody planned. Earlier waves passed and stay.
func FailedWave(res *Result) []Target {
	if res == nil || res.Report == nil || res.Summary.AbortedBatch == 0 {
		return nil
	}
	var out []Target
	for _, d := range res.Devices {
		if d.Batch == res.Summary.AbortedBatch && d.Outcome == apply.Confirmed && d.Current != nil {
			out = append(out, Target{Host: d.Host, Run: res.Run, Config: *d.Current})
		}
	}
	return out
}

// RollbackWave restores the confirmed devices of the failed wave of the
// apply recorded as res (see FailedWave) to their snapshots, as a run of
// its own (commit-confirmed like any rollback), so history keeps both the
// change and its undoing. It returns nil, nil when there is nothing to
// undo. The whole wave is restored at once, whatever serial said.
func RollbackWave(ctx context.Context, st store.Backend, res *Result, command string, open plan.Opener, o apply.Options) (*Result, error) {
	targets := FailedWave(res)
	if len(targets) == 0 {
		return nil, nil
	}
	parent, _, err := st.Run(res.Run)
	if err != nil {
		return nil, fmt.Errorf("wave rollback: %w", err)
	}
	for i := range targets {
		targets[i].When, targets[i].Who = parent.Started, parent.Who
	}
	run := store.NewRun("rollback", command)
	run.Playbook = parent.Playbook
	o.Engine.Serial, o.Engine.Canary, o.Engine.MaxFailPercentage = nil, 0, -1
	return Rollback(ctx, st, run, targets, open, o)
}

// ApplyWaves is Apply, then, when rollbackWave is set and a wave failed
// past max_fail_percentage, RollbackWave of that wave as a run of its own
// (Result.WaveRollback). applied, when set, is called once the push is
// over, before the wave rollback starts (a progress display ends there).
func ApplyWaves(ctx context.Context, st store.Backend, run store.Run, p *project.Project, reviewed *plan.Plan, open plan.Opener, o apply.Options, rollbackWave bool, applied func()) (*Result, error) {
	res, err := Apply(ctx, st, run, p, reviewed, open, o)
	if applied != nil {
		applied()
	}
	if res == nil || res.Report == nil || !rollbackWave {
		return res, err
	}
	o.Engine.Observer = nil
	wr, werr := RollbackWave(ctx, st, res, run.Command+" # wave rollback of run "+res.Run, open, o)
	res.WaveRollback = wr // nil when no wave failed or it confirmed nothing
	return res, errors.Join(err, werr)
}
