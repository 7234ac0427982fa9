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
  fwpush verify -i INV -p PLAYBOOK --limit group:web --negatives 4 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
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
			rep, err := verify.Run(cmd.Context(), probes, probeRunner(p, pf.transport()), timeout, pf.engine(p.Playbook.Push))
			if err != nil {
				return err
			}
			if g.format == "json" {
				if err := g.json(rep); err != nil {
					return err
				}
			} else {
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
	g.addInputs(cmd, useInventory|usePlaybook|useLimit, "text", "json")
	f.DurationVar(&timeout, "probe-timeout", 2*time.Second, "how long a probe waits before calling a port blocked (above 0)")
	f.IntVar(&perFlow, "per-flow", 4, "positive probes per flow at most (1 or more)")
	f.IntVar(&negatives, "negatives", 2, "negative probes per host (0 or more)")
	return cmd
}

// probeRunner runs probe scripts on inventory hosts over SSH.
func probeRunner(p *project.Project, topts drivers.TransportOptions) verify.Runner {
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
		fmt.Fprintf(w, "%s %s: got %s%s — %s\n", mark, termsafe.Line(r.Probe.String()), termsafe.Line(string(r.Got)),
			termsafe.Line(note), termsafe.Line(r.Why))
	}
	fmt.Fprintf(w, "%d probes: %d passed, %d failed\n", len(rep.Results), rep.Passed, rep.Failed)
}
