package winsim

import (
	"strconv"
	"strings"
	"unicode"
)

// parseScript parses a whole script (or a script block's text).
func parseScript(src string) (sb *scriptBlock, err error) {
	s := newScanner(src)
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*ParseError)
			if !ok {
				panic(r)
			}
			sb, err = nil, pe
		}
	}()
	p := &parser{s: s}
	sb = p.block(true)
	s.skipSpace(true)
	if !s.eof() {
		s.errorf("Unexpected token '%s' in expression or statement.", string(s.peek()))
	}
	return sb, nil
}

type parser struct {
	s *scanner
	// noComma: inside a method call's parentheses, a comma separates
	// arguments.
	noComma bool
}

// block parses statements up to '}' (not consumed) or the end.
func (p *parser) block(top bool) *scriptBlock {
	s := p.s
	sb := &scriptBlock{}
	s.skipSpace(true)
	if s.accept("param") {
		s.skipSpace(false)
		s.expect("(")
		for {
			s.skipSpace(true)
			if s.accept(")") {
				break
			}
			if s.peek() != '$' {
				s.errorf("Missing ')' in function parameter list.")
			}
			s.next()
			sb.params = append(sb.params, s.word(""))
			s.skipSpace(true)
			s.accept(",")
		}
	}
	for {
		s.skipSpace(true)
		for s.accept(";") {
			s.skipSpace(true)
		}
		if s.eof() || s.peek() == '}' || s.peek() == ')' && !top {
			return sb
		}
		sb.body = append(sb.body, p.statement())
	}
}

func (p *parser) braced() []stmt {
	s := p.s
	s.skipSpace(true)
	s.expect("{")
	b := p.block(false)
	s.skipSpace(true)
	s.expect("}")
	if len(b.params) > 0 {
		s.errorf("param() is only modelled at the top of a script")
	}
	return b.body
}

func (p *parser) cond() *pipeline {
	s := p.s
	s.skipSpace(false)
	s.expect("(")
	s.skipSpace(true)
	pl := p.pipeline()
	s.skipSpace(true)
	s.expect(")")
	return pl
}

func (p *parser) statement() stmt {
	s := p.s
	at := pos{s.line}
	switch {
	case s.accept("if"):
		st := &ifStmt{pos: at}
		st.conds = append(st.conds, p.cond())
		st.blocks = append(st.blocks, p.braced())
		for {
			save, line := s.pos, s.line
			s.skipSpace(true)
			switch {
			case s.accept("elseif"):
				st.conds = append(st.conds, p.cond())
				st.blocks = append(st.blocks, p.braced())
				continue
			case s.accept("else"):
				st.els = p.braced()
			default:
				s.pos, s.line = save, line
			}
			return st
		}
	case s.accept("foreach"):
		st := &foreachStmt{pos: at}
		s.skipSpace(false)
		s.expect("(")
		s.skipSpace(false)
		if s.peek() != '$' {
			s.errorf("Missing variable name after foreach.")
		}
		s.next()
		st.v = s.word("")
		s.skipSpace(false)
		s.expect("in")
		s.skipSpace(true)
		st.in = p.pipeline()
		s.skipSpace(true)
		s.expect(")")
		st.body = p.braced()
		return st
	case s.accept("try"):
		st := &tryStmt{pos: at, body: p.braced()}
		s.skipSpace(true)
		s.expect("catch")
		st.catch = p.braced()
		return st
	case s.accept("exit"):
		s.skipSpace(false)
		st := &exitStmt{pos: at}
		if !p.atEnd() {
			st.code = p.expression()
		}
		return st
	case s.accept("throw"):
		s.skipSpace(false)
		st := &throwStmt{pos: at}
		if !p.atEnd() {
			st.msg = p.expression()
		}
		return st
	case s.accept("return"):
		s.skipSpace(false)
		st := &returnStmt{pos: at}
		if !p.atEnd() {
			st.v = p.pipeline()
		}
		return st
	}
	pl := p.pipeline()
	st := &pipeStmt{pos: at, pipe: pl}
	s.skipSpace(false)
	if pl.first != nil && len(pl.cmds) == 0 && assignable(pl.first) {
		for _, op := range []string{"+=", "="} {
			if s.peek() == '=' && s.peekAt(1) == '=' {
				break
			}
			if s.accept(op) {
				s.skipSpace(true)
				st.target, st.op = pl.first, op
				st.pipe = p.pipeline()
				break
			}
		}
	}
	if !p.atEnd() {
		s.errorf("Unexpected token '%s' in expression or statement.", p.rest())
	}
	return st
}

func assignable(e expr) bool {
	switch e.(type) {
	case *varExpr, *memberExpr, *indexExpr:
		return true
	}
	return false
}

func (p *parser) rest() string {
	s := p.s
	end := s.pos
	for end < len(s.src) && s.src[end] != '\n' && end-s.pos < 30 {
		end++
	}
	return string(s.src[s.pos:end])
}

// atEnd says whether the statement ends here.
func (p *parser) atEnd() bool {
	s := p.s
	s.skipSpace(false)
	r := s.peek()
	return s.eof() || r == '\n' || r == ';' || r == '}' || r == ')'
}

// pipeline parses expr-or-command { | command }.
func (p *parser) pipeline() *pipeline {
	s := p.s
	pl := &pipeline{}
	s.skipSpace(false)
	if p.commandStart() {
		pl.cmds = append(pl.cmds, p.command())
	} else {
		pl.first = p.expression()
	}
	for {
		s.skipSpace(false)
		if !s.accept("|") {
			return pl
		}
		s.skipSpace(true)
		if !p.commandStart() {
			s.errorf("Expressions are only allowed as the first element of a pipeline.")
		}
		pl.cmds = append(pl.cmds, p.command())
	}
}

// commandStart says whether a command (not an expression) starts here: a
// bare name or the call operator.
func (p *parser) commandStart() bool {
	r := p.s.peek()
	return r == '&' || unicode.IsLetter(r)
}

func (p *parser) command() *command {
	s := p.s
	c := &command{pos: pos{s.line}}
	if s.accept("&") {
		s.skipSpace(false)
		c.invoke = p.primary()
	} else {
		c.name = s.word("-.\\")
	}
	for {
		s.skipSpace(false)
		r := s.peek()
		if s.eof() || r == '\n' || r == ';' || r == '|' || r == ')' || r == '}' {
			return c
		}
		start := s.pos
		switch {
		case r == '-' && unicode.IsLetter(s.peekAt(1)):
			s.next()
			name := s.word("")
			a := arg{param: name}
			if s.accept(":") {
				a.value = p.argValue()
			} else {
				// A value follows unless another parameter or the end does;
				// whether the parameter takes one is the binder's to say.
				save, line := s.pos, s.line
				s.skipSpace(false)
				nr := s.peek()
				if s.eof() || nr == '\n' || nr == ';' || nr == '|' || nr == ')' || nr == '}' || nr == '-' && unicode.IsLetter(s.peekAt(1)) {
					s.pos, s.line = save, line
				} else {
					a.value = p.argValue()
				}
			}
			a.text = string(s.src[start:s.pos])
			c.args = append(c.args, a)
		case r == '@' && isWordRune(s.peekAt(1)):
			s.next()
			c.args = append(c.args, arg{splat: s.word(""), text: string(s.src[start:s.pos])})
		default:
			v := p.argValue()
			c.args = append(c.args, arg{value: v, text: string(s.src[start:s.pos])})
		}
	}
}

// argValue parses one command argument: an expression when it starts like
// one, else a bare word (up to a blank or a separator).
func (p *parser) argValue() expr {
	s := p.s
	r := s.peek()
	switch {
	case r == '$' || r == '(' || r == '@' || r == '\'' || r == '"' || r == '[' || unicode.IsDigit(r) && p.numberAhead():
		e := p.postfix(p.primary())
		var items []expr
		for {
			save, line := s.pos, s.line
			s.skipSpace(false)
			if !s.accept(",") {
				s.pos, s.line = save, line
				break
			}
			s.skipSpace(true)
			if items == nil {
				items = []expr{e}
			}
			items = append(items, p.postfix(p.primary()))
		}
		if items != nil {
			return &arrayExpr{items: items}
		}
		return e
	}
	start := s.pos
	for !s.eof() {
		r := s.peek()
		if unicode.IsSpace(r) || strings.ContainsRune(";|)}(,", r) {
			break
		}
		s.next()
	}
	if s.pos == start {
		s.errorf("Missing argument.")
	}
	return &litExpr{v: string(s.src[start:s.pos])}
}

// numberAhead says whether a bare argument starting with a digit is a
// number (not e.g. 50000-50999, which is a bare word).
func (p *parser) numberAhead() bool {
	s := p.s
	i := s.pos
	for i < len(s.src) && unicode.IsDigit(s.src[i]) {
		i++
	}
	return i == len(s.src) || unicode.IsSpace(s.src[i]) || strings.ContainsRune(";|)},", s.src[i])
}

// Expressions, loosest first.

var logicalOps = []string{"-and", "-or"}
var compareOps = []string{"-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-like", "-notlike", "-contains", "-notcontains", "-in", "-notin"}

func (p *parser) expression() expr {
	e := p.comparison()
	for {
		op := p.binaryOp(logicalOps)
		if op == "" {
			return e
		}
		e = &binaryExpr{op: op, l: e, r: p.comparison()}
	}
}

func (p *parser) binaryOp(ops []string) string {
	s := p.s
	save, line := s.pos, s.line
	s.skipSpace(false)
	for _, op := range ops {
		if s.accept(op) {
			s.skipSpace(true)
			return op
		}
	}
	s.pos, s.line = save, line
	return ""
}

func (p *parser) comparison() expr {
	e := p.additive()
	for {
		op := p.binaryOp(compareOps)
		if op == "" {
			return e
		}
		e = &binaryExpr{op: op, l: e, r: p.additive()}
	}
}

func (p *parser) additive() expr {
	s := p.s
	e := p.comma()
	for {
		save, line := s.pos, s.line
		s.skipSpace(false)
		r := s.peek()
		if (r == '+' || r == '-') && s.peekAt(1) != '=' && !(r == '-' && unicode.IsLetter(s.peekAt(1))) {
			s.next()
			s.skipSpace(true)
			e = &binaryExpr{op: string(r), l: e, r: p.comma()}
			continue
		}
		s.pos, s.line = save, line
		return e
	}
}

// comma binds tighter than arithmetic, as in PowerShell: 1,2 + 3 is
// (1,2) + 3.
func (p *parser) comma() expr {
	s := p.s
	e := p.unary()
	if p.noComma {
		return e
	}
	var items []expr
	for {
		save, line := s.pos, s.line
		s.skipSpace(false)
		if !s.accept(",") {
			s.pos, s.line = save, line
			break
		}
		s.skipSpace(true)
		if items == nil {
			items = []expr{e}
		}
		items = append(items, p.unary())
	}
	if items != nil {
		return &arrayExpr{items: items}
	}
	return e
}

func (p *parser) unary() expr {
	s := p.s
	s.skipSpace(false)
	switch {
	case s.accept("-not"):
		s.skipSpace(false)
		return &unaryExpr{op: "-not", x: p.unary()}
	case s.peek() == '!':
		s.next()
		return &unaryExpr{op: "-not", x: p.unary()}
	case s.peek() == '-' && unicode.IsDigit(s.peekAt(1)):
		s.next()
		return &unaryExpr{op: "-", x: p.unary()}
	case s.peek() == ',':
		s.next()
		return &arrayExpr{items: []expr{p.unary()}}
	}
	return p.postfix(p.primary())
}

func (p *parser) primary() expr {
	s := p.s
	s.skipSpace(false)
	r := s.peek()
	switch {
	case r == '\'':
		return &litExpr{v: s.singleQuoted()}
	case r == '"':
		return &strExpr{parts: s.doubleQuoted()}
	case r == '$' && s.peekAt(1) == '(':
		s.next()
		s.next()
		b := p.block(false)
		s.skipSpace(true)
		s.expect(")")
		return &subExpr{body: b.body}
	case r == '$':
		s.next()
		name := s.word(":")
		if name == "" {
			s.errorf("Variable reference is not valid. '$' was not followed by a valid variable name character.")
		}
		switch strings.ToLower(name) {
		case "true":
			return &litExpr{v: true}
		case "false":
			return &litExpr{v: false}
		case "null":
			return &litExpr{v: nil}
		}
		return &varExpr{name: name}
	case r == '@' && s.peekAt(1) == '(':
		s.next()
		s.next()
		b := p.block(false)
		s.skipSpace(true)
		s.expect(")")
		return &arraySub{body: b.body}
	case r == '@' && s.peekAt(1) == '{':
		s.next()
		s.next()
		h := &hashExpr{}
		for {
			s.skipSpace(true)
			for s.accept(";") {
				s.skipSpace(true)
			}
			if s.accept("}") {
				return h
			}
			var k expr
			switch s.peek() {
			case '\'':
				k = &litExpr{v: s.singleQuoted()}
			case '"':
				k = &strExpr{parts: s.doubleQuoted()}
			default:
				w := s.word("")
				if w == "" {
					s.errorf("Missing key before '=' in hash literal.")
				}
				k = &litExpr{v: w}
			}
			s.skipSpace(false)
			s.expect("=")
			s.skipSpace(true)
			h.keys = append(h.keys, k)
			h.vals = append(h.vals, p.statementValue())
		}
	case r == '(':
		s.next()
		s.skipSpace(true)
		defer func(old bool) { p.noComma = old }(p.noComma)
		p.noComma = false
		pl := p.pipeline()
		s.skipSpace(true)
		s.expect(")")
		return &parenExpr{p: pl}
	case r == '{':
		s.next()
		b := p.block(false)
		s.skipSpace(true)
		s.expect("}")
		return &blockExpr{sb: b}
	case r == '[':
		s.next()
		typ := s.word(".")
		s.expect("]")
		if s.accept("::") {
			name := s.word("")
			st := &staticExpr{typ: typ, name: name}
			if s.peek() == '(' {
				st.call, st.args = true, p.callArgs()
			}
			return st
		}
		s.skipSpace(false)
		if r := s.peek(); r == '$' || r == '(' || r == '@' || r == '\'' || r == '"' || r == '[' || unicode.IsDigit(r) {
			return &castExpr{typ: typ, x: p.unary()}
		}
		return &typeExpr{typ: typ}
	case unicode.IsDigit(r):
		start := s.pos
		for !s.eof() && unicode.IsDigit(s.peek()) {
			s.next()
		}
		n, err := strconv.Atoi(string(s.src[start:s.pos]))
		if err != nil {
			s.errorf("The number is not valid.")
		}
		return &litExpr{v: n}
	}
	if s.eof() {
		s.errorf("You must provide a value expression following the '%s' operator.", "=")
	}
	s.errorf("Unexpected token '%s' in expression or statement.", p.rest())
	return nil
}

// statementValue is a hashtable value: a pipeline (a command is allowed).
func (p *parser) statementValue() expr {
	pl := p.pipeline()
	if pl.first != nil && len(pl.cmds) == 0 {
		return pl.first
	}
	return &parenExpr{p: pl}
}

func (p *parser) postfix(e expr) expr {
	s := p.s
	for {
		switch {
		case s.peek() == '.' && isWordRune(s.peekAt(1)):
			s.next()
			name := s.word("")
			if s.peek() == '(' {
				e = &callExpr{x: e, name: name, args: p.callArgs()}
			} else {
				e = &memberExpr{x: e, name: name}
			}
		case s.peek() == '[':
			s.next()
			s.skipSpace(true)
			i := p.expression()
			s.skipSpace(true)
			s.expect("]")
			e = &indexExpr{x: e, i: i}
		default:
			return e
		}
	}
}

func (p *parser) callArgs() []expr {
	s := p.s
	s.expect("(")
	defer func(old bool) { p.noComma = old }(p.noComma)
	p.noComma = true
	var args []expr
	for {
		s.skipSpace(true)
		if s.accept(")") {
			return args
		}
		args = append(args, p.additive())
		s.skipSpace(true)
		if !s.accept(",") {
			s.skipSpace(true)
			s.expect(")")
			return args
		}
	}
}
