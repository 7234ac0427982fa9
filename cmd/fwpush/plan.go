package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/plan"
)

func planCmd(g *globals) *cobra.Command {
	var offline bool
	var pf pushFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Dry run: fetch each device, show the diff (exit 0 no changes, 2 changes pending, 1 error)",
		Long: `plan compiles the playbook, fetches the part of each device that fwpush owns,
and shows a unified diff plus what becomes permitted or denied. It never
opens a configuration transaction and arms nothing: devices stay
byte-identical. With --offline it renders without connecting at all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json", "junit"); err != nil {
				return err
			}
			p, err := g.project()
			if err != nil {
				return err
			}
			reg := all.Registry()
			if offline {
				pl, perr := plan.Offline(p, reg)
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
			}
			t0 := time.Now()
			eo := pf.engine()
			prog := newProgress(g.errOut, len(p.Selected), "plan")
			eo.Observer = prog
			pl, sum, perr := plan.Live(cmd.Context(), p, reg, plan.DriverOpener(p, reg, pf.transport(), nil), eo)
			prog.done()
			if pl == nil {
				return perr
			}
			rows := planRows(pl)
			switch g.format {
			case "json":
				if err := g.json(pl); err != nil {
					return err
				}
			case "junit":
				if err := writeJUnit(g.out, "fwpush plan "+p.Playbook.Name, rows, time.Since(t0)); err != nil {
					return err
				}
			default:
				printDiffs(g.out, rows, true)
				printWarnings(g.out, rows)
				printTable(g.out, rows, false)
				printSummary(g.out, sum)
			}
			switch {
			case perr != nil:
				return &exitErr{code: exitError, err: perr}
			case pl.Changes():
				return &exitErr{code: exitChanges}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&offline, "offline", false, "render the config for every device without connecting to any")
	pf.register(cmd.Flags())
	return cmd
}

func planRows(pl *plan.Plan) []row {
	rows := make([]row, 0, len(pl.Devices))
	for _, d := range pl.Devices {
		rows = append(rows, row{host: d.Host, platform: d.Platform, status: d.Status, err: d.Error, diff: d.Diff, warnings: d.Warnings})
	}
	return rows
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
