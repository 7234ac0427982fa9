package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/verify"
)

// TestSeedSystems pushes every seed system to its own lab: plan shows
// changes and leaves every host byte-identical, apply confirms, real probes
// prove allowed flows connect and unlisted ones are blocked, and a second
// plan reports no changes.
func TestSeedSystems(t *testing.T) {
	for _, system := range []string{"clearwater", "dmcm", "satellite", "wdm", "portaswitch"} {
		t.Run(system, func(t *testing.T) {
			e := newEnv(t, "../../inventory/examples/"+system, "../../playbooks/"+system+".yml")
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()

			before := e.rulesetHash(t)
			pl, sum, err := plan.Live(ctx, e.p, e.opener(), eo())
			require.NoError(t, err)
			assert.True(t, pl.Changes())
			assert.Equal(t, len(e.p.Selected), sum.Counts[engine.Changed], "every host starts without fwpush's policy")
			for _, d := range pl.Devices {
				require.NotNil(t, d.Diff, d.Host)
				assert.True(t, d.Diff.Summary.Created, d.Host)
				assert.NotEmpty(t, d.Diff.Summary.Permitted, d.Host)
			}
			assert.Equal(t, before, e.rulesetHash(t), "a dry run leaves every host byte-identical")

			rep, err := apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: 20 * time.Second, Engine: eo()})
			require.NoError(t, err)
			for _, d := range rep.Devices {
				assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
			}

			probes, err := verify.Generate(e.p, verify.Options{PerFlow: 3, Negatives: 2})
			require.NoError(t, err)
			require.NotEmpty(t, probes)
			vr, err := verify.Run(ctx, probes, e.runner(), 2*time.Second, eo())
			require.NoError(t, err)
			positives, negatives := 0, 0
			for _, r := range vr.Results {
				if r.Expect {
					positives++
				} else {
					negatives++
				}
				assert.True(t, r.Pass, "%s: got %s %s", r.Probe, r.Got, r.Note)
			}
			assert.Positive(t, positives)
			assert.Positive(t, negatives)
			t.Logf("%s: %d hosts, %d probes (%d must connect, %d must be blocked)", system, len(e.p.Selected), len(vr.Results), positives, negatives)

			again, _, err := plan.Live(ctx, e.p, e.opener(), eo())
			require.NoError(t, err)
			assert.False(t, again.Changes(), "second plan after apply reports no changes")
			applied := e.rulesetHash(t)
			_, _, err = plan.Live(ctx, e.p, e.opener(), eo())
			require.NoError(t, err)
			assert.Equal(t, applied, e.rulesetHash(t), "dry run on a configured host is byte-identical too")
		})
	}
}
