package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fwpush/fwpush/internal/engine"
)

// PostCheck returns an apply post-check (apply.Options.PostCheck): after
// a device's change and before it is confirmed, the probes that reach the
// device must see the policy, or the device is rolled back at once. This
// catches what reading the config back cannot: a rule outside fwpush's
// part, a kernel or a middlebox that stops the policy from working.
//
// The probes run from other inventory hosts. With egress filtering their
// output chains take part too, so a flow new to both ends needs its
// source hosts pushed first (a canary wave of sources, then the rest).
func PostCheck(probes []Probe, run Runner, timeout time.Duration) func(ctx context.Context, host string) error {
	byDst := map[string][]Probe{}
	for _, p := range probes {
		byDst[p.To] = append(byDst[p.To], p)
	}
	return func(ctx context.Context, host string) error {
		ps := byDst[host]
		if len(ps) == 0 {
			return nil
		}
		rep, err := Run(ctx, ps, run, timeout, engine.Options{Forks: 8, MaxFailPercentage: -1})
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if rep.Failed == 0 {
			return nil
		}
		var bad []string
		for _, r := range rep.Results {
			if !r.Pass {
				s := fmt.Sprintf("%s: got %s", r.Probe, r.Got)
				if r.Note != "" {
					s += " (" + r.Note + ")"
				}
				bad = append(bad, s)
			}
		}
		return fmt.Errorf("verify: %d of %d probes to %s did not match the policy: %s", rep.Failed, len(rep.Results), host, strings.Join(bad, "; "))
	}
}
