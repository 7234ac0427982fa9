package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/plan"
)

func planCmd(g *globals) *cobra.Command {
	var offline bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Dry run: show per device what would be pushed (exit 0 no changes, 2 changes, 1 error)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
				return err
			}
			p, err := g.project()
			if err != nil {
				return err
			}
			if !offline {
				return errors.New("live plan needs device sessions; use --offline to render without connecting")
			}
			pl, perr := plan.Offline(p, all.Registry())
			if g.format == "json" {
				if err := g.json(pl); err != nil {
					return err
				}
			} else {
				printOfflinePlan(g, pl)
			}
			if perr != nil {
				return &exitErr{code: exitError, err: perr}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&offline, "offline", false, "render the config for every device without connecting to any")
	return cmd
}

func printOfflinePlan(g *globals, pl *plan.Plan) {
	for _, d := range pl.Devices {
		fmt.Fprintf(g.out, "=== %s (%s): %d rules\n", d.Host, d.Platform, d.Rules)
		if d.Error != "" {
			fmt.Fprintf(g.out, "error: %s\n\n", d.Error)
			continue
		}
		text := d.Desired.String()
		fmt.Fprint(g.out, text)
		if !strings.HasSuffix(text, "\n") {
			fmt.Fprintln(g.out)
		}
		fmt.Fprintln(g.out)
	}
	fmt.Fprintf(g.out, "%d devices rendered offline; nothing was contacted\n", len(pl.Devices))
}
