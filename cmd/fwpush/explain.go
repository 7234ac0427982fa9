package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/explain"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/termsafe"
)

func explainCmd(g *globals) *cobra.Command {
	var from, to, proto, port, icmpType string
	cmd := &cobra.Command{
		Use:   "explain --from X --to Y --proto P [--port N | --icmp-type T]",
		Short: "Is this flow allowed? Which devices enforce it, which rule matches (exit 0 permitted, 3 denied or partly)",
		Long: `explain follows a flow through the compiled policy. tcp, udp and sctp take
--port (a port, a range low-high, or any); icmp and icmpv6 take --icmp-type
(a name such as echo-request or timestamp-request, or a number 0-255;
default echo-request) and refuse --port, since ICMP has types, not ports.

Between concrete addresses (hosts, a role's hosts, an address) on one port,
every path is shown. A question over a space (any, a network, a prefix, a
role with networks, a port range) is answered for every packet it covers:
permitted, denied, or partly, with the parts the devices tell apart, each
with an example packet and the check that decides it. A host's traffic to
itself (loopback, always permitted) is left out of a space.`,
		Example: `  fwpush explain -i inventory/examples/clearwater -p playbooks/clearwater.yml --from bono --to sprout --proto tcp --port 5054
  fwpush explain -i INV -p PLAYBOOK --from any --to web --proto tcp --port 443
  fwpush explain -i INV -p PLAYBOOK --from 198.51.100.0/24 --to db --proto tcp --port 1-1024
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
	f.StringVar(&port, "port", "", "destination port 1-65535, a range low-high, or any (tcp, udp, sctp only)")
	f.StringVar(&icmpType, "icmp-type", "echo-request", "ICMP type name or number 0-255 (icmp, icmpv6 only)")
	g.addInputs(cmd, useInventory|usePlaybook, "text", "json")
	return cmd
}

// buildQuery turns the flags into the query explain evaluates; the
// library refuses the combinations that would print one thing and
// evaluate another (--port with icmp).
func buildQuery(from, to, proto, port, icmpType string, icmpTypeGiven bool) (explain.Query, error) {
	p, err := policy.ParseProto(proto)
	if err != nil {
		return explain.Query{}, fmt.Errorf("--proto: %w", err)
	}
	q := explain.Query{From: from, To: to, Proto: p}
	if q.Port, q.PortTo, err = parsePorts(port); err != nil {
		return q, err
	}
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

// parsePorts reads --port: a port, low-high, or any (1-65535); a bad
// number is kept for Validate to refuse with the query's own message.
func parsePorts(s string) (lo, hi int, err error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, 0, nil
	case strings.EqualFold(s, "any"):
		return 1, 65535, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = strconv.Atoi(strings.TrimSpace(a)); err != nil {
		return 0, 0, fmt.Errorf("--port %s: want a port, low-high or any", termsafe.Line(s))
	}
	if !isRange {
		return lo, 0, nil
	}
	if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
		return 0, 0, fmt.Errorf("--port %s: want a port, low-high or any", termsafe.Line(s))
	}
	return lo, hi, nil
}

var verdicts = map[string]string{explain.Permitted: "PERMITTED", explain.Denied: "DENIED", explain.Partly: "PARTLY PERMITTED"}

func printExplain(g *globals, q explain.Query, res *explain.Result) {
	fmt.Fprintf(g.out, "%s → %s %s: %s\n", termsafe.Line(q.From), termsafe.Line(q.To), q, verdicts[res.Verdict])
	if len(res.Parts) > 0 {
		printParts(g, res.Parts)
		return
	}
	for _, path := range res.Paths {
		mark := "permit"
		if !path.Permitted {
			mark = "DENY  "
		}
		fmt.Fprintf(g.out, "  %s %s → %s\n", mark, label(path.From), label(path.To))
		printChecks(g, path)
	}
}

// printParts shows each part: its regions, then its example followed
// through every check.
func printParts(g *globals, parts []explain.Part) {
	const most = 8
	for _, part := range parts {
		mark := "permit"
		if !part.Permitted {
			mark = "DENY  "
		}
		for i, r := range part.Regions {
			if i == most {
				fmt.Fprintf(g.out, "         … %d more regions (--format json lists them all)\n", len(part.Regions)-most)
				break
			}
			lead := "        "
			if i == 0 {
				lead = "  " + mark
			}
			ports := ""
			if len(r.Ports) > 0 {
				ps := make([]string, len(r.Ports))
				for j, pr := range r.Ports {
					ps[j] = pr.String()
				}
				ports = " port " + strings.Join(ps, ",")
			}
			fmt.Fprintf(g.out, "%s from %s to %s%s\n", lead, termsafe.Line(r.SourcesText), termsafe.Line(r.DestinationsText), ports)
		}
		ex := part.Example
		port := ""
		if ex.Port != 0 {
			port = fmt.Sprintf(" port %d", ex.Port)
		}
		fmt.Fprintf(g.out, "      e.g. %s → %s%s\n", label(ex.From), label(ex.To), port)
		printChecks(g, ex)
	}
}

func printChecks(g *globals, path explain.Path) {
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

func label(e explain.Endpoint) string {
	switch {
	case e.Host != "":
		return fmt.Sprintf("%s (%s)", termsafe.Line(e.Host), e.Addr)
	case e.Name != "":
		return fmt.Sprintf("%s (%s)", termsafe.Line(e.Name), e.Addr)
	}
	return e.Addr.String()
}
