package check_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/check"
	"github.com/fwpush/fwpush/internal/check/checktest"
	"github.com/fwpush/fwpush/internal/engine"
)

func TestClassify(t *testing.T) {
	f := checktest.NewFleet(t, "../..")
	ctx := context.Background()
	f.Scenario(t)
	applies := map[string]int{}
	for h, d := range f.Devs {
		applies[h] = d.Applies
	}

	rep, err := check.Run(ctx, f.P, f.Opener(), engine.Options{Forks: 4})
	require.NoError(t, err)
	assert.Equal(t, check.ExitError, rep.ExitCode())
	assert.Equal(t, check.Summary{Total: 5, Compliant: 0, Drift: 3, Error: 2}, rep.Summary)
	assert.False(t, rep.Compliant)
	assert.Equal(t, []string{"web-1", "web-2"}, sorted(rep.Repairable()), "foreign rules are not fwpush's to repair")

	by := map[string]check.Device{}
	for _, d := range rep.Devices {
		by[d.Host] = d
	}
	kinds := func(d check.Device) []check.Kind {
		var out []check.Kind
		for _, f := range d.Findings {
			out = append(out, f.Kind)
		}
		return out
	}
	w1 := by["web-1"]
	assert.Equal(t, check.Drift, w1.Status)
	assert.Equal(t, []check.Kind{check.Modified}, kinds(w1))
	require.NotNil(t, w1.Drift)
	assert.Equal(t, []string{"input: tcp dport 3306 accept"}, w1.Drift.Permitted, "newly permitted by hand")
	require.Len(t, w1.Drift.Unpermitted, 1)
	assert.Contains(t, w1.Drift.Unpermitted[0], "tcp dport 9100", "no longer permitted")
	assert.Contains(t, w1.Findings[0].Detail, "1 rule permits what the policy does not; 1 rule of the policy is gone")
	require.NotNil(t, w1.Repair)
	assert.Contains(t, w1.Repair.Unified, "-\t\ttcp dport 3306 accept", "the repair removes the hand-made rule")

	assert.Equal(t, check.Drift, by["web-2"].Status)
	assert.Equal(t, []check.Kind{check.Missing}, kinds(by["web-2"]))
	assert.Nil(t, by["web-2"].Drift)

	assert.Equal(t, check.Drift, by["app-1"].Status)
	assert.Equal(t, []check.Kind{check.Foreign}, kinds(by["app-1"]))
	assert.Contains(t, by["app-1"].Findings[0].Detail, "foreign chain inet filter input")

	assert.Equal(t, check.Error, by["db-1"].Status)
	assert.Equal(t, []check.Kind{check.Locked}, kinds(by["db-1"]))
	assert.Contains(t, by["db-1"].Findings[0].Detail, "run run-of-bob (bob on ctl-b")
	require.NotNil(t, by["db-1"].Lock)

	assert.Equal(t, check.Error, by["db-2"].Status)
	assert.Equal(t, []check.Kind{check.Unreachable}, kinds(by["db-2"]))
	assert.Contains(t, by["db-2"].Error, "db-2")

	for h, d := range f.Devs {
		assert.Equal(t, applies[h], d.Applies, "%s: a check changes nothing", h)
	}
	assert.Equal(t, "run-of-bob", f.Devs["db-1"].Holder().Run, "the check neither took nor broke the lock")
}

func TestExitCodes(t *testing.T) {
	cases := map[string]struct {
		setup func(t *testing.T, f *checktest.Fleet)
		code  int
	}{
		"compliant": {func(*testing.T, *checktest.Fleet) {}, check.ExitCompliant},
		"drift": {func(t *testing.T, f *checktest.Fleet) {
			checktest.Edit(t, f.Devs["db-2"], "tcp dport 5432", "tcp dport 5433")
		}, check.ExitDrift},
		"unreachable": {func(_ *testing.T, f *checktest.Fleet) { f.Down["app-1"] = true }, check.ExitError},
		"error beats drift": {func(t *testing.T, f *checktest.Fleet) {
			f.Down["app-1"] = true
			checktest.Edit(t, f.Devs["db-2"], "tcp dport 5432", "tcp dport 5433")
		}, check.ExitError},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := checktest.NewFleet(t, "../..")
			tc.setup(t, f)
			rep, err := check.Run(context.Background(), f.P, f.Opener(), engine.Options{})
			require.NoError(t, err)
			assert.Equal(t, tc.code, rep.ExitCode(), "%+v", rep.Summary)
			assert.Equal(t, tc.code == check.ExitCompliant, rep.Compliant)
		})
	}
}

// TestCheckIgnoresFleetOptions: a playbook's waves and failure threshold
// are for pushes; a check reads every device whatever fails.
func TestCheckIgnoresFleetOptions(t *testing.T) {
	f := checktest.NewFleet(t, "../..")
	f.Down["app-1"], f.Down["db-1"] = true, true
	rep, err := check.Run(context.Background(), f.P, f.Opener(), engine.Options{Serial: []string{"1"}, MaxFailPercentage: 0})
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Summary.Total)
	assert.Equal(t, 3, rep.Summary.Compliant, "devices after the failures were read too")
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }
