package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/termsafe"
	"github.com/fwpush/fwpush/internal/yamlsrc"
)

type validateResult struct {
	Valid     bool     `json:"valid"`
	Playbook  string   `json:"playbook"`
	Inventory string   `json:"inventory"`
	Hosts     int      `json:"hosts"`
	Flows     int      `json:"flows"`
	Errors    []string `json:"errors,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

func validateCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check inventory and playbook; connect to nothing",
		Long: `validate loads the inventory and the playbook, checks every name, address,
port and flow against each other and compiles every device's policy, then
proves that every device keeps fwpush's management access. Every problem is
reported at once as file:line:col: field: message; warnings (a data key one
letter off a known one, a service no flow uses) too. Nothing is contacted.`,
		Example: `  fwpush validate -i inventory/examples/clearwater -p playbooks/clearwater.yml
  fwpush validate -i inventory/examples/clearwater -p playbooks/clearwater.yml --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
				return err
			}
			p, err := interruptible(cmd.Context(), func() (*project.Project, error) {
				o, err := g.options()
				if err != nil {
					return nil, err
				}
				return project.Load(o)
			})
			if iv := interruption(cmd.Context()); iv != nil {
				return iv // not a verdict on the files
			}
			res := validateResult{Valid: err == nil, Playbook: g.playbook, Inventory: g.inventory}
			if err != nil {
				res.Errors = splitErrors(err)
				res.Warnings = yamlsrc.Warnings(err)
			} else {
				res.Hosts, res.Flows = len(p.Selected), len(p.Playbook.Flows)
				res.Warnings = p.Warnings
			}
			if g.format != "json" {
				g.printWarnings(res.Warnings)
			}
			if g.format == "json" {
				if jerr := g.json(res); jerr != nil {
					return jerr
				}
				if err != nil {
					return &exitErr{code: exitError}
				}
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.out, "ok: %s with %s: %d hosts, %d flows\n", termsafe.Line(g.playbook), termsafe.Line(g.inventory), res.Hosts, res.Flows)
			return nil
		},
	}
	g.addInputs(cmd, useInventory|usePlaybook|useLimit, "text", "json")
	return cmd
}
