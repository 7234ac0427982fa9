package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/termsafe"
	"github.com/fwpush/fwpush/internal/yamlsrc"
	"github.com/fwpush/fwpush/inventory"
)

func inventoryCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "inventory", Short: "Inspect the inventory"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the selected hosts with platform, roles and addresses (secrets never shown)",
		Example: `  fwpush inventory list -i inventory/examples/clearwater
  fwpush inventory list -i inventory/examples/clearwater --limit 'group:sprout and not sprout-2'
  fwpush inventory list -i inventory/examples/clearwater --format json | jq '.hosts[].name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
				return err
			}
			inv, err := interruptible(cmd.Context(), func() (*inventory.Inventory, error) {
				return inventory.Load(g.inventory, inventory.WithPlatforms(all.Registry()))
			})
			if err != nil {
				g.printWarnings(yamlsrc.Warnings(err))
				return err
			}
			g.scrub(inv)
			if g.format != "json" {
				g.printWarnings(inv.Warnings)
			}
			keep, err := inv.ParseLimit(g.limit)
			if err != nil {
				return err
			}
			hosts := inv.Select(keep)
			if g.format == "json" {
				doc := map[string]any{"hosts": hosts, "management": inv.Management, "networks": inv.Networks}
				if len(inv.Warnings) > 0 {
					doc["warnings"] = inv.Warnings
				}
				return g.json(doc)
			}
			tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tPLATFORM\tADDRESS\tROLES\tADDRESSES")
			for _, h := range hosts {
				if cmd.Context().Err() != nil {
					return context.Cause(cmd.Context())
				}
				addrs := make([]string, len(h.Addresses))
				for i, a := range h.Addresses {
					addrs[i] = a.String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s:%d\t%s\t%s\n", termsafe.Line(h.Name), termsafe.Line(h.Platform), termsafe.Line(h.Hostname), h.Port,
					termsafe.Line(strings.Join(h.Roles, ",")), strings.Join(addrs, ","))
			}
			return tw.Flush()
		},
	}
	g.addInputs(list, useInventory|useLimit, "text", "json")
	cmd.AddCommand(list)
	return cmd
}
