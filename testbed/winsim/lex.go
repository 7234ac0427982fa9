package winsim

import (
	"fmt"
	"strings"
	"unicode"
)

// The PowerShell this package reads is the subset fwpush's windows driver
// writes: statements (assignment, if/elseif/else, foreach, try/catch,
// exit, throw, param), pipelines of cmdlets with named, switch and
// positional parameters and splatting, and expressions (literals, $vars,
// $env:X, hashtables, arrays, @() and $(), member access, method calls on
// the few .NET types it needs, casts, comparison and logical operators).
// Anything else is a parse error, as PowerShell would report one.

// scanner walks a script's text; the parser drives it in PowerShell's two
// modes (expression and command arguments).
type scanner struct {
	src  []rune
	pos  int
	line int
}

func newScanner(src string) *scanner {
	return &scanner{src: []rune(strings.ReplaceAll(src, "\r\n", "\n")), line: 1}
}

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

func (s *scanner) peek() rune {
	if s.eof() {
		return 0
	}
	return s.src[s.pos]
}

func (s *scanner) peekAt(n int) rune {
	if s.pos+n >= len(s.src) {
		return 0
	}
	return s.src[s.pos+n]
}

func (s *scanner) next() rune {
	r := s.src[s.pos]
	s.pos++
	if r == '\n' {
		s.line++
	}
	return r
}

// ParseError is a script PowerShell would refuse to run.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("At line:%d: %s", e.Line, e.Msg) }

func (s *scanner) errorf(format string, args ...any) {
	panic(&ParseError{Line: s.line, Msg: fmt.Sprintf(format, args...)})
}

// skipSpace skips blanks, comments and line continuations (a backtick at
// the end of a line); with newlines, newlines too.
func (s *scanner) skipSpace(newlines bool) {
	for !s.eof() {
		r := s.peek()
		switch {
		case r == '`' && s.peekAt(1) == '\n':
			s.next()
			s.next()
		case r == '#':
			for !s.eof() && s.peek() != '\n' {
				s.next()
			}
		case r == '<' && s.peekAt(1) == '#':
			for !s.eof() && !(s.peek() == '#' && s.peekAt(1) == '>') {
				s.next()
			}
			if s.eof() {
				s.errorf("Missing closing '#>' in comment block.")
			}
			s.next()
			s.next()
		case r == '\n' && newlines:
			s.next()
		case r != '\n' && unicode.IsSpace(r):
			s.next()
		default:
			return
		}
	}
}

// accept consumes lit (case-insensitively for words) when it comes next.
func (s *scanner) accept(lit string) bool {
	rs := []rune(lit)
	if s.pos+len(rs) > len(s.src) {
		return false
	}
	for i, r := range rs {
		if unicode.ToLower(s.src[s.pos+i]) != unicode.ToLower(r) {
			return false
		}
	}
	if isWordRune(rs[len(rs)-1]) && s.pos+len(rs) < len(s.src) && isWordRune(s.src[s.pos+len(rs)]) {
		return false
	}
	for range rs {
		s.next()
	}
	return true
}

func (s *scanner) expect(lit string) {
	if !s.accept(lit) {
		got := "end of script"
		if !s.eof() {
			got = "'" + string(s.peek()) + "'"
		}
		s.errorf("Missing '%s'; found %s.", lit, got)
	}
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// word reads an identifier (letters, digits, _ and, inside names, - . and
// \ as command names and paths allow).
func (s *scanner) word(extra string) string {
	start := s.pos
	for !s.eof() && (isWordRune(s.peek()) || strings.ContainsRune(extra, s.peek())) {
		s.next()
	}
	return string(s.src[start:s.pos])
}

// singleQuoted reads '...' (” is a quote).
func (s *scanner) singleQuoted() string {
	s.next()
	var b strings.Builder
	for {
		if s.eof() {
			s.errorf("The string is missing the terminator: '.")
		}
		r := s.next()
		if r == '\'' {
			if s.peek() == '\'' {
				s.next()
				b.WriteRune('\'')
				continue
			}
			return b.String()
		}
		b.WriteRune(r)
	}
}

// doubleQuoted reads "..." into literal parts and $variable references.
func (s *scanner) doubleQuoted() []strPart {
	s.next()
	var parts []strPart
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, strPart{lit: b.String()})
			b.Reset()
		}
	}
	for {
		if s.eof() {
			s.errorf("The string is missing the terminator: \".")
		}
		r := s.next()
		switch {
		case r == '"':
			if s.peek() == '"' {
				s.next()
				b.WriteRune('"')
				continue
			}
			flush()
			return parts
		case r == '`':
			if s.eof() {
				s.errorf("The string is missing the terminator: \".")
			}
			e := s.next()
			switch e {
			case 'n':
				b.WriteRune('\n')
			case 'r':
				b.WriteRune('\r')
			case 't':
				b.WriteRune('\t')
			case '0':
				b.WriteRune(0)
			default:
				b.WriteRune(e)
			}
		case r == '$' && (isWordRune(s.peek()) || s.peek() == '('):
			if s.peek() == '(' {
				s.errorf("fwpush lab simulator (winsim): $( ) inside a double-quoted string is not modelled")
			}
			flush()
			name := s.word(":")
			parts = append(parts, strPart{v: name})
		default:
			b.WriteRune(r)
		}
	}
}

type strPart struct {
	lit string
	v   string // a variable name ("env:X" included)
}
