package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/capirca"
	"github.com/fwpush/fwpush/internal/termsafe"
)

func importCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Turn another tool's policy into a fwpush playbook"}
	var defs, base, filter, name, out string
	var force bool
	c := &cobra.Command{
		Use:   "capirca POLICY.pol --defs DEFS_DIR",
		Short: "A Capirca (or Aerleon .pol) policy as a fwpush playbook and networks",
		Long: `import capirca reads a Capirca policy with the NETWORK.net and SERVICES.svc
definitions of DEFS_DIR (every *.net and *.svc file, as aclgen reads them) and
writes a fwpush playbook and the networks for the inventory's networks.yaml.

Each term becomes a flow (consecutive terms alike but for their protocols, one
flow); each network token a role, filled by a network of its addresses; each
service token a service. source-exclude and destination-exclude become roles of
what is left; expired terms are left out, as aclgen leaves them out; counters
and log names are left out with a warning. What fwpush cannot express (action
next, source ports, a term for some targets only, verbatim text, a term with no
protocol, …) is refused, naming file:line and the construct. docs/capirca.md
has the whole mapping.`,
		Example: `  # print the playbook and networks of the sample policy
  fwpush import capirca playbooks/examples/capirca/pol/edge.pol --defs playbooks/examples/capirca/def

  # write them as imported/edge-inbound.yml and imported/networks.yaml
  fwpush import capirca policies/pol/edge.pol --defs policies/def -o imported/

  # one filter of a policy with several, under another name
  fwpush import capirca policies/pol/edge.pol --defs policies/def --filter edge-inbound --name edge

  # #include paths relative to another directory than the one above pol/
  fwpush import capirca edge.pol --defs def --base-dir .`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if defs == "" {
				return errors.New("--defs: name the definitions directory (NETWORK.net, SERVICES.svc)")
			}
			if base == "" {
				// aclgen's layout: POLICIES/pol/x.pol, includes relative to POLICIES.
				base = filepath.Dir(args[0])
				if filepath.Base(base) == "pol" {
					base = filepath.Dir(base)
				}
			}
			pol, err := capirca.ParseFile(args[0], base)
			if err != nil {
				return err
			}
			d, err := capirca.LoadDefs(defs)
			if err != nil {
				return err
			}
			res, err := capirca.Import(pol, d, capirca.ImportOptions{Filter: filter, Name: name})
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(g.errOut, "warning: %s\n", termsafe.Line(w))
			}
			return writeFiles(g, out, force, []outFile{{res.Name + ".yml", res.Playbook}, {"networks.yaml", res.Networks}})
		},
	}
	f := c.Flags()
	f.StringVar(&defs, "defs", "", "definitions directory: the *.net and *.svc files")
	f.StringVar(&base, "base-dir", "", "where #include paths start (default: the directory above pol/, else the policy's)")
	f.StringVar(&filter, "filter", "", "import the filters of this name only")
	f.StringVar(&name, "name", "", "the playbook's name (default: the filter's)")
	f.StringVarP(&out, "out", "o", "", "write NAME.yml and networks.yaml into this directory (default: print them)")
	f.BoolVar(&force, "force", false, "overwrite files that exist")
	cmd.AddCommand(c)
	return cmd
}

func exportCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "Write a fwpush playbook in another tool's policy language"}
	var targets []string
	var out string
	var force bool
	c := &cobra.Command{
		Use:   "capirca -i INVENTORY -p PLAYBOOK",
		Short: "The playbook over the inventory as a Capirca policy aclgen renders (pol/NAME.pol, def/NETWORK.net, def/SERVICES.svc)",
		Long: `export capirca writes the playbook, over the inventory, as one Capirca filter
with a dual-stack header per --target: fwpush's always-on rules (replies,
ICMP, management access) as terms fwpush-*, each flow as term flow-N (or
flow-N-PROTO, when one term's protocol × port product would open more), and
each role as a network token of its hosts' addresses and its networks. Flows
whose feature is off are left out, and named. With -o DIR, DIR is aclgen's
base directory:

  aclgen --base_directory=DIR --definitions_directory=DIR/def --output_directory=OUT

fwpush import capirca reads the files back into the same compiled policy.`,
		Example: `  # print the policy and definitions
  fwpush export capirca -i inventory/examples/clearwater -p playbooks/clearwater.yml

  # write them for aclgen, Juniper only, and render them
  fwpush export capirca -i inventory/examples/clearwater -p playbooks/clearwater.yml -o capirca/ --target juniper
  aclgen --base_directory=capirca --definitions_directory=capirca/def --output_directory=acls`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.project(cmd.Context())
			if err != nil {
				return err
			}
			res, err := capirca.ExportProject(p, capirca.ExportOptions{Targets: targets})
			if err != nil {
				return err
			}
			for _, l := range res.Left {
				fmt.Fprintf(g.errOut, "note: left out %s\n", termsafe.Line(l))
			}
			return writeFiles(g, out, force, []outFile{{filepath.Join("pol", res.Name+".pol"), res.Policy},
				{filepath.Join("def", "NETWORK.net"), res.Networks}, {filepath.Join("def", "SERVICES.svc"), res.Services}})
		},
	}
	c.Flags().StringSliceVar(&targets, "target", nil, "Capirca platform(s) to render for: "+strings.Join(capirca.DefaultTargets, ", ")+" (default), cisconx, ciscoxr, brocade")
	c.Flags().StringVarP(&out, "out", "o", "", "write the files under this directory (default: print them)")
	c.Flags().BoolVar(&force, "force", false, "overwrite files that exist")
	g.addInputs(c, useInventory|usePlaybook)
	cmd.AddCommand(c)
	return cmd
}

type outFile struct{ name, text string }

// writeFiles writes the files under dir, refusing to overwrite one
// unless forced, or prints them, each under a header line.
func writeFiles(g *globals, dir string, force bool, files []outFile) error {
	if dir == "" {
		for _, f := range files {
			fmt.Fprintf(g.out, "# ==> %s <==\n%s\n", f.name, termsafe.Text(f.text))
		}
		return nil
	}
	if !force {
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(dir, f.name)); !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s exists: --force overwrites it", filepath.Join(dir, f.name))
			}
		}
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(f.text), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(g.out, "wrote %s\n", termsafe.Line(path))
	}
	return nil
}
