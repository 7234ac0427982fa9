package juniperjunos

import (
	"fmt"
	"net/netip"
	"strings"
)

// The canonical text is the owned configuration as `show configuration`
// prints it (curly braces, four-space indent), limited to the three
// hierarchies fwpush owns parts of: policy-options, firewall, interfaces.
// Render produces it, Fetch reads the device into it, and parse reads it
// back for Apply, Rollback and the semantic diff.

func (c Config) text() string {
	var b strings.Builder
	w := func(depth int, format string, args ...any) {
		b.WriteString(strings.Repeat("    ", depth))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	if len(c.PrefixLists) > 0 {
		w(0, "policy-options {")
		for _, pl := range c.PrefixLists {
			w(1, "prefix-list %s {", pl.Name)
			for _, p := range pl.Prefixes {
				w(2, "%s;", p)
			}
			w(1, "}")
		}
		w(0, "}")
	}
	if len(c.Filters) > 0 {
		w(0, "firewall {")
		fam := ""
		for _, f := range c.Filters {
			if f.Family != fam {
				if fam != "" {
					w(1, "}")
				}
				fam = f.Family
				w(1, "family %s {", fam)
			}
			w(2, "filter %s {", f.Name)
			for _, t := range f.Terms {
				t.write(w, 3, f.Family)
			}
			w(2, "}")
		}
		w(1, "}")
		w(0, "}")
	}
	if len(c.Bindings) > 0 {
		w(0, "interfaces {")
		bs := c.Bindings
		for len(bs) > 0 {
			iface := bs[0].Interface
			w(1, "%s {", iface)
			for len(bs) > 0 && bs[0].Interface == iface {
				unit := bs[0].Unit
				w(2, "unit %s {", unit)
				for len(bs) > 0 && bs[0].Interface == iface && bs[0].Unit == unit {
					fam := bs[0].Family
					w(3, "family %s {", fam)
					w(4, "filter {")
					for len(bs) > 0 && bs[0].Interface == iface && bs[0].Unit == unit && bs[0].Family == fam {
						w(5, "%s %s;", bs[0].Direction, bs[0].Filter)
						bs = bs[1:]
					}
					w(4, "}")
					w(3, "}")
				}
				w(2, "}")
			}
			w(1, "}")
		}
		w(0, "}")
	}
	return b.String()
}

func (t Term) write(w func(int, string, ...any), d int, family string) {
	w(d, "term %s {", t.Name)
	if t.hasFrom() {
		w(d+1, "from {")
		for _, l := range []struct {
			kw    string
			names []string
		}{{"source-prefix-list", t.SrcLists}, {"destination-prefix-list", t.DstLists}} {
			if len(l.names) > 0 {
				w(d+2, "%s {", l.kw)
				for _, n := range l.names {
					w(d+3, "%s;", n)
				}
				w(d+2, "}")
			}
		}
		if t.Protocol != "" {
			w(d+2, "%s %s;", protocolKeyword(family), t.Protocol)
		}
		for _, l := range []struct {
			kw   string
			vals []string
		}{{"source-port", t.SrcPorts}, {"destination-port", t.DstPorts}, {"icmp-type", t.ICMPTypes}} {
			switch len(l.vals) {
			case 0:
			case 1:
				w(d+2, "%s %s;", l.kw, l.vals[0])
			default:
				w(d+2, "%s [ %s ];", l.kw, strings.Join(l.vals, " "))
			}
		}
		if t.TCPEstablished {
			w(d+2, "tcp-established;")
		}
		w(d+1, "}")
	}
	if t.Count == "" && !t.Syslog {
		w(d+1, "then %s;", t.Action)
	} else {
		w(d+1, "then {")
		if t.Count != "" {
			w(d+2, "count %s;", t.Count)
		}
		if t.Syslog {
			w(d+2, "syslog;")
		}
		w(d+2, "%s;", t.Action)
		w(d+1, "}")
	}
	for _, f := range t.Foreign {
		w(d+1, "/* not fwpush's: %s */", strings.ReplaceAll(f, "*/", "* /"))
	}
	w(d, "}")
}

func (t Term) hasFrom() bool {
	return len(t.SrcLists)+len(t.DstLists)+len(t.SrcPorts)+len(t.DstPorts)+len(t.ICMPTypes) > 0 ||
		t.Protocol != "" || t.TCPEstablished
}

// protocolKeyword is how a family's filters name the protocol: IPv6
// filters match the next header.
func protocolKeyword(family string) string {
	if family == "inet6" {
		return "next-header"
	}
	return "protocol"
}

// node is one statement of the text: its words, and its block when it
// has one.
type node struct {
	words    []string
	children []*node
	block    bool
	comment  string
	line     int
}

// parseText reads the canonical text back. It accepts exactly what text
// writes (in any order of statements within a block) and refuses the rest,
// naming the line.
func parseText(s string) (Config, error) {
	toks, err := tokenize(s)
	if err != nil {
		return Config{}, err
	}
	p := &parser{toks: toks}
	nodes, err := p.block(false)
	if err != nil {
		return Config{}, err
	}
	var c Config
	for _, n := range nodes {
		switch {
		case n.is("policy-options"):
			err = c.readPolicyOptions(n)
		case n.is("firewall"):
			err = c.readFirewall(n)
		case n.is("interfaces"):
			err = c.readInterfaces(n)
		default:
			err = n.unexpected()
		}
		if err != nil {
			return Config{}, err
		}
	}
	c.normalize()
	return c, nil
}

func (n *node) is(words ...string) bool {
	if len(n.words) != len(words) {
		return false
	}
	for i, w := range words {
		if w != "*" && n.words[i] != w {
			return false
		}
	}
	return true
}

func (n *node) unexpected() error {
	if n.comment != "" {
		return fmt.Errorf("line %d: unexpected comment %q", n.line, n.comment)
	}
	return fmt.Errorf("line %d: unexpected statement %q", n.line, strings.Join(n.words, " "))
}

func (c *Config) readPolicyOptions(n *node) error {
	for _, pl := range n.children {
		if !pl.block || !pl.is("prefix-list", "*") {
			return pl.unexpected()
		}
		l := PrefixList{Name: pl.words[1]}
		for _, e := range pl.children {
			if e.block || len(e.words) != 1 {
				return e.unexpected()
			}
			p, err := netip.ParsePrefix(e.words[0])
			if err != nil {
				return fmt.Errorf("line %d: %w", e.line, err)
			}
			l.Prefixes = append(l.Prefixes, p)
		}
		c.PrefixLists = append(c.PrefixLists, l)
	}
	return nil
}

func (c *Config) readFirewall(n *node) error {
	for _, fam := range n.children {
		if !fam.block || !fam.is("family", "*") || fam.words[1] != "inet" && fam.words[1] != "inet6" {
			return fam.unexpected()
		}
		for _, fn := range fam.children {
			if !fn.block || !fn.is("filter", "*") {
				return fn.unexpected()
			}
			f := Filter{Family: fam.words[1], Name: fn.words[1]}
			for _, tn := range fn.children {
				if !tn.block || !tn.is("term", "*") {
					return tn.unexpected()
				}
				t, err := readTerm(tn, f.Family)
				if err != nil {
					return err
				}
				f.Terms = append(f.Terms, t)
			}
			c.Filters = append(c.Filters, f)
		}
	}
	return nil
}

func readTerm(n *node, family string) (Term, error) {
	t := Term{Name: n.words[1]}
	for _, s := range n.children {
		switch {
		case s.comment != "":
			t.Foreign = append(t.Foreign, strings.TrimPrefix(s.comment, "not fwpush's: "))
		case s.block && s.is("from"):
			if err := t.readFrom(s, family); err != nil {
				return t, err
			}
		case s.block && s.is("then"):
			for _, a := range s.children {
				switch {
				case a.is("count", "*"):
					t.Count = a.words[1]
				case a.is("syslog"):
					t.Syslog = true
				case a.is("accept"), a.is("discard"), a.is("reject"):
					t.Action = a.words[0]
				default:
					return t, a.unexpected()
				}
			}
		case !s.block && s.is("then", "*"):
			t.Action = s.words[1]
		default:
			return t, s.unexpected()
		}
	}
	return t, nil
}

func (t *Term) readFrom(n *node, family string) error {
	for _, s := range n.children {
		switch {
		case s.block && (s.is("source-prefix-list") || s.is("destination-prefix-list")):
			into := &t.SrcLists
			if s.words[0] == "destination-prefix-list" {
				into = &t.DstLists
			}
			for _, l := range s.children {
				if l.block || len(l.words) != 1 {
					return l.unexpected()
				}
				*into = append(*into, l.words[0])
			}
		case !s.block && len(s.words) >= 2 && s.words[0] == protocolKeyword(family):
			// A device's term may list several (fwpush writes one).
			t.Protocol = strings.Join(s.words[1:], " ")
		case len(s.words) >= 2 && !s.block && (s.words[0] == "source-port" || s.words[0] == "destination-port" || s.words[0] == "icmp-type"):
			vals := s.words[1:]
			switch s.words[0] {
			case "source-port":
				t.SrcPorts = vals
			case "destination-port":
				t.DstPorts = vals
			default:
				t.ICMPTypes = vals
			}
		case s.is("tcp-established"):
			t.TCPEstablished = true
		default:
			return s.unexpected()
		}
	}
	return nil
}

func (c *Config) readInterfaces(n *node) error {
	for _, in := range n.children {
		if !in.block || len(in.words) != 1 {
			return in.unexpected()
		}
		for _, un := range in.children {
			if !un.block || !un.is("unit", "*") {
				return un.unexpected()
			}
			for _, fn := range un.children {
				if !fn.block || !fn.is("family", "*") || len(fn.children) != 1 || !fn.children[0].is("filter") {
					return fn.unexpected()
				}
				for _, d := range fn.children[0].children {
					if d.block || !d.is("input", "*") && !d.is("output", "*") {
						return d.unexpected()
					}
					c.Bindings = append(c.Bindings, Binding{Interface: in.words[0], Unit: un.words[1], Family: fn.words[1],
						Direction: d.words[0], Filter: d.words[1]})
				}
			}
		}
	}
	return nil
}

type token struct {
	s    string
	line int
	// comment marks a /* */ comment, s its trimmed text.
	comment bool
}

func tokenize(s string) ([]token, error) {
	var out []token
	line := 1
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == '\n':
			line++
			i++
		case ch == ' ' || ch == '\t' || ch == '\r':
			i++
		case ch == '{' || ch == '}' || ch == ';' || ch == '[' || ch == ']':
			out = append(out, token{s: string(ch), line: line})
			i++
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			text := s[i+2 : i+2+end]
			out = append(out, token{s: strings.TrimSpace(text), line: line, comment: true})
			line += strings.Count(text, "\n")
			i += end + 4
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};[]", rune(s[j])) {
				j++
			}
			out = append(out, token{s: s[i:j], line: line})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks []token
	pos  int
}

// block reads statements until the end of input, or its closing brace
// when inner.
func (p *parser) block(inner bool) ([]*node, error) {
	var out []*node
	for {
		if p.pos >= len(p.toks) {
			if inner {
				return nil, fmt.Errorf("unexpected end of text: a } is missing")
			}
			return out, nil
		}
		tok := p.toks[p.pos]
		if tok.comment {
			out = append(out, &node{comment: tok.s, line: tok.line})
			p.pos++
			continue
		}
		if tok.s == "}" {
			if !inner {
				return nil, fmt.Errorf("line %d: unexpected }", tok.line)
			}
			p.pos++
			return out, nil
		}
		n := &node{line: tok.line}
		for {
			if p.pos >= len(p.toks) {
				return nil, fmt.Errorf("line %d: statement %q is not ended", n.line, strings.Join(n.words, " "))
			}
			t := p.toks[p.pos]
			p.pos++
			switch {
			case t.comment:
				return nil, fmt.Errorf("line %d: comment inside a statement", t.line)
			case t.s == ";":
			case t.s == "{":
				kids, err := p.block(true)
				if err != nil {
					return nil, err
				}
				n.block, n.children = true, kids
			case t.s == "[":
				for p.pos < len(p.toks) && p.toks[p.pos].s != "]" {
					n.words = append(n.words, p.toks[p.pos].s)
					p.pos++
				}
				if p.pos >= len(p.toks) {
					return nil, fmt.Errorf("line %d: [ without ]", t.line)
				}
				p.pos++
				continue
			case t.s == "}" || t.s == "]":
				return nil, fmt.Errorf("line %d: unexpected %s", t.line, t.s)
			default:
				n.words = append(n.words, t.s)
				continue
			}
			break
		}
		if len(n.words) == 0 {
			return nil, fmt.Errorf("line %d: empty statement", n.line)
		}
		out = append(out, n)
	}
}
