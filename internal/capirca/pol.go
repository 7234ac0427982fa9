package capirca

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// Pos is where something was read: file and line.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Errorf is an error naming where: "file:line: message".
func (p Pos) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", p, fmt.Sprintf(format, args...))
}

// Policy is a parsed .pol file: its filters, each a header and the
// terms after it, in order.
type Policy struct {
	File    string
	Filters []*Filter
}

// Filter is one header and its terms.
type Filter struct {
	Header *Header
	Terms  []*Term
}

// Header says which platforms render the filter, under which name.
type Header struct {
	Pos      Pos
	Targets  []Target
	Comments []string
	// Fields are the header's other statements (apply-groups, …).
	Fields []Field
}

// Target is one `target:: PLATFORM NAME OPTION…` line.
type Target struct {
	Pos      Pos
	Platform string
	Name     string
	Options  []string
}

// Term is one `term NAME { … }` block.
type Term struct {
	Pos    Pos
	Name   string
	Fields []Field
}

// Field is one `keyword:: value…` statement.
type Field struct {
	Pos    Pos
	Key    string
	Values []Value
}

// Value is one word or quoted string of a statement.
type Value struct {
	Pos    Pos
	Text   string
	Quoted bool
}

// Get returns the term's statements with key, in order.
func (t *Term) Get(key string) []Field {
	var out []Field
	for _, f := range t.Fields {
		if f.Key == key {
			out = append(out, f)
		}
	}
	return out
}

// Words returns the values of every statement with key, in order.
func (t *Term) Words(key string) []Value {
	var out []Value
	for _, f := range t.Get(key) {
		out = append(out, f.Values...)
	}
	return out
}

// maxIncludeDepth is Capirca's own limit on nested #include.
const maxIncludeDepth = 5

// line is one line of the policy after #include expansion.
type line struct {
	pos  Pos
	text string
}

// ParseFile reads a policy file, expanding `#include 'path'` lines as
// Capirca does: paths are relative to base (aclgen's base directory).
func ParseFile(path, base string) (*Policy, error) {
	lines, err := readLines(path, base, 0)
	if err != nil {
		return nil, err
	}
	return parse(path, lines)
}

// ParsePolicy reads a policy from text named file (no #include).
func ParsePolicy(file, text string) (*Policy, error) {
	var lines []line
	for i, l := range strings.Split(text, "\n") {
		lines = append(lines, line{Pos{file, i + 1}, l})
	}
	return parse(file, lines)
}

func readLines(path, base string, depth int) ([]line, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []line
	for i, l := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		pos := Pos{path, i + 1}
		words := strings.Fields(l)
		if len(words) > 1 && words[0] == "#include" {
			if depth+1 > maxIncludeDepth {
				return nil, pos.Errorf("#include nested deeper than %d files", maxIncludeDepth)
			}
			inc := filepath.Join(base, strings.Trim(words[1], `'"`))
			more, err := readLines(inc, base, depth+1)
			if err != nil {
				return nil, pos.Errorf("#include: %v", err)
			}
			out = append(out, more...)
			continue
		}
		out = append(out, line{pos, l})
	}
	return out, nil
}

// lexeme is one lexical unit: a word, a quoted string, or one of { } ::.
type lexeme struct {
	pos    Pos
	text   string
	quoted bool
}

// lex splits the lines into tokens; # starts a comment outside a string,
// and a string may span lines (a verbatim block).
func lex(lines []line) ([]lexeme, error) {
	var toks []lexeme
	for li := 0; li < len(lines); li++ {
		l := lines[li]
		rs := []rune(l.text)
		for i := 0; i < len(rs); i++ {
			c := rs[i]
			switch {
			case unicode.IsSpace(c):
			case c == '#':
				i = len(rs)
			case c == '{' || c == '}':
				toks = append(toks, lexeme{pos: l.pos, text: string(c)})
			case c == ':':
				if i+1 < len(rs) && rs[i+1] == ':' {
					toks = append(toks, lexeme{pos: l.pos, text: "::"})
					i++
					continue
				}
				return nil, l.pos.Errorf("a lone ':' (statements are keyword:: value)")
			case c == '"':
				start := l.pos
				var b strings.Builder
				j := i + 1
				for {
					if j >= len(rs) {
						li++
						if li >= len(lines) {
							return nil, start.Errorf("a string that never ends")
						}
						l = lines[li]
						rs = []rune(l.text)
						b.WriteByte('\n')
						j = 0
						continue
					}
					if rs[j] == '\\' && j+1 < len(rs) && rs[j+1] == '"' {
						b.WriteRune('"')
						j += 2
						continue
					}
					if rs[j] == '"' {
						break
					}
					b.WriteRune(rs[j])
					j++
				}
				toks = append(toks, lexeme{pos: start, text: b.String(), quoted: true})
				i = j
			default:
				j := i
				for j < len(rs) && !unicode.IsSpace(rs[j]) && !strings.ContainsRune(`{}":#`, rs[j]) {
					j++
				}
				toks = append(toks, lexeme{pos: l.pos, text: string(rs[i:j])})
				i = j - 1
			}
		}
	}
	return toks, nil
}

// parse reads the blocks: a header, then its terms, then the next header.
func parse(file string, lines []line) (*Policy, error) {
	toks, err := lex(lines)
	if err != nil {
		return nil, err
	}
	pol := &Policy{File: file}
	for i := 0; i < len(toks); {
		t := toks[i]
		switch {
		case t.text == "header" && !t.quoted:
			if i+1 >= len(toks) || toks[i+1].text != "{" {
				return nil, t.pos.Errorf("header: want {")
			}
			fields, next, err := statements(toks, i+2)
			if err != nil {
				return nil, err
			}
			h, err := header(t.pos, fields)
			if err != nil {
				return nil, err
			}
			pol.Filters = append(pol.Filters, &Filter{Header: h})
			i = next
		case t.text == "term" && !t.quoted:
			if i+2 >= len(toks) || toks[i+1].quoted || toks[i+2].text != "{" {
				return nil, t.pos.Errorf("term: want term NAME {")
			}
			if len(pol.Filters) == 0 {
				return nil, t.pos.Errorf("term %s comes before any header", toks[i+1].text)
			}
			fields, next, err := statements(toks, i+3)
			if err != nil {
				return nil, err
			}
			f := pol.Filters[len(pol.Filters)-1]
			f.Terms = append(f.Terms, &Term{Pos: t.pos, Name: toks[i+1].text, Fields: fields})
			i = next
		default:
			return nil, t.pos.Errorf("%q: want header { … } or term NAME { … }", t.text)
		}
	}
	if len(pol.Filters) == 0 {
		return nil, Pos{file, 1}.Errorf("no header: a policy starts with header { target:: … }")
	}
	for _, f := range pol.Filters {
		if len(f.Terms) == 0 {
			return nil, f.Header.Pos.Errorf("header with no terms")
		}
	}
	return pol, nil
}

// statements reads `keyword:: value…` statements up to the closing brace;
// a statement's values run to the next keyword (a word followed by ::).
func statements(toks []lexeme, i int) ([]Field, int, error) {
	var out []Field
	for i < len(toks) {
		t := toks[i]
		if t.text == "}" && !t.quoted {
			return out, i + 1, nil
		}
		if t.quoted || t.text == "{" || i+1 >= len(toks) || toks[i+1].text != "::" {
			return nil, 0, t.pos.Errorf("%q: want keyword:: value", t.text)
		}
		f := Field{Pos: t.pos, Key: t.text}
		i += 2
		for i < len(toks) {
			v := toks[i]
			if !v.quoted && (v.text == "}" || v.text == "{" || v.text == "::") {
				break
			}
			if !v.quoted && i+1 < len(toks) && toks[i+1].text == "::" {
				break
			}
			f.Values = append(f.Values, Value{Pos: v.pos, Text: v.text, Quoted: v.quoted})
			i++
		}
		if i < len(toks) && toks[i].text == "{" {
			return nil, 0, toks[i].pos.Errorf("unexpected { in %s", f.Key)
		}
		out = append(out, f)
	}
	return nil, 0, Pos{toks[len(toks)-1].pos.File, toks[len(toks)-1].pos.Line}.Errorf("block never closed with }")
}

func header(pos Pos, fields []Field) (*Header, error) {
	h := &Header{Pos: pos}
	for _, f := range fields {
		switch f.Key {
		case "target":
			if len(f.Values) < 1 {
				return nil, f.Pos.Errorf("target:: wants a platform")
			}
			t := Target{Pos: f.Pos, Platform: f.Values[0].Text}
			if len(f.Values) > 1 {
				t.Name = f.Values[1].Text
			}
			for _, v := range f.Values[2:] {
				t.Options = append(t.Options, v.Text)
			}
			h.Targets = append(h.Targets, t)
		case "comment":
			for _, v := range f.Values {
				h.Comments = append(h.Comments, v.Text)
			}
		default:
			h.Fields = append(h.Fields, f)
		}
	}
	if len(h.Targets) == 0 {
		return nil, pos.Errorf("header names no target:: (PLATFORM FILTER-NAME OPTIONS)")
	}
	return h, nil
}
