package capirca

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/internal/policy"
)

// Junos firewall filters, as aclgen's juniper generator writes them and
// as a verbatim:: juniper term holds them: read into terms and run
// packet by packet, so what aclgen rendered can be checked against what
// fwpush means, and a verbatim term read as a flow.

// JunosFilter is one `filter NAME { term … }` of a family.
type JunosFilter struct {
	Family string
	Name   string
	Terms  []*JunosTerm
}

// JunosTerm is one term: what its from matches and what its then does.
type JunosTerm struct {
	Name string
	// Src and Dst are the address lists; an entry with Except set
	// excludes what it covers (the longest matching entry decides).
	Src, Dst          []JunosAddr
	Protocols         []int
	SrcPorts, DstPort []policy.PortRange
	ICMPTypes         []int
	// Established matches TCP segments with ACK or RST.
	Established bool
	// Action is accept, discard or reject; "" goes on to the next term.
	Action string
	Log    bool
}

// JunosAddr is one address list entry.
type JunosAddr struct {
	Prefix netip.Prefix
	Except bool
}

// junosNode is one statement: its words, and its block if it has one.
type junosNode struct {
	line  int
	words []string
	kids  []*junosNode
	block bool
}

// ParseJunosFilters reads every filter of a Junos `firewall` hierarchy.
func ParseJunosFilters(text string) ([]*JunosFilter, error) {
	root, err := parseJunos(text)
	if err != nil {
		return nil, err
	}
	var out []*JunosFilter
	for _, fw := range root.kids {
		if len(fw.words) != 1 || fw.words[0] != "firewall" {
			continue
		}
		for _, n := range fw.kids {
			switch {
			case len(n.words) == 2 && n.words[0] == "family":
				for _, f := range n.kids {
					flt, err := junosFilter(n.words[1], f)
					if err != nil {
						return nil, err
					}
					out = append(out, flt)
				}
			default:
				flt, err := junosFilter("inet", n)
				if err != nil {
					return nil, err
				}
				out = append(out, flt)
			}
		}
	}
	return out, nil
}

// ParseJunosTerm reads one `term NAME { … }` (a verbatim term).
func ParseJunosTerm(text string) (*JunosTerm, error) {
	root, err := parseJunos(text)
	if err != nil {
		return nil, err
	}
	if len(root.kids) != 1 || len(root.kids[0].words) != 2 || root.kids[0].words[0] != "term" {
		return nil, fmt.Errorf("want one term NAME { … }")
	}
	return junosTerm(root.kids[0])
}

func junosFilter(family string, n *junosNode) (*JunosFilter, error) {
	w := n.words
	if len(w) > 0 && strings.HasSuffix(w[0], ":") {
		w = w[1:] // replace:, inactive:
	}
	if len(w) != 2 || w[0] != "filter" {
		return nil, fmt.Errorf("line %d: %q: want filter NAME { … }", n.line, strings.Join(n.words, " "))
	}
	f := &JunosFilter{Family: family, Name: w[1]}
	for _, k := range n.kids {
		switch {
		case len(k.words) == 1 && (k.words[0] == "interface-specific" || k.words[0] == "enhanced-mode"):
		case len(k.words) == 2 && k.words[0] == "term":
			t, err := junosTerm(k)
			if err != nil {
				return nil, err
			}
			f.Terms = append(f.Terms, t)
		default:
			return nil, fmt.Errorf("line %d: filter %s: %q is not read", k.line, f.Name, strings.Join(k.words, " "))
		}
	}
	return f, nil
}

func junosTerm(n *junosNode) (*JunosTerm, error) {
	t := &JunosTerm{Name: n.words[1]}
	bad := func(k *junosNode) error {
		return fmt.Errorf("line %d: term %s: %q is not read", k.line, t.Name, strings.Join(k.words, " "))
	}
	for _, k := range n.kids {
		switch {
		case len(k.words) == 1 && k.words[0] == "from":
			for _, m := range k.kids {
				if err := t.from(m); err != nil {
					return nil, err
				}
			}
		case len(k.words) >= 1 && k.words[0] == "then":
			acts := k.words[1:]
			for _, a := range k.kids {
				acts = append(acts, strings.Join(a.words, " "))
			}
			for _, a := range acts {
				switch {
				case a == "accept" || a == "discard" || a == "reject" || strings.HasPrefix(a, "reject "):
					t.Action = strings.Fields(a)[0]
				case a == "syslog" || a == "log":
					t.Log = true
				case a == "next term" || strings.HasPrefix(a, "count "):
				default:
					return nil, bad(k)
				}
			}
		default:
			return nil, bad(k)
		}
	}
	return t, nil
}

// from reads one match condition.
func (t *JunosTerm) from(m *junosNode) error {
	if len(m.words) == 0 {
		return fmt.Errorf("line %d: term %s: an empty match", m.line, t.Name)
	}
	key, vals := m.words[0], m.words[1:]
	for _, k := range m.kids {
		vals = append(vals, k.words...)
	}
	switch key {
	case "source-address", "destination-address":
		var list []JunosAddr
		for _, k := range m.kids {
			if len(k.words) == 0 || len(k.words) > 2 || len(k.words) == 2 && k.words[1] != "except" {
				return fmt.Errorf("line %d: term %s: %s: %q", k.line, t.Name, key, strings.Join(k.words, " "))
			}
			p, err := parseAddr(k.words[0])
			if err != nil {
				return fmt.Errorf("line %d: term %s: %v", k.line, t.Name, err)
			}
			list = append(list, JunosAddr{Prefix: p, Except: len(k.words) == 2})
		}
		if key == "source-address" {
			t.Src = append(t.Src, list...)
		} else {
			t.Dst = append(t.Dst, list...)
		}
	case "protocol", "next-header":
		for _, v := range vals {
			p, err := junosProto(v)
			if err != nil {
				return fmt.Errorf("line %d: term %s: %v", m.line, t.Name, err)
			}
			t.Protocols = append(t.Protocols, p)
		}
	case "destination-port", "source-port":
		for _, v := range vals {
			r, err := junosPort(v)
			if err != nil {
				return fmt.Errorf("line %d: term %s: %v", m.line, t.Name, err)
			}
			if key == "source-port" {
				t.SrcPorts = append(t.SrcPorts, r)
			} else {
				t.DstPort = append(t.DstPort, r)
			}
		}
	case "icmp-type", "icmp6-type":
		for _, v := range vals {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 255 {
				return fmt.Errorf("line %d: term %s: icmp-type %q: want a number", m.line, t.Name, v)
			}
			t.ICMPTypes = append(t.ICMPTypes, n)
		}
	case "tcp-established":
		t.Established = true
	default:
		return fmt.Errorf("line %d: term %s: match %q is not read", m.line, t.Name, key)
	}
	return nil
}

var junosProtos = map[string]int{"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
	"icmp6": 58, "icmpv6": 58, "ospf": 89, "pim": 103, "vrrp": 112, "sctp": 132}

func junosProto(s string) (int, error) {
	if p, ok := junosProtos[s]; ok {
		return p, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("protocol %q", s)
	}
	return n, nil
}

func junosPort(s string) (policy.PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, errA := strconv.Atoi(lo)
	b, errB := strconv.Atoi(hi)
	if errA != nil || errB != nil || a < 0 || b > 65535 || a > b {
		return policy.PortRange{}, fmt.Errorf("port %q: want a number or low-high", s)
	}
	return policy.PortRange{Lo: uint16(a), Hi: uint16(b)}, nil
}

// Permits runs p through the filter: the first term that matches and
// has an action decides; none is Junos's implicit discard. It returns the
// deciding term (nil for the implicit discard).
func (f *JunosFilter) Permits(p netacl.Packet) (bool, *JunosTerm) {
	for _, t := range f.Terms {
		if t.Matches(p) && t.Action != "" {
			return t.Action == "accept", t
		}
	}
	return false, nil
}

// Matches says whether the term's from matches p.
func (t *JunosTerm) Matches(p netacl.Packet) bool {
	if !addrIn(t.Src, p.Src) || !addrIn(t.Dst, p.Dst) {
		return false
	}
	if len(t.Protocols) > 0 && !containsInt(t.Protocols, p.Proto) {
		return false
	}
	ports := p.Proto == 6 || p.Proto == 17 || p.Proto == 132
	if len(t.DstPort) > 0 && (!ports || !rangeIn(t.DstPort, p.DstPort)) {
		return false
	}
	if len(t.SrcPorts) > 0 && (!ports || !rangeIn(t.SrcPorts, p.SrcPort)) {
		return false
	}
	if len(t.ICMPTypes) > 0 && ((p.Proto != 1 && p.Proto != 58) || !containsInt(t.ICMPTypes, p.ICMPType)) {
		return false
	}
	return !t.Established || p.Proto == 6 && p.Ack
}

// addrIn: an empty list is any address; else the longest entry holding a
// decides, and an except entry excludes.
func addrIn(list []JunosAddr, a netip.Addr) bool {
	if len(list) == 0 {
		return true
	}
	best := -1
	except := false
	for _, e := range list {
		if e.Prefix.Contains(a) && e.Prefix.Bits() > best {
			best, except = e.Prefix.Bits(), e.Except
		}
	}
	return best >= 0 && !except
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func rangeIn(rs []policy.PortRange, port int) bool {
	for _, r := range rs {
		if port >= int(r.Lo) && port <= int(r.Hi) {
			return true
		}
	}
	return false
}

// parseJunos reads curly-brace configuration into statements: words up
// to ';' or a block; [ … ] lists are words; /* */ and # comments and
// quoted strings are handled.
func parseJunos(text string) (*junosNode, error) {
	root := &junosNode{block: true}
	stack := []*junosNode{root}
	var cur []string
	line, curLine := 1, 1
	flush := func(block bool) *junosNode {
		n := &junosNode{line: curLine, words: cur, block: block}
		top := stack[len(stack)-1]
		top.kids = append(top.kids, n)
		cur = nil
		return n
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\n':
			line++
		case c == ' ' || c == '\t' || c == '\r':
		case c == '/' && i+1 < len(rs) && rs[i+1] == '*':
			j := i + 2
			for j+1 < len(rs) && !(rs[j] == '*' && rs[j+1] == '/') {
				if rs[j] == '\n' {
					line++
				}
				j++
			}
			if j+1 >= len(rs) {
				return nil, fmt.Errorf("line %d: a comment that never ends", line)
			}
			i = j + 1
		case c == '#':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			i--
		case c == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				if rs[j] == '\n' {
					line++
				}
				j++
			}
			if len(cur) == 0 {
				curLine = line
			}
			cur = append(cur, string(rs[i+1:j]))
			i = j
		case c == '[' || c == ']':
			// A list is its words.
		case c == ';':
			if len(cur) > 0 {
				flush(false)
			}
		case c == '{':
			n := flush(true)
			stack = append(stack, n)
		case c == '}':
			if len(cur) > 0 {
				flush(false)
			}
			if len(stack) == 1 {
				return nil, fmt.Errorf("line %d: } without {", line)
			}
			stack = stack[:len(stack)-1]
		default:
			j := i
			for j < len(rs) && !strings.ContainsRune(" \t\r\n;{}[]\"", rs[j]) {
				j++
			}
			if len(cur) == 0 {
				curLine = line
			}
			cur = append(cur, string(rs[i:j]))
			i = j - 1
		}
	}
	if len(stack) != 1 {
		return nil, fmt.Errorf("line %d: { never closed", line)
	}
	return root, nil
}
