package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/explain"
	"github.com/fwpush/fwpush/internal/freetext"
	"github.com/fwpush/fwpush/internal/policy"
)

func explainCmd(g *globals) *cobra.Command {
	var from, to, proto, icmpType string
	var port int
	cmd := &cobra.Command{
		Use:   "explain --from X --to Y --proto P [--port N | --icmp-type T]",
		Short: "Is this flow allowed? Which devices enforce it, which rule matches (exit 0 permitted, 3 denied)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkFormat("text", "json"); err != nil {
				return err
			}
			q, err := buildQuery(from, to, proto, port, icmpType)
			if err != nil {
				return err
			}
			p, err := g.project()
			if err != nil {
				return err
			}
			res, err := explain.Run(p, q)
			if err != nil {
				return err
			}
			if g.format == "json" {
				err = g.json(res)
			} else {
				printExplain(g, res)
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
	f.StringVar(&from, "from", "", "source: role, host, network, address or any")
	f.StringVar(&to, "to", "", "destination: role, host, network, address or any")
	f.StringVar(&proto, "proto", "tcp", "protocol: tcp, udp, icmp, icmpv6, sctp, gre, ... or a number")
	f.IntVar(&port, "port", 0, "destination port (tcp, udp, sctp)")
	f.StringVar(&icmpType, "icmp-type", "echo-request", "ICMP type name or number (icmp, icmpv6)")
	return cmd
}

func buildQuery(from, to, proto string, port int, icmpType string) (explain.Query, error) {
	if from == "" || to == "" {
		return explain.Query{}, fmt.Errorf("--from and --to are required")
	}
	p, err := policy.ParseProto(proto)
	if err != nil {
		return explain.Query{}, fmt.Errorf("--proto: %w", err)
	}
	q := explain.Query{From: from, To: to, Proto: p, Port: port}
	switch {
	case p.HasPorts() && (port < 1 || port > 65535):
		return q, fmt.Errorf("--port: %d is outside 1-65535 (required for %s)", port, p)
	case p.IsICMP():
		t, err := policy.ParseICMPType(p, icmpType)
		if err != nil {
			return q, fmt.Errorf("--icmp-type: %w", err)
		}
		q.ICMPType = t
	}
	return q, nil
}

func printExplain(g *globals, res *explain.Result) {
	verdict := "DENIED"
	if res.Permitted {
		verdict = "PERMITTED"
	}
	what := res.Query.Proto
	if res.Query.Port > 0 {
		what = fmt.Sprintf("%s/%d", what, res.Query.Port)
	}
	fmt.Fprintf(g.out, "%s → %s %s: %s\n", res.Query.From, res.Query.To, what, verdict)
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
			if !c.Permit {
				action = "deny"
			}
			why := ""
			if len(c.Why) > 0 {
				// Playbook text, shown on a terminal: one line, no escapes.
				why = " — " + freetext.Line(strings.Join(c.Why, "; "))
			}
			fmt.Fprintf(g.out, "      %s/%s: %s by %s%s\n", c.Device, c.Filter, action, c.Rule, why)
		}
	}
}

func label(e explain.Endpoint) string {
	switch {
	case e.Host != "":
		return fmt.Sprintf("%s (%s)", e.Host, e.Addr)
	case e.Name != "":
		return fmt.Sprintf("%s (%s)", e.Name, e.Addr)
	}
	return e.Addr.String()
}
