package capirca

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"

	"go4.org/netipx"

	"github.com/fwpush/fwpush/internal/policy"
)

// ImportOptions steer an import.
type ImportOptions struct {
	// Filter picks the filters (by a target's filter name) when the
	// policy has several that cover one address family differently.
	Filter string
	// Name is the playbook's name; empty means the filter's.
	Name string
	// Today decides which terms have expired; zero means now.
	Today time.Time
}

// Imported is a policy as fwpush files: a playbook, and the networks
// (and management networks) for the inventory's networks.yaml.
type Imported struct {
	Name     string
	Playbook string
	Networks string
	// Warnings are what the import kept or left out with a change of
	// meaning a reader must know, each "file:line: message".
	Warnings []string
}

// importer holds what an import builds.
type importer struct {
	pol  *Policy
	defs *Defs
	o    ImportOptions
	warn []string
	// names maps every fwpush name given so far to what it stands for.
	names map[string]string
	roles map[string]*role
	// roleOf is the plain role of a token.
	roleOf   map[string]string
	services map[string]string // service token → name
	flows    []*flowOut
	mgmt     []netip.Prefix
	icmp     []int
	icmpSet  bool
	logDrops bool
	egress   bool
	comments []string
}

// role is a playbook role: a token's (the token's addresses fill it) or
// one the import derives (a token minus an exclude, or one family).
type role struct {
	name, token, desc string
	// prefixes fill a derived role.
	prefixes []netip.Prefix
}

// flowOut is a flow being built from one or more consecutive terms.
type flowOut struct {
	key      string
	from, to []string
	matches  []policy.Match
	tokens   []string
	why      string
	log      bool
	action   string
	comments []string
}

// Import turns a parsed policy and its definitions into a playbook and
// networks; what fwpush cannot express is refused, naming file:line and
// the construct.
func Import(pol *Policy, defs *Defs, o ImportOptions) (*Imported, error) {
	if o.Today.IsZero() {
		o.Today = time.Now()
	}
	im := &importer{pol: pol, defs: defs, o: o, names: map[string]string{policy.Any: "the world"}, roles: map[string]*role{},
		roleOf: map[string]string{}, services: map[string]string{}}
	filters, err := im.selectFilters()
	if err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = fwpushName(filters[0].Header.Targets[0].Name)
	}
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("playbook name %q: use lower-case letters, digits and '-' (--name)", name)
	}
	for _, f := range filters {
		if err := im.filter(f); err != nil {
			return nil, err
		}
	}
	if len(im.flows) == 0 {
		return nil, fmt.Errorf("%s: no term becomes a flow: a playbook needs at least one", pol.File)
	}
	out := &Imported{Name: name, Warnings: im.warn}
	if out.Playbook, err = im.playbookYAML(name, filters); err != nil {
		return nil, err
	}
	if out.Networks, err = im.networksYAML(); err != nil {
		return nil, err
	}
	return out, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// fwpushName is a Capirca token or filter name as a fwpush name.
func fwpushName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

func (im *importer) warnf(p Pos, format string, args ...any) {
	im.warn = append(im.warn, p.Errorf(format, args...).Error())
}

// claim gives name to what; one name for two things is an error.
func (im *importer) claim(name, what string, at Pos) error {
	if name == "" || !nameRE.MatchString(name) {
		return at.Errorf("%s has no usable fwpush name (lower-case letters, digits and '-')", what)
	}
	if prev, ok := im.names[name]; ok && prev != what {
		return at.Errorf("%s and %s would both be named %q in fwpush", prev, what, name)
	}
	im.names[name] = what
	return nil
}

// selectFilters picks the filters to import and checks they combine:
// filters of different families add up (their packets never meet), two
// of one family must be the same terms.
func (im *importer) selectFilters() ([]*Filter, error) {
	var out []*Filter
	var names []string
	for _, f := range im.pol.Filters {
		keep := im.o.Filter == ""
		for _, t := range f.Header.Targets {
			names = append(names, t.Name)
			keep = keep || t.Name == im.o.Filter
		}
		if keep {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no filter named %q (filters: %s)", im.pol.File, im.o.Filter, strings.Join(uniq(names), ", "))
	}
	var kept []*Filter
	seen := map[int]*Filter{}
	for _, f := range out {
		fams, err := families(f.Header)
		if err != nil {
			return nil, err
		}
		dup := false
		for fam := range fams {
			if prev := seen[fam]; prev != nil {
				if termsText(prev) != termsText(f) {
					return nil, f.Header.Pos.Errorf("this filter and the one at %s both cover IPv%d with different terms: choose one with --filter (filters: %s)",
						prev.Header.Pos, fam, strings.Join(uniq(names), ", "))
				}
				dup = true
			}
			seen[fam] = f
		}
		if !dup {
			kept = append(kept, f)
		}
	}
	return kept, nil
}

func termsText(f *Filter) string {
	var b strings.Builder
	for _, t := range f.Terms {
		fmt.Fprintf(&b, "%s{", t.Name)
		for _, fl := range t.Fields {
			fmt.Fprintf(&b, "%s:", fl.Key)
			for _, v := range fl.Values {
				fmt.Fprintf(&b, "%q", v.Text)
			}
		}
		b.WriteString("}")
	}
	return b.String()
}

// Platforms whose address family options the import reads.
var (
	ciscoFamily  = map[string]bool{"cisco": true, "cisconx": true, "ciscoxr": true, "arista": true, "brocade": true}
	juniperLike  = map[string]bool{"juniper": true, "juniperevo": true, "msmpc": true}
	knownTargets = "cisco, cisconx, ciscoxr, arista, brocade, juniper, juniperevo, msmpc"
)

// families are the address families a filter renders, the union over
// its targets: Cisco-like ones read their filter type (extended, the
// default, is IPv4), Juniper-like ones inet (the default), inet6, mixed.
func families(h *Header) (map[int]bool, error) {
	out := map[int]bool{}
	for _, t := range h.Targets {
		var opts []string
		for _, o := range t.Options {
			if o != "noverbose" {
				opts = append(opts, o)
			}
		}
		switch {
		case ciscoFamily[t.Platform]:
			typ := "extended"
			if len(opts) > 0 {
				typ = opts[0]
			}
			switch typ {
			case "extended", "object-group":
				out[4] = true
			case "inet6":
				out[6] = true
			case "mixed":
				out[4], out[6] = true, true
			case "standard":
				return nil, t.Pos.Errorf("target %s %s standard: a standard ACL matches sources only; fwpush flows always name both ends", t.Platform, t.Name)
			default:
				return nil, t.Pos.Errorf("target %s %s: filter type %q is not one fwpush reads (extended, object-group, inet6, mixed)", t.Platform, t.Name, typ)
			}
		case juniperLike[t.Platform]:
			fam := 0
			for _, o := range opts {
				switch o {
				case "inet":
					fam |= 1
				case "inet6":
					fam |= 2
				case "mixed":
					fam |= 3
				case "bridge":
					return nil, t.Pos.Errorf("target %s %s bridge: a layer-2 filter has no fwpush flow", t.Platform, t.Name)
				}
			}
			if fam == 0 {
				fam = 1
			}
			out[4], out[6] = out[4] || fam&1 != 0, out[6] || fam&2 != 0
		default:
			return nil, t.Pos.Errorf("target %s: fwpush reads the policies of %s targets (their default deny and address families are known to it)", t.Platform, knownTargets)
		}
	}
	return out, nil
}

// filter imports one filter's terms.
func (im *importer) filter(f *Filter) error {
	fams, err := families(f.Header)
	if err != nil {
		return err
	}
	for _, c := range f.Header.Comments {
		if rest, ok := strings.CutPrefix(c, optionsComment); ok {
			for _, w := range strings.Fields(rest) {
				if w != "egress" {
					return f.Header.Pos.Errorf("header comment %q: unknown fwpush option %q", c, w)
				}
				im.egress = true
			}
			continue
		}
		im.comments = append(im.comments, c)
	}
	for _, fl := range f.Header.Fields {
		im.warnf(fl.Pos, "header %s:: left out: it does not change what the filter permits", fl.Key)
	}
	var platforms []string
	for _, t := range f.Header.Targets {
		platforms = append(platforms, t.Platform)
	}
	for i, t := range f.Terms {
		fo, err := im.term(t, fams, platforms, i == len(f.Terms)-1)
		if err != nil {
			return err
		}
		if fo == nil {
			continue
		}
		if n := len(im.flows); n > 0 && im.flows[n-1].key == fo.key {
			// Consecutive terms alike but for their protocols are one flow
			// split for Capirca's protocol × port product: together they
			// permit what the flow does.
			last := im.flows[n-1]
			last.matches = append(last.matches, fo.matches...)
			for _, tok := range fo.tokens {
				if !contains(last.tokens, tok) {
					last.tokens = append(last.tokens, tok)
				}
			}
			last.comments = append(last.comments, fo.comments...)
			continue
		}
		im.flows = append(im.flows, fo)
	}
	return nil
}

// supported are the term keywords the import reads; reasons say why the
// others are refused.
var supported = map[string]bool{"comment": true, "owner": true, "action": true, "source-address": true, "source-exclude": true,
	"destination-address": true, "destination-exclude": true, "protocol": true, "destination-port": true, "icmp-type": true,
	"option": true, "logging": true, "log_name": true, "log-limit": true, "counter": true, "traffic-class-count": true,
	"expiration": true, "platform": true, "platform-exclude": true, "restrict-address-family": true, "verbatim": true}

var reasons = map[string]string{
	"source-port":           "a fwpush flow matches destination ports only (replies are the established rule's)",
	"port":                  "a fwpush flow matches destination ports only",
	"address":               "an address on either side is no one flow: write source and destination",
	"address-exclude":       "an address on either side is no one flow: write source and destination",
	"icmp-code":             "a fwpush flow matches ICMP types, not codes",
	"source-prefix":         "it names a prefix list of the device, whose addresses fwpush does not know",
	"destination-prefix":    "it names a prefix list of the device, whose addresses fwpush does not know",
	"protocol-except":       "a fwpush flow names the protocols it opens",
	"source-interface":      "fwpush flows are between addresses, not interfaces",
	"destination-interface": "fwpush flows are between addresses, not interfaces",
	"routing-instance":      "fwpush permits or denies; it does not route",
	"next-ip":               "fwpush permits or denies; it does not route",
	"filter-term":           "fwpush permits or denies; it does not jump to other filters",
}

// term reads one term into a flow; nil when the term is fwpush's own
// always-on rule, covered by one, or matches nothing here.
func (im *importer) term(t *Term, fams map[int]bool, platforms []string, last bool) (*flowOut, error) {
	for _, f := range t.Fields {
		if !supported[f.Key] {
			why := reasons[f.Key]
			if why == "" {
				why = "fwpush has no such match or action"
			}
			return nil, f.Pos.Errorf("term %s: %s:: cannot be expressed: %s", t.Name, f.Key, why)
		}
	}
	if skip, err := im.platformScope(t, platforms); err != nil || skip {
		return nil, err
	}
	if done, err := im.ownTerm(t); err != nil || done {
		return nil, err
	}
	if len(t.Get("verbatim")) > 0 {
		return nil, t.Get("verbatim")[0].Pos.Errorf("term %s: verbatim:: device text fwpush cannot read as a flow", t.Name)
	}
	for _, e := range t.Get("expiration") {
		day, err := time.Parse("2006-01-02", joinWords(e.Values))
		if err != nil {
			return nil, e.Pos.Errorf("term %s: expiration:: want YYYY-MM-DD", t.Name)
		}
		if !day.After(im.o.Today) {
			im.warnf(e.Pos, "term %s expired on %s: left out, as aclgen leaves it out", t.Name, day.Format("2006-01-02"))
			return nil, nil
		}
		im.warnf(e.Pos, "term %s expires on %s: fwpush has no expiry; remove the flow then", t.Name, day.Format("2006-01-02"))
	}
	for _, key := range []string{"counter", "traffic-class-count", "log_name", "log-limit"} {
		for _, c := range t.Get(key) {
			im.warnf(c.Pos, "term %s: %s:: %s left out: fwpush keeps no per-rule counters or log names; what the term permits is unchanged", t.Name, key, joinWords(c.Values))
		}
	}
	action, err := termAction(t)
	if err != nil {
		return nil, err
	}
	for _, o := range t.Words("option") {
		switch o.Text {
		case "established", "tcp-established":
			if action != "permit" {
				return nil, o.Pos.Errorf("term %s: option:: %s with action %s: fwpush cannot deny replies", t.Name, o.Text, action)
			}
			im.warnf(o.Pos, "term %s matches replies only (option %s): left out, fwpush's established rule always permits them", t.Name, o.Text)
			return nil, nil
		case "tcp-initial", "initial":
		default:
			return nil, o.Pos.Errorf("term %s: option:: %s cannot be expressed: fwpush flows match new connections", t.Name, o.Text)
		}
	}
	if catchAll(t) && action != "permit" {
		if !last {
			return nil, t.Pos.Errorf("term %s denies everything, yet terms follow it: they could never match", t.Name)
		}
		// The filter's own default deny, written out.
		im.logDrops = im.logDrops || logs(t)
		return nil, nil
	}
	if r := t.Words("restrict-address-family"); len(r) > 0 {
		keep := map[string]int{"inet": 4, "inet6": 6}[r[0].Text]
		if keep == 0 {
			return nil, r[0].Pos.Errorf("term %s: restrict-address-family:: %s: want inet or inet6", t.Name, r[0].Text)
		}
		fams = map[int]bool{keep: fams[keep]}
	}
	if !fams[4] && !fams[6] {
		return nil, nil
	}
	matches, tokens, err := im.matches(t, fams)
	if err != nil || len(matches) == 0 {
		return nil, err
	}
	single := !(fams[4] && fams[6])
	from, err := im.side(t, "source-address", "source-exclude", fams, single)
	if err != nil || from == nil {
		return nil, err
	}
	to, err := im.side(t, "destination-address", "destination-exclude", fams, false)
	if err != nil || to == nil {
		return nil, err
	}
	fo := &flowOut{from: from, to: to, matches: matches, tokens: tokens, action: action, log: logs(t)}
	var why []string
	for _, c := range t.Words("comment") {
		why = append(why, c.Text)
	}
	fo.why = strings.Join(why, " ")
	if fo.why == "" {
		fo.why = "Capirca term " + t.Name
	}
	fo.comments = append(fo.comments, fmt.Sprintf("term %s (%s)", t.Name, t.Pos))
	for _, o := range t.Words("owner") {
		fo.comments = append(fo.comments, "owner "+o.Text)
	}
	fo.key = fmt.Sprintf("%q %q %s %v %q", fo.from, fo.to, fo.action, fo.log, fo.why)
	return fo, nil
}

// platformScope reads platform:: and platform-exclude::: a term for all
// of the filter's targets is kept, one for none left out; one for some
// would mean different things on different devices.
func (im *importer) platformScope(t *Term, platforms []string) (skip bool, err error) {
	only, not := t.Words("platform"), t.Words("platform-exclude")
	if len(only)+len(not) == 0 {
		return false, nil
	}
	in := 0
	for _, p := range platforms {
		ok := len(only) == 0
		for _, v := range only {
			ok = ok || v.Text == p
		}
		for _, v := range not {
			ok = ok && v.Text != p
		}
		if ok {
			in++
		}
	}
	switch in {
	case len(platforms):
		return false, nil
	case 0:
		im.warnf(t.Pos, "term %s is for none of the filter's targets (%s): left out", t.Name, strings.Join(platforms, ", "))
		return true, nil
	}
	return false, t.Pos.Errorf("term %s applies to some of the filter's targets (%s) only: one fwpush playbook means one policy everywhere; split the filter by target",
		t.Name, strings.Join(platforms, ", "))
}

// ownTerm reads back the terms fwpush exports for its always-on rules.
func (im *importer) ownTerm(t *Term) (bool, error) {
	switch {
	case t.Name == termEstablished || t.Name == termICMPv6:
		return true, nil
	case t.Name == termICMP:
		for _, v := range t.Words("icmp-type") {
			n, ok := icmpTypes[policy.ICMP][v.Text]
			if !ok {
				return true, v.Pos.Errorf("term %s: icmp-type %s is not an ICMP type Capirca names", t.Name, v.Text)
			}
			im.icmp = append(im.icmp, n)
		}
		im.icmpSet = true
		return true, nil
	case strings.HasPrefix(t.Name, termManagement+"-"):
		for _, v := range t.Words("source-address") {
			addrs, err := im.defs.Network(v.Text)
			if err != nil {
				return true, v.Pos.Errorf("term %s: %v", t.Name, err)
			}
			for _, a := range addrs {
				if !containsPrefix(im.mgmt, a.Prefix) {
					im.mgmt = append(im.mgmt, a.Prefix)
				}
			}
		}
		return true, nil
	case t.Name == termDefaultDeny:
		im.logDrops = logs(t)
		return true, nil
	}
	return false, nil
}

func containsPrefix(ps []netip.Prefix, p netip.Prefix) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// catchAll says whether a term matches every packet.
func catchAll(t *Term) bool {
	for _, k := range []string{"source-address", "source-exclude", "destination-address", "destination-exclude", "protocol",
		"destination-port", "icmp-type", "option", "restrict-address-family"} {
		if len(t.Get(k)) > 0 {
			return false
		}
	}
	return true
}

func termAction(t *Term) (string, error) {
	acts := t.Words("action")
	if len(acts) != 1 {
		return "", t.Pos.Errorf("term %s: want exactly one action:: (accept, deny, reject)", t.Name)
	}
	switch acts[0].Text {
	case "accept":
		return "permit", nil
	case "deny":
		return "deny", nil
	case "reject", "reject-with-tcp-rst":
		return "reject", nil
	case "next":
		return "", acts[0].Pos.Errorf("term %s: action:: next cannot be expressed: a fwpush flow decides", t.Name)
	}
	return "", acts[0].Pos.Errorf("term %s: action:: %s: want accept, deny or reject", t.Name, acts[0].Text)
}

func logs(t *Term) bool {
	for _, v := range t.Words("logging") {
		switch strings.ToLower(v.Text) {
		case "false", "disable":
		default:
			return true
		}
	}
	return false
}

func joinWords(vs []Value) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Text
	}
	return strings.Join(out, " ")
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// matches are a term's protocols with Capirca's meaning: the ports of
// every destination-port token for any of the term's protocols apply to
// each of them (Capirca's protocol × port product), ICMP types to the
// ICMP protocols, in the order the protocols are listed.
func (im *importer) matches(t *Term, fams map[int]bool) ([]policy.Match, []string, error) {
	protos := t.Words("protocol")
	if len(protos) == 0 {
		return nil, nil, t.Pos.Errorf("term %s matches every protocol: a fwpush flow names its protocols (protocol:: tcp udp icmp …)", t.Name)
	}
	var ps []policy.Proto
	for _, v := range protos {
		p, err := parseCapircaProto(v.Text)
		if err != nil {
			return nil, nil, v.Pos.Errorf("term %s: %v", t.Name, err)
		}
		if p == policy.ICMP && !fams[4] || p == policy.ICMPv6 && !fams[6] {
			continue // the filter renders it for no family it has
		}
		ps = append(ps, p)
	}
	dports := t.Words("destination-port")
	var ranges []policy.PortRange
	var tokens []string
	for _, v := range dports {
		svc, err := im.defs.Service(v.Text)
		if err != nil {
			return nil, nil, v.Pos.Errorf("term %s: %v", t.Name, err)
		}
		tokens = append(tokens, v.Text)
		for _, p := range ps {
			found := false
			for _, pr := range svc {
				if pr.Proto == p.String() {
					ranges = append(ranges, pr.Range)
					found = true
				}
			}
			if !found && p.HasPorts() {
				im.warnf(v.Pos, "term %s: service %s has no %s ports, yet Capirca gives %s the term's other ports: so does this import", t.Name, v.Text, p, p)
			}
		}
	}
	ranges = policy.MergePorts(ranges)
	icmp := t.Words("icmp-type")
	var out []policy.Match
	for _, p := range ps {
		m := policy.Match{Proto: p}
		switch {
		case len(dports) > 0 && !p.HasPorts():
			return nil, nil, t.Pos.Errorf("term %s: destination-port:: with protocol %s, which has no ports", t.Name, p)
		case len(dports) > 0:
			if len(ranges) == 0 {
				return nil, nil, dports[0].Pos.Errorf("term %s: no destination port of its protocols", t.Name)
			}
			m.Ports = ranges
		case p.IsICMP() && len(icmp) > 0:
			for _, v := range icmp {
				n, ok := icmpTypes[p][v.Text]
				if !ok {
					return nil, nil, v.Pos.Errorf("term %s: icmp-type %s is no %s type Capirca names", t.Name, v.Text, p)
				}
				m.ICMP = append(m.ICMP, n)
			}
		}
		out = append(out, m)
	}
	if len(icmp) > 0 && !hasICMP(ps) {
		return nil, nil, icmp[0].Pos.Errorf("term %s: icmp-type:: without protocol icmp or icmpv6", t.Name)
	}
	if len(ps) == 0 {
		im.warnf(t.Pos, "term %s: its protocols exist in none of the filter's address families: left out", t.Name)
	}
	return out, tokens, nil
}

func hasICMP(ps []policy.Proto) bool {
	for _, p := range ps {
		if p.IsICMP() {
			return true
		}
	}
	return false
}

// capircaProtos are protocol names Capirca knows beyond fwpush's own.
var capircaProtos = map[string]policy.Proto{"hopopt": 0, "ipip": 4, "egp": 8, "igp": 9, "ipv6": 41, "rsvp": 46, "l2tp": 115}

func parseCapircaProto(s string) (policy.Proto, error) {
	if p, ok := capircaProtos[s]; ok {
		return p, nil
	}
	p, err := policy.ParseProto(s)
	if err != nil {
		return 0, fmt.Errorf("protocol %s: fwpush knows tcp, udp, sctp, icmp, icmpv6, gre, esp, ah, ospf, vrrp, igmp, pim and numbers", s)
	}
	return p, nil
}

// side is a term's source or destination as flow endpoints: its tokens'
// roles, or a role derived for what excludes leave (or, for the source
// of a one-family filter, for that family alone); nil when nothing is
// left, so the term matches nothing.
func (im *importer) side(t *Term, addrKey, exclKey string, fams map[int]bool, restrict bool) ([]string, error) {
	toks, excl := t.Words(addrKey), t.Words(exclKey)
	var all []netip.Prefix
	var names []string
	for _, v := range toks {
		addrs, err := im.defs.Network(v.Text)
		if err != nil {
			return nil, v.Pos.Errorf("term %s: %v", t.Name, err)
		}
		n, err := im.tokenRole(v.Text, v.Pos)
		if err != nil {
			return nil, err
		}
		names = append(names, n)
		for _, a := range addrs {
			all = append(all, a.Prefix)
		}
	}
	var b netipx.IPSetBuilder
	if len(toks) == 0 {
		b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
		b.AddPrefix(netip.MustParsePrefix("::/0"))
		names = []string{policy.Any}
	}
	for _, p := range all {
		b.AddPrefix(p)
	}
	var exNames []string
	for _, v := range excl {
		addrs, err := im.defs.Network(v.Text)
		if err != nil {
			return nil, v.Pos.Errorf("term %s: %v", t.Name, err)
		}
		exNames = append(exNames, fwpushName(v.Text))
		for _, a := range addrs {
			b.RemovePrefix(a.Prefix)
		}
	}
	whole, _ := b.IPSet()
	if restrict {
		for fam, pr := range map[int]string{4: "0.0.0.0/0", 6: "::/0"} {
			if !fams[fam] {
				b.RemovePrefix(netip.MustParsePrefix(pr))
			}
		}
	}
	set, _ := b.IPSet()
	if len(set.Prefixes()) == 0 {
		im.warnf(t.Pos, "term %s: its %s holds no address here: left out", t.Name, strings.TrimSuffix(addrKey, "-address"))
		return nil, nil
	}
	if len(excl) == 0 && set.Equal(whole) {
		return names, nil
	}
	name := strings.Join(names, "-")
	if len(excl) > 0 {
		name += "-except-" + strings.Join(exNames, "-")
	}
	if restrict && !set.Equal(whole) {
		name += map[bool]string{true: "-ipv4", false: "-ipv6"}[fams[4]]
	}
	if _, ok := im.roles[name]; !ok {
		desc := fmt.Sprintf("term %s (%s): %s", t.Name, t.Pos, strings.Join(names, ", "))
		if len(excl) > 0 {
			desc += " except " + strings.Join(exNames, ", ")
		}
		if err := im.claim(name, "role "+name, t.Pos); err != nil {
			return nil, err
		}
		im.roles[name] = &role{name: name, desc: desc, prefixes: set.Prefixes()}
	}
	return []string{name}, nil
}

// tokenRole is the role of a network token.
func (im *importer) tokenRole(tok string, at Pos) (string, error) {
	if n, ok := im.roleOf[tok]; ok {
		return n, nil
	}
	if covers, err := im.coversAll(tok); err != nil || covers {
		// A token for every address is Capirca's way to say any.
		im.roleOf[tok] = policy.Any
		return policy.Any, err
	}
	n := fwpushName(tok)
	if err := im.claim(n, "network token "+tok, at); err != nil {
		return "", err
	}
	im.roleOf[tok] = n
	desc := "Capirca network " + tok
	if d := im.defs.Networks[tok]; d != nil {
		desc += fmt.Sprintf(" (%s)", d.Pos)
	}
	im.roles[n] = &role{name: n, token: tok, desc: desc}
	return n, nil
}

// coversAll says whether a token holds every address of both families.
func (im *importer) coversAll(tok string) (bool, error) {
	addrs, err := im.defs.Network(tok)
	if err != nil {
		return false, err
	}
	var b netipx.IPSetBuilder
	for _, a := range addrs {
		b.AddPrefix(a.Prefix)
	}
	s, _ := b.IPSet()
	ps := s.Prefixes()
	return len(ps) == 2 && ps[0].Bits() == 0 && ps[1].Bits() == 0, nil
}

// sortedRoles lists the roles by name.
func (im *importer) sortedRoles() []*role {
	out := make([]*role, 0, len(im.roles))
	for _, r := range im.roles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
