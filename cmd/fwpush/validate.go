package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/termsafe"
)

type validateResult struct {
	Valid     bool     `json:"valid"`
	Playbook  string   `json:"playbook"`
	Inventory string   `json:"inventory"`
	Hosts     int      `json:"hosts"`
	Flows     int      `json:"flows"`
	Errors    []string `json:"errors,omitempty"`
}

func validateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check inventory and playbook; connect to nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
				return err
			}
			p, err := g.project(cmd.Context())
			if iv := interruption(cmd.Context()); iv != nil {
				return iv // not a verdict on the files
			}
			res := validateResult{Valid: err == nil, Playbook: g.playbook, Inventory: g.inventory}
			if err != nil {
				res.Errors = splitErrors(err)
			} else {
				res.Hosts, res.Flows = len(p.Selected), len(p.Playbook.Flows)
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
}
