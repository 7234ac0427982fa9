package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/termsafe"
	"github.com/fwpush/fwpush/internal/verify"
	"github.com/fwpush/fwpush/inventory"
)

func verifyCmd(g *globals) *cobra.Command {
	var pf pushFlags
	var timeout time.Duration
	var perFlow, negatives int
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Prove the policy with real probes from inventory hosts (exit 1 on any mismatch)",
		Long: `verify derives probes from the compiled matrix: for each flow, connections
from a host of the source role to hosts of the destination role (which must
connect), and per host a few unlisted ports (which must be blocked). It runs
them over SSH from the inventory hosts with bash's /dev/tcp and /dev/udp.
A refused connection counts as "reached": the firewall let it through.`,
		Example: `  fwpush verify -i INV -p PLAYBOOK
  fwpush verify -i INV -p PLAYBOOK --limit group:web --negatives 4 --format json
  fwpush verify -i INV -p PLAYBOOK --format junit > verify.xml   # CI: one test case per probe`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json", "junit"); err != nil {
				return err
			}
			err := errors.Join(pf.check(), policy.CheckPositiveDuration("--probe-timeout", timeout),
				policy.CheckAtLeast("--per-flow", perFlow, 1), policy.CheckAtLeast("--negatives", negatives, 0))
			if err != nil {
				return err
			}
			p, err := g.project(cmd.Context())
			if err != nil {
				return err
			}
			probes, err := verify.Generate(p, verify.Options{PerFlow: perFlow, Negatives: negatives})
			if err != nil {
				return err
			}
			if err := g.secrets(cmd.Context(), probeHosts(p, probes)); err != nil {
				return err
			}
			t0 := time.Now()
			rep, err := verify.Run(cmd.Context(), probes, probeRunner(p, pf.transport()), timeout, pf.engine(p.Playbook.Push))
			if err != nil {
				return err
			}
			switch g.format {
			case "json":
				if err := g.json(rep); err != nil {
					return err
				}
			case "junit":
				if err := writeVerifyJUnit(g.out, "fwpush verify "+p.Playbook.Name, rep, time.Since(t0)); err != nil {
					return err
				}
			default:
				printVerify(g.out, rep)
			}
			if rep.Failed > 0 {
				return &exitErr{code: exitError, err: fmt.Errorf("%d of %d probes did not match the policy", rep.Failed, len(rep.Results))}
			}
			return nil
		},
	}
	f := cmd.Flags()
	pf.register(f, false)
	g.addInputs(cmd, useInventory|usePlaybook|useLimit, "text", "json", "junit")
	f.DurationVar(&timeout, "probe-timeout", 2*time.Second, "how long a probe waits before calling a port blocked (above 0)")
	f.IntVar(&perFlow, "per-flow", 4, "positive probes per flow at most (1 or more)")
	f.IntVar(&negatives, "negatives", 2, "negative probes per host (0 or more)")
	return cmd
}

// probeHosts are the hosts probes run on.
func probeHosts(p *project.Project, probes []verify.Probe) []*inventory.Host {
	seen := map[string]bool{}
	var out []*inventory.Host
	for _, pr := range probes {
		if h := p.Inv.Hosts[pr.From]; h != nil && !seen[pr.From] {
			seen[pr.From] = true
			out = append(out, h)
		}
	}
	return out
}

// testProbes, set only by tests, runs probe scripts instead of SSH.
var testProbes verify.Runner

// probeRunner runs probe scripts on inventory hosts over SSH.
func probeRunner(p *project.Project, topts drivers.TransportOptions) verify.Runner {
	if testProbes != nil {
		return testProbes
	}
	return verify.SSHRunner(p.Inv, topts, nil)
}

func printVerify(w io.Writer, rep *verify.Report) {
	for _, r := range rep.Results {
		mark := "ok  "
		if !r.Pass {
			mark = "FAIL"
		}
		note := ""
		if r.Note != "" {
			note = " (" + r.Note + ")"
		}
		why := r.Why
		if r.Probe.Flow > 0 {
			why = fmt.Sprintf("flow %d: %s", r.Probe.Flow, why)
		}
		fmt.Fprintf(w, "%s %s: got %s%s — %s\n", mark, termsafe.Line(r.Probe.String()), termsafe.Line(string(r.Got)),
			termsafe.Line(note), termsafe.Line(why))
	}
	fmt.Fprintf(w, "%d probes: %d passed, %d failed\n", len(rep.Results), rep.Passed, rep.Failed)
}
