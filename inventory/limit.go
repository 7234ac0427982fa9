package inventory

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// ParseLimit compiles a --limit expression into a host predicate. It is
// an Ansible host pattern, with Ansible's meaning (see pattern.go):
//
//	sprout,!sprout-2   sprout:!sprout-2   web:&prod   all   web-*   ~db-[0-9]+
//
// fwpush adds selectors Ansible has no words for, and boolean operators,
// neither of which an Ansible pattern can contain:
//
//	platform:ID  group:NAME  role:NAME  host:NAME  data.KEY=VALUE
//	a and b, a or b, not a, parentheses (words and parentheses set apart by spaces)
//
// where each operand is a selector or an Ansible pattern:
// 'platform:linux-iptables and web,db'. A selector whose word before ':'
// is also a host or group is refused as ambiguous (Ansible would read
// 'platform:x' as the union of the two). An expression that selects no
// host is an error, and so is any name that matches nothing.
func (inv *Inventory) ParseLimit(expr string) (func(*Host) bool, error) {
	if strings.TrimSpace(expr) == "" {
		return func(*Host) bool { return true }, nil
	}
	sel, err := inv.selectLimit(expr)
	if err == nil && len(sel) == 0 {
		err = fmt.Errorf("selects no host")
	}
	if err != nil {
		return nil, fmt.Errorf("--limit %s: %w", yamlsrc.Quote(expr), err)
	}
	return func(h *Host) bool { return sel[h.Name] }, nil
}

func (inv *Inventory) selectLimit(expr string) (map[string]bool, error) {
	toks := tokenize(expr)
	if !fwpushExpr(toks) {
		return inv.selectPattern(expr)
	}
	p := &limitParser{inv: inv, toks: toks}
	sel, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %s (join operands with and, or, not)", yamlsrc.Quote(p.toks[p.pos].text))
	}
	return sel, err
}

type token struct {
	text string
	op   bool // a parenthesis set apart from a word
}

// commaSpace is whitespace around a comma, which Ansible ignores.
var commaSpace = regexp.MustCompile(`\s*,\s*`)

// tokenize splits at whitespace; a parenthesis that starts a word, or
// closes more than the word opened, is an operator. Parentheses inside a
// word belong to it, so '~(web|db)-1' stays one pattern.
func tokenize(s string) []token {
	s = commaSpace.ReplaceAllString(s, ",")
	var toks []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		switch r := rs[i]; {
		case unicode.IsSpace(r):
			i++
		case r == '(' || r == ')':
			toks = append(toks, token{text: string(r), op: true})
			i++
		default:
			start, depth := i, 0
		word:
			for ; i < len(rs); i++ {
				switch rs[i] {
				case '(':
					depth++
				case ')':
					if depth == 0 {
						break word
					}
					depth--
				default:
					if unicode.IsSpace(rs[i]) {
						break word
					}
				}
			}
			toks = append(toks, token{text: string(rs[start:i])})
		}
	}
	return toks
}

// selectorRE and dataRE are fwpush's own selectors.
var (
	selectorRE = regexp.MustCompile(`^(platform|group|role|host):(.+)$`)
	dataRE     = regexp.MustCompile(`^data\.([^=]+)=(.*)$`)
)

func isKeyword(t token) bool {
	if t.op {
		return false
	}
	switch strings.ToLower(t.text) {
	case "and", "or", "not":
		return true
	}
	return false
}

// fwpushExpr says whether tokens use fwpush's expression language (an
// operator, a parenthesis or a selector); otherwise the whole expression
// is one Ansible pattern.
func fwpushExpr(toks []token) bool {
	for _, t := range toks {
		if t.op || isKeyword(t) || selectorRE.MatchString(t.text) || dataRE.MatchString(t.text) {
			return true
		}
	}
	return false
}

type limitParser struct {
	inv  *Inventory
	toks []token
	pos  int
}

func (p *limitParser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{}
}

func (p *limitParser) keyword(k string) bool {
	t := p.peek()
	return isKeyword(t) && strings.EqualFold(t.text, k)
}

func (p *limitParser) or() (map[string]bool, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		for h := range r {
			l[h] = true
		}
	}
	return l, nil
}

func (p *limitParser) and() (map[string]bool, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		for h := range l {
			if !r[h] {
				delete(l, h)
			}
		}
	}
	return l, nil
}

func (p *limitParser) unary() (map[string]bool, error) {
	t := p.peek()
	switch {
	case p.keyword("not"):
		p.pos++
		s, err := p.unary()
		if err != nil {
			return nil, err
		}
		out := map[string]bool{}
		for _, n := range p.inv.Names() {
			if !s[n] {
				out[n] = true
			}
		}
		return out, nil
	case t.op && t.text == "(":
		p.pos++
		s, err := p.or()
		if err != nil {
			return nil, err
		}
		if t := p.peek(); !t.op || t.text != ")" {
			return nil, fmt.Errorf("missing ')'")
		}
		p.pos++
		return s, nil
	case t.text == "" || t.op || isKeyword(t):
		at := "the end"
		if t.text != "" {
			at = yamlsrc.Quote(t.text)
		}
		return nil, fmt.Errorf("expected a host, group, pattern or selector at %s", at)
	}
	p.pos++
	return p.inv.selectAtom(t.text)
}

// selectAtom selects by one operand: a selector, else an Ansible pattern.
func (inv *Inventory) selectAtom(atom string) (map[string]bool, error) {
	if m := dataRE.FindStringSubmatch(atom); m != nil {
		key, want := m[1], m[2]
		return inv.selectBy(func(h *Host) bool { return plain(h.Data[key]) == want }), nil
	}
	m := selectorRE.FindStringSubmatch(atom)
	if m == nil {
		return inv.selectPattern(atom)
	}
	kind, val := m[1], m[2]
	if _, ok := inv.Hosts[kind]; ok {
		return nil, inv.ambiguous(atom, kind, "host")
	}
	if _, ok := inv.Groups[kind]; ok {
		return nil, inv.ambiguous(atom, kind, "group")
	}
	switch kind {
	case "host":
		if _, ok := inv.Hosts[val]; !ok {
			return nil, fmt.Errorf("no host %s", yamlsrc.Quote(val))
		}
		return map[string]bool{val: true}, nil
	case "group", "role":
		if _, ok := inv.Groups[val]; !ok {
			return nil, fmt.Errorf("no group %s", yamlsrc.Quote(val))
		}
		return inv.selectBy(func(h *Host) bool { return h.HasRole(val) }), nil
	}
	info, ok := inv.opts.resolvePlatform(val)
	if !ok {
		return nil, fmt.Errorf("unknown platform %s", yamlsrc.Quote(val))
	}
	return inv.selectBy(func(h *Host) bool { return h.Platform == info.ID }), nil
}

func (inv *Inventory) ambiguous(atom, word, what string) error {
	return fmt.Errorf("%s is ambiguous: %s is also a %s of this inventory, so Ansible would read it as the union of two names; write %s for that union",
		yamlsrc.Quote(atom), yamlsrc.Quote(word), what, yamlsrc.Quote(strings.Replace(atom, ":", ",", 1)))
}

func (inv *Inventory) selectBy(keep func(*Host) bool) map[string]bool {
	out := map[string]bool{}
	for _, h := range inv.Select(keep) {
		out[h.Name] = true
	}
	return out
}
