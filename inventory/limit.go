package inventory

import (
	"fmt"
	"strings"
	"unicode"
)

// ParseLimit compiles a --limit expression into a host predicate.
//
//	sprout-1                  a host name, else a group
//	host:sprout-1 group:bono platform:PLATFORM data.site=lab
//	a and b, a or b, not a, a,b (or), parentheses
//
// Unknown hosts or groups are errors, so a typo never selects nothing
// silently.
func (inv *Inventory) ParseLimit(expr string) (func(*Host) bool, error) {
	if strings.TrimSpace(expr) == "" {
		return func(*Host) bool { return true }, nil
	}
	p := &limitParser{inv: inv, toks: tokenize(expr)}
	f, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	if err != nil {
		return nil, fmt.Errorf("--limit %q: %w", expr, err)
	}
	return f, nil
}

func tokenize(s string) []string {
	var toks []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			flush()
		case r == '(' || r == ')' || r == ',' || r == '!' || r == '&':
			flush()
			toks = append(toks, string(r))
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}

type limitParser struct {
	inv  *Inventory
	toks []string
	pos  int
}

func (p *limitParser) peek() string {
	if p.pos < len(p.toks) {
		return strings.ToLower(p.toks[p.pos])
	}
	return ""
}

func (p *limitParser) or() (func(*Host) bool, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek() == "or" || p.peek() == "," {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orF(l, r)
	}
	return l, nil
}

func orF(l, r func(*Host) bool) func(*Host) bool {
	return func(h *Host) bool { return l(h) || r(h) }
}

func (p *limitParser) and() (func(*Host) bool, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek() == "and" || p.peek() == "&" {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		ll := l
		l = func(h *Host) bool { return ll(h) && r(h) }
	}
	return l, nil
}

func (p *limitParser) unary() (func(*Host) bool, error) {
	switch p.peek() {
	case "not", "!":
		p.pos++
		f, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(h *Host) bool { return !f(h) }, nil
	case "(":
		p.pos++
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing ')'")
		}
		p.pos++
		return f, nil
	case "", ")", "and", "or", ",", "&":
		return nil, fmt.Errorf("expected a host, group or field at %q", p.peek())
	}
	tok := p.toks[p.pos]
	p.pos++
	return p.term(tok)
}

func (p *limitParser) term(tok string) (func(*Host) bool, error) {
	if strings.HasPrefix(tok, "data.") {
		key, want, ok := strings.Cut(strings.TrimPrefix(tok, "data."), "=")
		if !ok {
			return nil, fmt.Errorf("%q: want data.KEY=VALUE", tok)
		}
		return func(h *Host) bool { return plain(h.Data[key]) == want }, nil
	}
	kind, val, hasKind := strings.Cut(tok, ":")
	if !hasKind {
		if _, ok := p.inv.Hosts[tok]; ok {
			kind, val = "host", tok
		} else {
			kind, val = "group", tok
		}
	}
	switch kind {
	case "host":
		if _, ok := p.inv.Hosts[val]; !ok {
			return nil, fmt.Errorf("no host %q", val)
		}
		return func(h *Host) bool { return h.Name == val }, nil
	case "group", "role":
		if _, ok := p.inv.Groups[val]; !ok {
			return nil, fmt.Errorf("no host or group %q", val)
		}
		return func(h *Host) bool { return h.HasRole(val) }, nil
	case "platform":
		info, ok := p.inv.opts.resolvePlatform(val)
		if !ok {
			return nil, fmt.Errorf("unknown platform %q", val)
		}
		return func(h *Host) bool { return h.Platform == info.ID }, nil
	}
	return nil, fmt.Errorf("%q: unknown selector %q (host:, group:, platform:, data.KEY=VALUE)", tok, kind)
}
