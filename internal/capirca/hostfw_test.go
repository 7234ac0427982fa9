package capirca

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/drivers/linuxiptables"
	"github.com/fwpush/fwpush/drivers/linuxnftables"
	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
)

// Evaluators of fwpush's own host renderings (nftables, iptables, the
// Windows firewall), read back through each driver's Parse: what a host
// would do with the first packet of a new connection, so the seeds'
// renderings can be set against what aclgen renders from the export.
// Each reads the forms fwpush writes and fails on anything else.

// hostFirewall answers for one host's input.
type hostFirewall interface {
	permits(t testing.TB, p netacl.Packet) (bool, string)
}

// renderedFirewall renders host and reads its input back.
func renderedFirewall(t testing.TB, p *project.Project, host string) hostFirewall {
	t.Helper()
	in := p.Intents[host]
	require.NotNil(t, in, host)
	drv, err := p.Registry.Get(in.Platform)
	require.NoError(t, err)
	cfg, err := drv.Render(in)
	require.NoError(t, err, host)
	parser, ok := drv.(drivers.Parser)
	require.True(t, ok, "%s: %T has no Parse", host, drv)
	rs, err := parser.Parse(cfg)
	require.NoError(t, err, host)
	switch drv.(type) {
	case *linuxnftables.Driver:
		require.Contains(t, cfg.Part(linuxnftables.PartName), "type filter hook input priority filter; policy drop;", host)
		return &nftInput{host: host, rs: rs}
	case *linuxiptables.Driver:
		return &iptablesInput{host: host, rs: rs}
	case *windows.Driver:
		require.Contains(t, cfg.Part(windows.PartName), "default inbound action (Block)", host)
		return &windowsInput{host: host, rs: rs}
	}
	t.Fatalf("%s: no evaluator for %T", host, drv)
	return nil
}

// protoByName reads a protocol as Linux prints it (netbase), or a number.
func protoByName(t testing.TB, s string) int {
	for n := 0; n < 256; n++ {
		if linuxhost.ProtocolName(policy.Proto(n)) == s {
			return n
		}
	}
	if s == "icmpv6" {
		return 58
	}
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "protocol %q", s)
	return n
}

// icmpByName reads an ICMP type as nft names it, or a number.
func icmpByName(t testing.TB, proto int, s string) int {
	p := policy.ICMP
	if proto == 58 {
		p = policy.ICMPv6
	}
	n, err := policy.ParseICMPType(p, s)
	require.NoError(t, err, "icmp type %q", s)
	return n
}

// portSetMatch reads "22", "8000-8099", "80,443,1000:2000" (iptables
// ranges use ':').
func portSetMatch(t testing.TB, s string, port int) bool {
	for _, part := range strings.Split(strings.NewReplacer("{", "", "}", "", " ", "").Replace(s), ",") {
		lo, hi, ok := strings.Cut(strings.ReplaceAll(part, ":", "-"), "-")
		if !ok {
			hi = lo
		}
		a, errA := strconv.Atoi(lo)
		b, errB := strconv.Atoi(hi)
		require.NoError(t, errA, "port %q", s)
		require.NoError(t, errB, "port %q", s)
		if port >= a && port <= b {
			return true
		}
	}
	return false
}

// words splits a rule line into words; a quoted string and a { … } set
// are one word each.
func words(line string) []string {
	var out []string
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case c == ' ':
			i++
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			out = append(out, line[i:min(j+1, len(line))])
			i = j + 1
		case c == '{':
			j := strings.IndexByte(line[i:], '}')
			out = append(out, line[i:i+j+1])
			i += j + 1
		default:
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			out = append(out, line[i:i+j])
			i += j
		}
	}
	return out
}

type nftInput struct {
	host string
	rs   drivers.Ruleset
}

func (f *nftInput) permits(t testing.TB, p netacl.Packet) (bool, string) {
	for _, r := range f.rs.Rules {
		if r.Filter != "input" {
			continue
		}
		text := strings.TrimPrefix(r.Text, "input: ")
		if verdict, ok := f.rule(t, text, p); ok {
			return verdict, text
		}
	}
	return false, "policy drop"
}

// rule says whether the rule matches and, if so, its verdict.
func (f *nftInput) rule(t testing.TB, text string, p netacl.Packet) (bool, bool) {
	w := words(text)
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case "ct":
			require.Equal(t, []string{"state", "established,related"}, w[i+1:i+3], text)
			return false, false // a new connection
		case "iif", "oif":
			return false, false // not loopback
		case "meta":
			switch w[i+1] {
			case "nfproto":
				if (w[i+2] == "ipv4") != p.Src.Is4() {
					return false, false
				}
			case "l4proto":
				if protoByName(t, w[i+2]) != p.Proto {
					return false, false
				}
			default:
				t.Fatalf("%s: %q", f.host, text)
			}
			i += 2
		case "ip", "ip6":
			if (w[i] == "ip") != p.Src.Is4() {
				return false, false
			}
			a := p.Src
			if w[i+1] == "daddr" {
				a = p.Dst
			}
			if !f.inSet(t, w[i+2], a) {
				return false, false
			}
			i += 2
		case "tcp", "udp", "sctp":
			require.Equal(t, "dport", w[i+1], text)
			if protoByName(t, w[i]) != p.Proto || !portSetMatch(t, w[i+2], p.DstPort) {
				return false, false
			}
			i += 2
		case "icmp", "icmpv6":
			require.Equal(t, "type", w[i+1], text)
			proto := map[string]int{"icmp": 1, "icmpv6": 58}[w[i]]
			if proto != p.Proto {
				return false, false
			}
			hit := false
			for _, n := range strings.Split(strings.Trim(w[i+2], "{} "), ",") {
				hit = hit || icmpByName(t, proto, strings.TrimSpace(n)) == p.ICMPType
			}
			if !hit {
				return false, false
			}
			i += 2
		case "log":
			if i+1 < len(w) && w[i+1] == "prefix" {
				i += 2
			}
		case "counter":
		case "accept":
			return true, true
		case "drop", "reject":
			return false, true
		default:
			t.Fatalf("%s: nft rule %q: %q is not read", f.host, text, w[i])
		}
	}
	t.Fatalf("%s: nft rule %q has no verdict", f.host, text)
	return false, false
}

func (f *nftInput) inSet(t testing.TB, ref string, a netip.Addr) bool {
	var elems []string
	if name, ok := strings.CutPrefix(ref, "@"); ok {
		var found bool
		elems, found = f.rs.Sets[name]
		require.True(t, found, "%s: set %s", f.host, name)
	} else {
		elems = strings.Split(strings.Trim(ref, "{} "), ",")
	}
	for _, e := range elems {
		e = strings.TrimSpace(e)
		if lo, hi, ok := strings.Cut(e, "-"); ok {
			l, h := netip.MustParseAddr(lo), netip.MustParseAddr(hi)
			if !a.Less(l) && !h.Less(a) {
				return true
			}
			continue
		}
		pr, err := parseAddr(e)
		require.NoError(t, err, "%s: element %q", f.host, e)
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

type iptablesInput struct {
	host string
	rs   drivers.Ruleset
}

func (f *iptablesInput) permits(t testing.TB, p netacl.Packet) (bool, string) {
	cmd := "iptables"
	if !p.Src.Is4() {
		cmd = "ip6tables"
	}
	for _, r := range f.rs.Rules {
		if r.Filter != cmd+" FWPUSH-INPUT" {
			continue
		}
		if verdict, ok := f.rule(t, strings.TrimPrefix(r.Text, cmd+" "), p); ok {
			return verdict, r.Text
		}
	}
	t.Fatalf("%s: no %s rule decides %+v: the chain ends in -j DROP", f.host, cmd, p)
	return false, ""
}

func (f *iptablesInput) rule(t testing.TB, text string, p netacl.Packet) (bool, bool) {
	w := words(text)
	for i := 0; i < len(w); i++ {
		arg := func() string {
			i++
			require.Less(t, i, len(w), text)
			return w[i]
		}
		switch w[i] {
		case "-A":
			arg()
		case "-m":
			if arg() == "conntrack" {
				require.Equal(t, "--ctstate", arg(), text)
				arg()
				return false, false // a new connection
			}
		case "-i", "-o":
			arg()
			return false, false // not loopback
		case "-s", "-d":
			a := p.Src
			if w[i] == "-d" {
				a = p.Dst
			}
			pr, err := parseAddr(arg())
			require.NoError(t, err, text)
			if !pr.Contains(a) {
				return false, false
			}
		case "-p":
			if protoByName(t, arg()) != p.Proto {
				return false, false
			}
		case "--dport", "--dports":
			if !portSetMatch(t, arg(), p.DstPort) {
				return false, false
			}
		case "--icmp-type", "--icmpv6-type":
			n, err := strconv.Atoi(arg())
			require.NoError(t, err, text)
			if n != p.ICMPType {
				return false, false
			}
		case "--comment", "--log-prefix":
			arg()
		case "-j":
			switch arg() {
			case "ACCEPT":
				return true, true
			case "DROP", "REJECT":
				return false, true
			case "LOG":
			default:
				t.Fatalf("%s: iptables rule %q: target %q is not read", f.host, text, w[i])
			}
		default:
			t.Fatalf("%s: iptables rule %q: %q is not read", f.host, text, w[i])
		}
	}
	return false, false
}

type windowsInput struct {
	host string
	rs   drivers.Ruleset
}

// permits: a block rule that matches wins over any allow rule (the
// Windows firewall's precedence), else an allow rule permits, else the
// profile's default inbound action blocks.
func (f *windowsInput) permits(t testing.TB, p netacl.Packet) (bool, string) {
	allowed := ""
	for _, r := range f.rs.Rules {
		text, ok := strings.CutPrefix(r.Text, "inbound: ")
		if !ok {
			continue
		}
		w := strings.Fields(text)
		if !f.matches(t, text, w[1:], p) {
			continue
		}
		switch w[0] {
		case "block":
			return false, text
		case "allow":
			allowed = text
		default:
			t.Fatalf("%s: rule %q: action %q", f.host, text, w[0])
		}
	}
	return allowed != "", allowed
}

func (f *windowsInput) matches(t testing.TB, text string, w []string, p netacl.Packet) bool {
	switch w[0] {
	case "any":
	case "icmpv4":
		if p.Proto != 1 {
			return false
		}
	default:
		if protoByName(t, w[0]) != p.Proto {
			return false
		}
	}
	for i := 1; i+1 < len(w); i += 2 {
		vals := strings.Split(w[i+1], ",")
		switch w[i] {
		case "local-port":
			if !portSetMatch(t, w[i+1], p.DstPort) {
				return false
			}
		case "icmp-type":
			hit := false
			for _, v := range vals {
				n, err := strconv.Atoi(v)
				require.NoError(t, err, text)
				hit = hit || n == p.ICMPType
			}
			if !hit {
				return false
			}
		case "remote-address", "local-address":
			a := p.Src
			if w[i] == "local-address" {
				a = p.Dst
			}
			hit := false
			for _, v := range vals {
				pr, err := parseAddr(v)
				require.NoError(t, err, text)
				hit = hit || pr.Contains(a)
			}
			if !hit {
				return false
			}
		case "profile":
		default:
			t.Fatalf("%s: rule %q: %q is not read", f.host, text, w[i])
		}
	}
	return true
}
