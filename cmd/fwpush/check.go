package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/check"
	"github.com/fwpush/fwpush/internal/report"
)

func checkCmd(g *globals) *cobra.Command {
	var pf pushFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Compliance: does every device still have the policy? (exit 0 compliant, 2 drift, 1 error)",
		Long: `check reads each selected device, read-only (no lock taken, nothing armed,
nothing recorded), and says per device whether it still has the policy.
Drift is classified: fwpush's part changed by hand (what the device now
permits that the policy does not, and what it no longer permits), fwpush's
part missing, or rules outside fwpush's part that can block the policy. A
device that cannot be judged (unreachable, another run's trial pending,
any other failure) is an error, named. Exit 0: all compliant; 2: drift;
1: any error (an unchecked device may drift too).

--format text (default), json (stable, documented in the README), junit
(one test case per device), markdown (for a ticket or a pull-request
comment) or html (one self-contained page; see fwpush report).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json", "junit", "markdown", "html"); err != nil {
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
			if err := g.secrets(cmd.Context(), p.Selected); err != nil {
				return err
			}
			t0 := time.Now()
			eo := pf.engine(p.Playbook.Push)
			prog := newProgress(g.errOut, len(p.Selected), "check")
			eo.Observer = prog
			rep, err := check.Run(cmd.Context(), p, g.opener(p.Registry, p.Inv, pf.transport()), eo)
			prog.done()
			if err != nil {
				return err
			}
			switch g.format {
			case "json":
				err = g.json(rep)
			case "junit":
				err = report.CheckJUnit(g.out, rep, time.Since(t0))
			case "markdown":
				err = report.CheckMarkdown(g.out, rep)
			case "html":
				err = report.HTML(g.out, report.FromCheck(rep, p))
			default:
				err = report.CheckText(g.out, rep)
			}
			if err != nil {
				return err
			}
			if code := rep.ExitCode(); code != check.ExitCompliant {
				return &exitErr{code: code, err: rep.Err()} // drift: the report said it all
			}
			return nil
		},
	}
	pf.register(cmd.Flags(), false)
	g.addInputs(cmd, useInventory|usePlaybook|useLimit, "text", "json", "junit", "markdown", "html")
	return cmd
}
