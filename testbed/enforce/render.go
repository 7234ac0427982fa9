package enforce

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Table is the nftables table (family inet) an Enforcer owns in its
// namespace; nothing else there is ever touched.
const Table = "fwp_enforce"

// digestMark starts the table's comment, which carries the digest of the
// State it enforces (see Read).
const digestMark = "fwp-enforce "

// Ruleset is a State rendered for nft.
type Ruleset struct {
	// Text is an `nft -f` script that declares, deletes and redefines the
	// table, so loading it replaces what the namespace enforced in one
	// transaction: all of it or, on any error, none of it.
	Text string
	// Digest identifies the rendering (a hash of the table's body); the
	// table carries it as its comment, so Read tells which State is
	// enforced.
	Digest string
}

// Linux interface names: what the lab allows (IFNAMSIZ leaves 15
// characters). They are also valid nft identifiers after "in_"/"out_", and
// safe inside quotes.
var ifNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)

// Render turns s into the table that enforces it (semantics in the
// package's README section and on Binding and HostPolicy):
//
//   - a Binding In jumps to its filter from the input and forward hooks
//     (iifname), a Binding Out from the forward and output hooks
//     (oifname), a TransitOnly one from the forward hook only; in the
//     forward hook every In filter comes before every Out one, so a
//     routed packet must pass both;
//   - HostPolicy.Input and Output jump from the input and output hooks,
//     after the bindings;
//   - in a filter chain Permit returns (the next filter, or the hook's
//     accept policy, decides), Deny drops, Reject answers with a TCP reset
//     or ICMP administratively prohibited; Default ends the chain;
//   - loopback and IPv6 neighbour discovery (hop limit 255 solicitations
//     and advertisements, IPv6's ARP, which no IP filter sees in IPv4)
//     are always accepted in the input and output hooks.
//
// The output is deterministic: bindings are sorted by interface, and
// prefix, port and type lists are sorted and merged. Every problem is an
// error naming the binding, filter and rule; nothing is guessed.
func Render(s State) (Ruleset, error) {
	var in, out []Binding
	seen := map[[2]string]bool{}
	var errs []error
	for i, b := range s.Bindings {
		at := fmt.Sprintf("binding %d (%s %s)", i, b.Interface, b.Direction)
		switch {
		case !ifNameRE.MatchString(b.Interface):
			errs = append(errs, fmt.Errorf("%s: interface %q must match %s", at, b.Interface, ifNameRE))
			continue
		case b.Interface == "lo":
			errs = append(errs, fmt.Errorf("%s: loopback is never filtered (a lo0 filter is the HostPolicy)", at))
			continue
		case b.Direction != In && b.Direction != Out:
			errs = append(errs, fmt.Errorf("%s: direction must be %q or %q", at, In, Out))
			continue
		case seen[[2]string{b.Interface, string(b.Direction)}]:
			errs = append(errs, fmt.Errorf("%s: a second filter on the same interface and direction", at))
			continue
		}
		seen[[2]string{b.Interface, string(b.Direction)}] = true
		if b.Filter == nil {
			continue // unfiltered
		}
		if b.Direction == In {
			in = append(in, b)
		} else {
			out = append(out, b)
		}
	}
	byIf := func(a, b Binding) int { return cmp.Compare(a.Interface, b.Interface) }
	slices.SortFunc(in, byIf)
	slices.SortFunc(out, byIf)

	var hooks [3][]string // input, forward, output jumps
	var chains []string
	for _, b := range in {
		name := "in_" + b.Interface
		if !b.TransitOnly {
			hooks[0] = append(hooks[0], fmt.Sprintf("iifname %q jump %s", b.Interface, name))
		}
		hooks[1] = append(hooks[1], fmt.Sprintf("iifname %q jump %s", b.Interface, name))
		c, err := renderChain(name, *b.Filter, fmt.Sprintf("%s in on %s", b.Filter.Name, b.Interface))
		errs = append(errs, err)
		chains = append(chains, c)
	}
	for _, b := range out {
		name := "out_" + b.Interface
		hooks[1] = append(hooks[1], fmt.Sprintf("oifname %q jump %s", b.Interface, name))
		if !b.TransitOnly {
			hooks[2] = append(hooks[2], fmt.Sprintf("oifname %q jump %s", b.Interface, name))
		}
		c, err := renderChain(name, *b.Filter, fmt.Sprintf("%s out on %s", b.Filter.Name, b.Interface))
		errs = append(errs, err)
		chains = append(chains, c)
	}
	if s.Host != nil {
		for i, f := range []*Filter{s.Host.Input, s.Host.Output} {
			if f == nil {
				continue
			}
			name, hook, what := "host_in", 0, "host input"
			if i == 1 {
				name, hook, what = "host_out", 2, "host output"
			}
			hooks[hook] = append(hooks[hook], "jump "+name)
			c, err := renderChain(name, *f, fmt.Sprintf("%s %s", f.Name, what))
			errs = append(errs, err)
			chains = append(chains, c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Ruleset{}, err
	}

	var body strings.Builder
	for i, hook := range []string{"input", "forward", "output"} {
		if len(hooks[i]) == 0 {
			continue
		}
		fmt.Fprintf(&body, "\tchain %s {\n\t\ttype filter hook %s priority filter; policy accept;\n", hook, hook)
		if hook != "forward" {
			// Never forwarded: neighbour discovery is link-local, and lo
			// only carries the namespace's own traffic.
			lo := "iifname"
			if hook == "output" {
				lo = "oifname"
			}
			fmt.Fprintf(&body, "\t\t%s \"lo\" accept\n", lo)
			body.WriteString("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n")
		}
		for _, j := range hooks[i] {
			body.WriteString("\t\t" + j + "\n")
		}
		body.WriteString("\t}\n")
	}
	for _, c := range chains {
		body.WriteString(c)
	}
	sum := sha256.Sum256([]byte(body.String()))
	digest := hex.EncodeToString(sum[:8])
	var text strings.Builder
	fmt.Fprintf(&text, "# Generated by package testbed/enforce. Declaring, deleting and redefining\n")
	fmt.Fprintf(&text, "# the table replaces it in one transaction.\n")
	fmt.Fprintf(&text, "table inet %s\ndelete table inet %s\ntable inet %s {\n", Table, Table, Table)
	fmt.Fprintf(&text, "\tcomment %q\n", digestMark+digest)
	text.WriteString(body.String())
	text.WriteString("}\n")
	return Ruleset{Text: text.String(), Digest: digest}, nil
}

// renderChain renders one filter as a regular chain.
func renderChain(name string, f Filter, what string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "\tchain %s {\n", name)
	if c := sanitize(what, 128); strings.TrimSpace(c) != "" {
		fmt.Fprintf(&b, "\t\tcomment \"%s\"\n", c)
	}
	var errs []error
	for i, r := range f.Rules {
		lines, err := renderRule(r, sanitize(fmt.Sprintf("%s %s #%d %s: ", name, f.Name, i+1, r.Action), 127))
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %d: %w", i+1, err))
			continue
		}
		for _, l := range lines {
			b.WriteString("\t\t" + l + "\n")
		}
	}
	switch f.Default {
	case Permit:
		b.WriteString("\t\treturn\n")
	case Deny:
		b.WriteString("\t\tdrop\n")
	case Reject:
		b.WriteString("\t\tmeta l4proto tcp reject with tcp reset\n\t\treject with icmpx admin-prohibited\n")
	default:
		errs = append(errs, fmt.Errorf("default %q: want %q, %q or %q", f.Default, Permit, Deny, Reject))
	}
	b.WriteString("\t}\n")
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("filter %q (%s): %w", f.Name, what, err)
	}
	return b.String(), nil
}

// protoNames are the protocols nft knows by name without /etc/protocols.
var protoNames = map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp"}

// renderRule renders one rule as one or more nft rules: one per address
// family its prefixes need (nft matches IPv4 and IPv6 addresses with
// different expressions), and a Reject of no particular protocol as a TCP
// reset for TCP and an ICMP error for the rest.
func renderRule(r Rule, logPrefix string) ([]string, error) {
	verdict := map[Action]string{Permit: "return", Deny: "drop", Reject: "reject"}[r.Action]
	if verdict == "" {
		return nil, fmt.Errorf("action %q: want %q, %q or %q", r.Action, Permit, Deny, Reject)
	}
	if r.Family != 0 && r.Family != 4 && r.Family != 6 {
		return nil, fmt.Errorf("family %d: want 0, 4 or 6", r.Family)
	}
	proto := r.Proto
	if r.Established {
		if proto != 0 && proto != 6 {
			return nil, fmt.Errorf("established matches TCP flags, but the protocol is %d", proto)
		}
		proto = 6
	}
	implied := map[uint8]int{1: 4, 58: 6}[proto]
	fam := r.Family
	switch {
	case fam != 0 && implied != 0 && fam != implied:
		return nil, fmt.Errorf("protocol %d is IPv%d only, but the rule is IPv%d", proto, implied, fam)
	case fam == 0:
		fam = implied
	}
	if len(r.SrcPorts)+len(r.DstPorts) > 0 && proto != 6 && proto != 17 && proto != 132 {
		return nil, fmt.Errorf("ports need protocol tcp (6), udp (17) or sctp (132), not %d", proto)
	}
	if len(r.ICMPTypes) > 0 && proto != 1 && proto != 58 {
		return nil, fmt.Errorf("ICMP types need protocol icmp (1) or icmpv6 (58), not %d", proto)
	}
	src, err := splitPrefixes(r.Src, "src", fam)
	if err != nil {
		return nil, err
	}
	dst, err := splitPrefixes(r.Dst, "dst", fam)
	if err != nil {
		return nil, err
	}
	sport, err := portSet(r.SrcPorts)
	if err != nil {
		return nil, fmt.Errorf("src ports: %w", err)
	}
	dport, err := portSet(r.DstPorts)
	if err != nil {
		return nil, fmt.Errorf("dst ports: %w", err)
	}
	fams := []int{fam}
	if len(r.Src)+len(r.Dst) > 0 {
		fams = nil
		for _, f := range []int{4, 6} {
			if (fam == 0 || fam == f) && (len(r.Src) == 0 || len(src[f]) > 0) && (len(r.Dst) == 0 || len(dst[f]) > 0) {
				fams = append(fams, f)
			}
		}
		if len(fams) == 0 {
			return nil, errors.New("src and dst have no address family in common: the rule could never match")
		}
	}

	// The protocol part, the same for every family.
	var l4 []string
	name := protoNames[proto]
	if name == "" {
		name = strconv.Itoa(int(proto))
	}
	if sport != "" {
		l4 = append(l4, name+" sport "+sport)
	}
	if dport != "" {
		l4 = append(l4, name+" dport "+dport)
	}
	if r.Established {
		l4 = append(l4, "tcp flags & (ack | rst) != 0")
	}
	if len(r.ICMPTypes) > 0 {
		types := slices.Clone(r.ICMPTypes)
		slices.Sort(types)
		types = slices.Compact(types)
		s := make([]string, len(types))
		for i, t := range types {
			s[i] = strconv.Itoa(int(t))
		}
		l4 = append(l4, name+" type "+set(s))
	}
	if len(l4) == 0 && proto != 0 {
		l4 = append(l4, "meta l4proto "+name)
	}

	var tail []string
	if r.Stateful {
		tail = append(tail, "ct state established,related")
	}
	if r.Log {
		tail = append(tail, fmt.Sprintf("log prefix \"%s\"", logPrefix))
	}
	comment := ""
	if c := strings.TrimSpace(sanitize(r.Comment, 128)); c != "" {
		comment = fmt.Sprintf(" comment \"%s\"", c)
	}

	var lines []string
	for _, f := range fams {
		var m []string
		ip := map[int]string{4: "ip", 6: "ip6"}[f]
		if f != 0 && len(r.Src)+len(r.Dst) == 0 && implied == 0 {
			m = append(m, map[int]string{4: "meta nfproto ipv4", 6: "meta nfproto ipv6"}[f])
		}
		if len(src[f]) > 0 {
			m = append(m, ip+" saddr "+set(src[f]))
		}
		if len(dst[f]) > 0 {
			m = append(m, ip+" daddr "+set(dst[f]))
		}
		m = append(m, l4...)
		m = append(m, tail...)
		switch {
		case r.Action == Reject && proto == 6:
			lines = append(lines, join(m, "reject with tcp reset")+comment)
		case r.Action == Reject && proto == 0:
			lines = append(lines,
				join(append(slices.Clone(m), "meta l4proto tcp"), "reject with tcp reset")+comment,
				join(m, "reject with icmpx admin-prohibited")+comment)
		case r.Action == Reject:
			lines = append(lines, join(m, "reject with icmpx admin-prohibited")+comment)
		default:
			lines = append(lines, join(m, verdict)+comment)
		}
	}
	return lines, nil
}

func join(match []string, verdict string) string {
	return strings.Join(append(slices.Clone(match), verdict), " ")
}

// splitPrefixes checks ps against the rule's family and returns them by
// family (4, 6), masked, sorted, without duplicates or prefixes another
// one of the list contains.
func splitPrefixes(ps []netip.Prefix, what string, fam int) (map[int][]string, error) {
	by := map[int][]netip.Prefix{}
	for _, p := range ps {
		switch {
		case !p.IsValid():
			return nil, fmt.Errorf("%s: invalid prefix", what)
		case p.Addr().Is4In6():
			return nil, fmt.Errorf("%s: %s: use the IPv4 form, not an IPv4-mapped IPv6 one", what, p)
		case p.Addr().Zone() != "":
			return nil, fmt.Errorf("%s: %s: a zone has no meaning in a filter", what, p)
		}
		f := 6
		if p.Addr().Is4() {
			f = 4
		}
		if fam != 0 && f != fam {
			return nil, fmt.Errorf("%s: %s is IPv%d, but the rule is IPv%d", what, p, f, fam)
		}
		by[f] = append(by[f], p.Masked())
	}
	out := map[int][]string{}
	for f, list := range by {
		slices.SortFunc(list, func(a, b netip.Prefix) int {
			return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
		})
		var kept []netip.Prefix
		for _, p := range list {
			// Sorted by address then length: a container comes before what
			// it contains, so checking the last kept one suffices.
			if n := len(kept); n > 0 && kept[n-1].Bits() <= p.Bits() && kept[n-1].Contains(p.Addr()) {
				continue
			}
			kept = append(kept, p)
		}
		for _, p := range kept {
			if p.IsSingleIP() {
				out[f] = append(out[f], p.Addr().String())
			} else {
				out[f] = append(out[f], p.String())
			}
		}
	}
	return out, nil
}

// portSet renders ranges as an nft value or set, sorted, with overlapping
// and adjacent ranges merged; "" for none.
func portSet(ranges []PortRange) (string, error) {
	if len(ranges) == 0 {
		return "", nil
	}
	rs := slices.Clone(ranges)
	for _, r := range rs {
		if r.Lo > r.Hi {
			return "", fmt.Errorf("range %d-%d is backwards", r.Lo, r.Hi)
		}
	}
	slices.SortFunc(rs, func(a, b PortRange) int { return cmp.Or(cmp.Compare(a.Lo, b.Lo), cmp.Compare(a.Hi, b.Hi)) })
	merged := []PortRange{rs[0]}
	for _, r := range rs[1:] {
		last := &merged[len(merged)-1]
		if int(r.Lo) <= int(last.Hi)+1 {
			last.Hi = max(last.Hi, r.Hi)
			continue
		}
		merged = append(merged, r)
	}
	s := make([]string, len(merged))
	for i, r := range merged {
		if r.Lo == r.Hi {
			s[i] = strconv.Itoa(int(r.Lo))
		} else {
			s[i] = fmt.Sprintf("%d-%d", r.Lo, r.Hi)
		}
	}
	return set(s), nil
}

// set renders one value bare and several as an anonymous set.
func set(vals []string) string {
	if len(vals) == 1 {
		return vals[0]
	}
	return "{ " + strings.Join(vals, ", ") + " }"
}

// sanitize keeps s safe inside an nft double-quoted string, which has no
// escapes and expands $variables: printable ASCII without quotes,
// backslashes or dollars, at most max bytes. Anything else becomes '_'.
func sanitize(s string, max int) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '$' {
			b[i] = '_'
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}
