package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/termsafe"
)

func planCmd(g *globals) *cobra.Command {
	var offline, validate bool
	var out string
	var pf pushFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Dry run: fetch each device, show the diff (exit 0 no changes, 2 changes pending, 1 error)",
		Long: `plan compiles the playbook, fetches the part of each device that fwpush owns,
and shows a unified diff plus what becomes permitted or denied. It never
opens a configuration transaction and arms nothing: devices stay
byte-identical. With --offline it renders without connecting at all. With
--validate each changed device also checks the new config without taking it
(nft -c / iptables-restore --test on a staged file, a NETCONF commit check
on a candidate that is discarded): a config the device would refuse fails
the plan, at the price of that scratch write.`,
		Example: `  fwpush plan -i inventory/examples/clearwater -p playbooks/clearwater.yml
  fwpush plan -i INV -p PLAYBOOK --limit 'group:sprout' --out plan.json   # review, then: fwpush apply --plan plan.json
  fwpush plan -i INV -p PLAYBOOK --format junit > plan.xml               # CI: exit 2 when changes are pending
  fwpush plan --offline -i inventory/examples/webapp -p playbooks/examples/webapp.yml
  fwpush plan --offline -i hosts.ini -p PLAYBOOK --format junit > render.xml  # CI: a test case per device`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json", "junit", "html"); err != nil {
				return err
			}
			g.warningsInJSON = true
			if err := pf.check(); err != nil {
				return err
			}
			p, err := g.project(cmd.Context())
			if err != nil {
				return err
			}
			if offline && g.format == "html" {
				return planHTML(g, p, nil)
			}
			if offline {
				if perr := offlinePlan(cmd.Context(), g, p); perr != nil {
					return &exitErr{code: exitError, err: perr}
				}
				return nil
			}
			if err := g.secrets(cmd.Context(), p.Selected); err != nil {
				return err
			}
			t0 := time.Now()
			eo := pf.engine(p.Playbook.Push)
			prog := newProgress(g.errOut, len(p.Selected), "plan")
			eo.Observer = prog
			live := plan.Live
			if validate {
				live = plan.LiveChecked
			}
			pl, sum, perr := live(cmd.Context(), p, g.opener(p.Registry, p.Inv, pf.transport()), eo)
			prog.done()
			if pl == nil {
				return perr
			}
			if out != "" {
				if err := plan.Save(out, pl, p); err != nil {
					return err
				}
			}
			rows := planRows(pl)
			switch g.format {
			case "json":
				if err := g.json(withWarnings{pl, p.Warnings}); err != nil {
					return err
				}
			case "junit":
				if err := writeJUnit(g.out, "fwpush plan "+p.Playbook.Name, rows, time.Since(t0)); err != nil {
					return err
				}
			case "html":
				if err := planHTML(g, p, pl); err != nil {
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
	cmd.Flags().BoolVar(&validate, "validate", false, "have each changed device check its config without taking it (nft -c, NETCONF commit check on a discarded candidate); writes scratch state, so off by default")
	cmd.Flags().StringVar(&out, "out", "", "save the plan to FILE for `fwpush apply --plan FILE` (pushes exactly what was reviewed)")
	pf.register(cmd.Flags(), false)
	g.addInputs(cmd, useInventory|usePlaybook|useLimit, "text", "json", "junit", "html")
	return cmd
}

// withWarnings is the plan document with the project's warnings added.
type withWarnings struct {
	*plan.Plan
	Warnings []string `json:"warnings,omitempty"`
}

func planRows(pl *plan.Plan) []row {
	rows := make([]row, 0, len(pl.Devices))
	for _, d := range pl.Devices {
		rows = append(rows, row{host: d.Host, platform: d.Platform, status: d.Status, err: d.Error, diff: d.Diff, warnings: d.Warnings, notes: d.Notes})
	}
	return rows
}

// offlinePlan streams each device's rendered config as text or as the
// Plan JSON document, never holding every config at once. It stops at
// the next device once ctx is cancelled (a signal).
func offlinePlan(ctx context.Context, g *globals, p *project.Project) error {
	bw := bufio.NewWriterSize(g.out, 1<<16)
	defer bw.Flush()
	n := 0
	if g.format == "json" {
		head, _ := json.Marshal(plan.Plan{Playbook: p.Playbook.Name, Inventory: p.Inv.Dir, Offline: true})
		// {"playbook":…,"devices":null} → open the devices array instead.
		fmt.Fprintf(bw, "%s[", strings.TrimSuffix(string(head), "null}"))
		err := plan.OfflineEach(p, func(d plan.Device) error {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if n > 0 {
				bw.WriteString(",")
			}
			n++
			b, err := json.Marshal(d)
			if err != nil {
				return err
			}
			_, err = bw.Write(b)
			return err
		})
		bw.WriteString("]")
		if len(p.Warnings) > 0 {
			ws, _ := json.Marshal(p.Warnings)
			fmt.Fprintf(bw, `,"warnings":%s`, ws)
		}
		bw.WriteString("}\n")
		return err
	}
	if g.format == "junit" {
		t0 := time.Now()
		var devices []plan.Device
		err := plan.OfflineEach(p, func(d plan.Device) error {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			d.Desired = drivers.Config{} // only the outcome is kept, not every config
			devices = append(devices, d)
			return nil
		})
		if interruption(ctx) != nil {
			return err
		}
		if jerr := writeOfflineJUnit(bw, "fwpush plan --offline "+p.Playbook.Name, devices, time.Since(t0)); jerr != nil {
			return jerr
		}
		return err
	}
	err := plan.OfflineEach(p, func(d plan.Device) error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		n++
		fmt.Fprintf(bw, "=== %s (%s): %d rules\n", termsafe.Line(d.Host), termsafe.Line(d.Platform), d.Rules)
		if d.Error != "" {
			fmt.Fprintf(bw, "error: %s\n\n", termsafe.Line(d.Error))
			return nil
		}
		for _, n := range d.Notes {
			fmt.Fprintf(bw, "note: %s\n", termsafe.Line(n))
		}
		text := termsafe.Text(d.Desired.String())
		bw.WriteString(text)
		if !strings.HasSuffix(text, "\n") {
			bw.WriteString("\n")
		}
		bw.WriteString("\n")
		return nil
	})
	if err == nil || interruption(ctx) == nil {
		fmt.Fprintf(bw, "%d devices rendered offline; nothing was contacted\n", n)
	}
	return err
}
