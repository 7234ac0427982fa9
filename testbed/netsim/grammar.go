package netsim

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// token is one whitespace-separated word of a command line and the byte
// column where it starts, so errors can put their caret under it.
type token struct {
	text string
	col  int
}

func tokenize(line string) []token {
	var toks []token
	start := -1
	for i, r := range line {
		if r == ' ' || r == '\t' {
			if start >= 0 {
				toks = append(toks, token{line[start:i], start})
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		toks = append(toks, token{line[start:], start})
	}
	return toks
}

// errKind is the class of a CLI parse error; each dialect prints each class
// in its own words.
type errKind int

const (
	errInvalid errKind = iota
	errIncomplete
	errAmbiguous
)

// cliError is a command the device refuses. col is the byte column of the
// offending token in the command line (for the caret); detail, when set,
// replaces the dialect's generic wording (NX-OS "Invalid ip address").
type cliError struct {
	kind   errKind
	col    int
	detail string
}

func (e *cliError) Error() string {
	return fmt.Sprintf("cli error kind %d at column %d %s", e.kind, e.col, e.detail)
}

// msgError is a refusal with the device's own message, printed as is
// (e.g. "%No Rollback Confirmed Change pending").
type msgError struct{ msg string }

func (e *msgError) Error() string { return e.msg }

func refuse(format string, a ...any) error { return &msgError{fmt.Sprintf(format, a...)} }

func invalidAt(t token) error { return &cliError{kind: errInvalid, col: t.col} }
func invalidDetail(t token, d string) error {
	return &cliError{kind: errInvalid, col: t.col, detail: d}
}

type paramKind int

const (
	pWord paramKind = iota // any single word
	pInt                   // an integer in [lo, hi]
	pIPv4                  // a dotted-quad address
	pLine                  // the rest of the line, verbatim
)

// node is one word of a command grammar: a keyword (matched by any unique
// prefix, as the real parsers do) or a parameter. A node with run set can
// end a command; one with rest consumes the remaining tokens itself.
type node struct {
	kw     string
	kind   paramKind
	name   string
	lo, hi int
	next   []*node
	run    func(c *cmdCtx) error
	rest   func(c *cmdCtx, toks []token) error
}

// cmdCtx is what a command handler sees: the session, the line, and the
// values matched so far (parameters by name, keywords as typed in full).
type cmdCtx struct {
	s    *session
	line string
	toks []token
	args map[string]string
	kws  []string
	end  int // column just past the line, for "incomplete" carets
}

func (c *cmdCtx) arg(name string) string { return c.args[name] }

func (c *cmdCtx) has(kw string) bool {
	for _, k := range c.kws {
		if k == kw {
			return true
		}
	}
	return false
}

func (c *cmdCtx) intArg(name string) int {
	n, _ := strconv.Atoi(c.args[name])
	return n
}

// kw builds a keyword node.
func kw(word string, next ...*node) *node { return &node{kw: word, next: next} }

// prm builds a parameter node.
func prm(kind paramKind, name string, next ...*node) *node {
	return &node{kind: kind, name: name, next: next}
}

// intp builds an integer parameter node with its range.
func intp(name string, lo, hi int, next ...*node) *node {
	return &node{kind: pInt, name: name, lo: lo, hi: hi, next: next}
}

func (n *node) do(f func(c *cmdCtx) error) *node { n.run = f; return n }

func (n *node) restf(f func(c *cmdCtx, toks []token) error) *node { n.rest = f; return n }

func (n *node) accepts(t string) (bool, string) {
	switch n.kind {
	case pWord, pLine:
		return true, ""
	case pInt:
		v, err := strconv.Atoi(t)
		if err != nil {
			return false, ""
		}
		if v < n.lo || v > n.hi {
			return false, fmt.Sprintf("Invalid number, range is (%d:%d)", n.lo, n.hi)
		}
		return true, ""
	case pIPv4:
		a, err := netip.ParseAddr(t)
		if err != nil || !a.Is4() {
			return false, "Invalid ip address"
		}
		return true, ""
	}
	return false, ""
}

// parse walks the grammar over toks and runs the matched command.
func parse(nodes []*node, c *cmdCtx) error {
	return walk(nodes, c, 0)
}

func walk(nodes []*node, c *cmdCtx, i int) error {
	if i >= len(c.toks) {
		return &cliError{kind: errIncomplete, col: c.end}
	}
	t := c.toks[i]
	low := strings.ToLower(t.text)
	var exact *node
	var partial []*node
	for _, n := range nodes {
		if n.kw == "" {
			continue
		}
		if n.kw == low {
			exact = n
			break
		}
		if strings.HasPrefix(n.kw, low) {
			partial = append(partial, n)
		}
	}
	chosen := exact
	if chosen == nil && len(partial) == 1 {
		chosen = partial[0]
	}
	if chosen == nil && len(partial) > 1 {
		return &cliError{kind: errAmbiguous, col: t.col}
	}
	if chosen != nil {
		c.kws = append(c.kws, chosen.kw)
	} else {
		detail := ""
		for _, n := range nodes {
			if n.kw != "" {
				continue
			}
			ok, why := n.accepts(t.text)
			if ok {
				chosen = n
				break
			}
			if detail == "" {
				detail = why
			}
		}
		if chosen == nil {
			return &cliError{kind: errInvalid, col: t.col, detail: detail}
		}
		if chosen.kind == pLine {
			c.args[chosen.name] = c.line[t.col:]
			if chosen.run == nil {
				return &cliError{kind: errInvalid, col: t.col}
			}
			return chosen.run(c)
		}
		c.args[chosen.name] = t.text
	}
	if chosen.rest != nil {
		return chosen.rest(c, c.toks[i+1:])
	}
	if i+1 == len(c.toks) {
		if chosen.run != nil {
			return chosen.run(c)
		}
		return &cliError{kind: errIncomplete, col: c.end}
	}
	if len(chosen.next) == 0 {
		return invalidAt(c.toks[i+1])
	}
	return walk(chosen.next, c, i+1)
}

// expectEnd is for rest handlers: any token left over is invalid input.
func expectEnd(toks []token) error {
	if len(toks) > 0 {
		return invalidAt(toks[0])
	}
	return nil
}

// matchKeyword resolves t against a keyword set with the parsers' prefix
// rule: exact match wins, a unique prefix matches, several are ambiguous.
func matchKeyword(t token, words ...string) (string, error) {
	low := strings.ToLower(t.text)
	var hits []string
	for _, w := range words {
		if w == low {
			return w, nil
		}
		if strings.HasPrefix(w, low) {
			hits = append(hits, w)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return "", invalidAt(t)
	}
	return "", &cliError{kind: errAmbiguous, col: t.col}
}
