package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/freetext"
	"github.com/fwpush/fwpush/internal/project"
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
				return err
			}
			p, err := g.project()
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
				for _, r := range rep.Results {
					mark := "ok  "
					if !r.Pass {
						mark = "FAIL"
					}
					note := ""
					if r.Note != "" {
						note = " (" + r.Note + ")"
					}
					// The why is playbook text: one line, no terminal escapes.
					fmt.Fprintf(g.out, "%s %s: got %s%s — %s\n", mark, r.Probe, r.Got, note, freetext.Line(r.Why))
				}
				fmt.Fprintf(g.out, "%d probes: %d passed, %d failed\n", len(rep.Results), rep.Passed, rep.Failed)
			}
			if rep.Failed > 0 {
				return &exitErr{code: exitError, err: fmt.Errorf("%d of %d probes did not match the policy", rep.Failed, len(rep.Results))}
			}
			return nil
		},
	}
	f := cmd.Flags()
	pf.register(f)
	f.DurationVar(&timeout, "probe-timeout", 2*time.Second, "how long a probe waits before calling a port blocked")
	f.IntVar(&perFlow, "per-flow", 4, "positive probes per flow at most")
	f.IntVar(&negatives, "negatives", 2, "negative probes per host")
	return cmd
}

// probeRunner runs probe scripts on inventory hosts over SSH.
func probeRunner(p *project.Project, topts drivers.TransportOptions) verify.Runner {
	return func(ctx context.Context, host, script string, stdin []byte) (string, error) {
		c, err := linuxhost.Dial(ctx, drivers.Target{Host: p.Inv.Hosts[host], Options: topts})
		if err != nil {
			return "", err
		}
		defer c.Close()
		return c.Run(ctx, script, stdin)
	}
}
