package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/check"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/report"
)

func reportCmd(g *globals) *cobra.Command {
	var pf pushFlags
	var out, graph string
	var offline bool
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write one self-contained HTML report: summary, communication matrix, per-device side-by-side diffs",
		Long: `report checks the selected devices (read-only, as fwpush check does) and
writes one HTML file a reviewer opens in any browser, offline: a summary,
the communication matrix (roles × roles, each cell the services allowed,
linking to the flows and their why), each device's drift side by side with
its semantic summary, and the roles and flows as Graphviz DOT and Mermaid.
--offline renders every device's config without connecting. --graph dot or
--graph mermaid writes only the graph, connecting to nothing. The file goes
to --out (written whole, then renamed), else to stdout. plan, check, apply
and history also take --format html.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch graph {
			case "", "dot", "mermaid":
			default:
				return fmt.Errorf("--graph %q: want dot or mermaid", graph)
			}
			if err := pf.check(); err != nil {
				return err
			}
			p, err := g.project(cmd.Context())
			if err != nil {
				return err
			}
			var b bytes.Buffer
			summary := ""
			switch {
			case graph != "":
				m := report.NewMatrix(p.Playbook, p.Inv)
				if graph == "dot" {
					err = m.DOT(&b)
				} else {
					err = m.Mermaid(&b)
				}
				summary = fmt.Sprintf("%d roles and networks, %d flows", len(m.Rows)+len(m.Cols), len(m.Flows))
			case offline:
				pl, perr := plan.Offline(p)
				if perr != nil {
					return perr
				}
				err = report.HTML(&b, report.FromPlan(pl, p))
				summary = fmt.Sprintf("%d devices rendered offline", len(pl.Devices))
			default:
				if err := g.secrets(cmd.Context(), p.Selected); err != nil {
					return err
				}
				eo := pf.engine(p.Playbook.Push)
				prog := newProgress(g.errOut, len(p.Selected), "check")
				eo.Observer = prog
				rep, cerr := check.Run(cmd.Context(), p, g.opener(p.Registry, p.Inv, pf.transport()), eo)
				prog.done()
				if cerr != nil {
					return cerr
				}
				err = report.HTML(&b, report.FromCheck(rep, p))
				summary = fmt.Sprintf("%d devices: %d compliant, %d drift, %d error", rep.Summary.Total, rep.Summary.Compliant, rep.Summary.Drift, rep.Summary.Error)
			}
			if err != nil {
				return err
			}
			if out == "" {
				_, err = g.out.Write(b.Bytes())
				return err
			}
			if err := writeFile(out, b.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(g.errOut, "wrote %s (%s)\n", out, summary)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "", "write the report to FILE instead of stdout")
	f.BoolVar(&offline, "offline", false, "render every device's config without connecting to any")
	f.StringVar(&graph, "graph", "", "write only the roles-and-flows graph: dot (Graphviz) or mermaid")
	pf.register(f, false)
	g.addInputs(cmd, useInventory|usePlaybook|useLimit)
	return cmd
}

// writeFile writes data to path whole: a temp file beside it, renamed, so
// a reader never sees half a report.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fwpush-report-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// planHTML writes a plan as an HTML report; pl nil renders offline.
func planHTML(g *globals, p *project.Project, pl *plan.Plan) error {
	if pl == nil {
		var err error
		if pl, err = plan.Offline(p); err != nil {
			return &exitErr{code: exitError, err: err}
		}
	}
	return report.HTML(g.out, report.FromPlan(pl, p))
}
