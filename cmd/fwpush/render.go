package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/termsafe"
)

func renderCmd(g *globals) *cobra.Command {
	var part string
	cmd := &cobra.Command{
		Use:   "render HOST",
		Short: "Print the device-native config for one host (no device touched)",
		Example: `  fwpush render -i inventory/examples/clearwater -p playbooks/clearwater.yml sprout-1
  fwpush render -i inventory/examples/webapp -p playbooks/examples/webapp.yml web-2 --part ip6tables
  fwpush render -i inventory/examples/webapp -p playbooks/examples/webapp.yml web-1 --format json | jq .intent`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
				return err
			}
			p, err := g.project(cmd.Context())
			if err != nil {
				return err
			}
			in := p.Intents[args[0]]
			if in == nil {
				return fmt.Errorf("no host %q in %s", args[0], g.inventory)
			}
			drv, err := p.Registry.Get(in.Platform)
			if err != nil {
				return fmt.Errorf("%s: %w", in.Host, err)
			}
			cfg, err := drv.Render(in)
			if err != nil {
				return fmt.Errorf("%s: render: %w", in.Host, err)
			}
			if g.format == "json" {
				return g.json(map[string]any{"host": in.Host, "config": cfg, "intent": in})
			}
			if part != "" {
				fmt.Fprint(g.out, termsafe.Text(cfg.Part(part)))
				return nil
			}
			fmt.Fprint(g.out, termsafe.Text(cfg.String()))
			return nil
		},
	}
	cmd.Flags().StringVar(&part, "part", "", "print only this part (e.g. ip6tables)")
	g.addInputs(cmd, useInventory|usePlaybook, "text", "json")
	return cmd
}
