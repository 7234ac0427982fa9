package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/lint"
	"github.com/fwpush/fwpush/internal/termsafe"
)

type lintResult struct {
	Playbook  string         `json:"playbook"`
	Inventory string         `json:"inventory"`
	Findings  []lint.Finding `json:"findings"`
	Warnings  []string       `json:"warnings,omitempty"`
}

func lintCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lint",
		Short: "Find flows that cannot mean what they say; connect to nothing",
		Long: `lint loads the inventory and the playbook as validate does, then reports
what the playbook says that is probably not what its author means, in this
inventory: roles with no host and no network (empty-role), flows a side of
which selects nothing (never-matches), flows that repeat an earlier flow
(duplicate), flows an earlier flow with the same action already covers
(redundant), and flows an earlier flow with the other action decides first,
so they never take effect (shadowed). A flow counts as covered by a single
earlier flow only. Exit status 0 when there is nothing to report, 1 when
there is (or the files do not load).`,
		Example: `  fwpush lint -i inventory/examples/clearwater -p playbooks/clearwater.yml
  fwpush lint -i inventory/examples/webapp -p playbooks/examples/webapp.yml --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
				return err
			}
			g.warningsInJSON = true
			p, err := g.project(cmd.Context())
			if err != nil {
				return err
			}
			res := lintResult{Playbook: g.playbook, Inventory: g.inventory, Findings: lint.Run(p.Playbook, p.Inv), Warnings: p.Warnings}
			if res.Findings == nil {
				res.Findings = []lint.Finding{}
			}
			if g.format == "json" {
				if err := g.json(res); err != nil {
					return err
				}
			} else {
				for _, f := range res.Findings {
					fmt.Fprintf(g.out, "%s: %s\n", f.Kind, termsafe.Line(f.String()))
				}
				fmt.Fprintf(g.out, "%d findings in %s with %s\n", len(res.Findings), termsafe.Line(g.playbook), termsafe.Line(g.inventory))
			}
			if len(res.Findings) > 0 {
				return &exitErr{code: exitError}
			}
			return nil
		},
	}
	g.addInputs(cmd, useInventory|usePlaybook, "text", "json")
	return cmd
}
