package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/explain"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/termsafe"
)

func explainCmd(g *globals) *cobra.Command {
	var from, to, proto, icmpType string
	var port int
	cmd := &cobra.Command{
		Use:   "explain --from X --to Y --proto P [--port N | --icmp-type T]",
		Short: "Is this flow allowed? Which devices enforce it, which rule matches (exit 0 permitted, 3 denied)",
		Long: `explain follows one flow through the compiled policy. tcp, udp and sctp take
--port; icmp and icmpv6 take --icmp-type (a name such as echo-request or
timestamp-request, or a number 0-255; default echo-request) and refuse
--port, since ICMP has types, not ports.`,
		Example: `  fwpush explain -i inventory/examples/clearwater -p playbooks/clearwater.yml --from bono --to sprout --proto tcp --port 5054
  fwpush explain -i INV -p PLAYBOOK --from any --to web-1 --proto icmp --icmp-type echo-request
  fwpush explain -i INV -p PLAYBOOK --from 203.0.113.9 --to db --proto tcp --port 5432 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
				return err
			}
			q, err := buildQuery(from, to, proto, port, icmpType, cmd.Flags().Changed("icmp-type"))
			if err != nil {
				return err
			}
			p, err := g.project(cmd.Context())
			if err != nil {
				return err
			}
			res, err := explain.RunContext(cmd.Context(), p, q)
			if err != nil {
				return err
			}
			if g.format == "json" {
				err = g.json(res)
			} else {
				printExplain(g, q, res)
			}
			if err != nil {
				return err
			}
			if !res.Permitted {
				return &exitErr{code: exitDenied}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "source: role, host (NAME or host:NAME), network, address or prefix, management or any")
	f.StringVar(&to, "to", "", "destination: role, host (NAME or host:NAME), network, address or prefix, management or any")
	f.StringVar(&proto, "proto", "tcp", "protocol: tcp, udp, icmp, icmpv6, sctp, gre, ... or a number")
	f.IntVar(&port, "port", 0, "destination port 1-65535 (tcp, udp, sctp only)")
	f.StringVar(&icmpType, "icmp-type", "echo-request", "ICMP type name or number 0-255 (icmp, icmpv6 only)")
	g.addInputs(cmd, useInventory|usePlaybook, "text", "json")
	return cmd
}

// buildQuery turns the flags into the query explain evaluates; the
// library refuses the combinations that would print one thing and
// evaluate another (--port with icmp).
func buildQuery(from, to, proto string, port int, icmpType string, icmpTypeGiven bool) (explain.Query, error) {
	p, err := policy.ParseProto(proto)
	if err != nil {
		return explain.Query{}, fmt.Errorf("--proto: %w", err)
	}
	q := explain.Query{From: from, To: to, Proto: p, Port: port}
	switch {
	case p.IsICMP():
		t, err := policy.ParseICMPType(p, icmpType)
		if err != nil {
			return q, fmt.Errorf("--icmp-type: %w", err)
		}
		q.ICMPType = t
	case icmpTypeGiven:
		return q, fmt.Errorf("--icmp-type: only for icmp and icmpv6, not %s", p)
	}
	return q, q.Validate()
}

func printExplain(g *globals, q explain.Query, res *explain.Result) {
	verdict := "DENIED"
	if res.Permitted {
		verdict = "PERMITTED"
	}
	fmt.Fprintf(g.out, "%s → %s %s: %s\n", termsafe.Line(q.From), termsafe.Line(q.To), q, verdict)
	for _, path := range res.Paths {
		mark := "permit"
		if !path.Permitted {
			mark = "DENY  "
		}
		fmt.Fprintf(g.out, "  %s %s → %s\n", mark, label(path.From), label(path.To))
		if len(path.Checks) == 0 {
			fmt.Fprintln(g.out, "      not filtered by any fwpush device")
		}
		for _, c := range path.Checks {
			action := "permit"
			switch {
			case c.Reject:
				action = "reject"
			case !c.Permit:
				action = "deny"
			}
			why := ""
			if len(c.Why) > 0 {
				// Playbook text, shown on a terminal: one line, no escapes.
				why = " — " + termsafe.Line(strings.Join(c.Why, "; "))
			}
			where := ""
			if c.Interface != "" {
				where = fmt.Sprintf(" (%s %s)", termsafe.Line(c.Interface), c.Direction)
			}
			decides := ""
			if c.Decides {
				decides = "  ← decides"
			}
			fmt.Fprintf(g.out, "      %s/%s%s: %s by %s%s%s\n", termsafe.Line(c.Device), termsafe.Line(c.Filter), where, action,
				termsafe.Line(c.Rule), termsafe.Line(why), decides)
		}
	}
}

func label(e explain.Endpoint) string {
	switch {
	case e.Host != "":
		return fmt.Sprintf("%s (%s)", termsafe.Line(e.Host), e.Addr)
	case e.Name != "":
		return fmt.Sprintf("%s (%s)", termsafe.Line(e.Name), e.Addr)
	}
	return e.Addr.String()
}
