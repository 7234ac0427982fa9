package inventory

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// iniValue reads a value of an Ansible INI inventory as Ansible does: as a
// Python literal (ast.literal_eval: numbers, quoted strings, True, False,
// None, lists, tuples, dicts, sets) when it is one, else as the text
// itself. So port=22 is a number, "['a', 'b']" a list, and 010 or
// 198.18.0.1 stay text (neither is a Python literal).
func iniValue(s string) any {
	p := &pyParser{s: s}
	v, err := p.value()
	if err == nil {
		p.space()
		if p.i < len(p.s) {
			err = fmt.Errorf("trailing text")
		}
	}
	if err != nil {
		return s
	}
	return v
}

// pyParser is a recursive-descent reader of Python literals.
type pyParser struct {
	s     string
	i     int
	depth int
}

var errNotLiteral = fmt.Errorf("not a Python literal")

// space skips blanks and a trailing comment, which Python's tokenizer
// ignores.
func (p *pyParser) space() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t':
			p.i++
		case c == '#':
			p.i = len(p.s)
		default:
			return
		}
	}
}

func (p *pyParser) value() (any, error) {
	if p.depth++; p.depth > yamlsrc.MaxDepth {
		return nil, errNotLiteral
	}
	defer func() { p.depth-- }()
	if p.i == 0 && p.i < len(p.s) && (p.s[0] == ' ' || p.s[0] == '\t') {
		return nil, errNotLiteral // Python: unexpected indent
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errNotLiteral
	}
	switch c := p.s[p.i]; {
	case c == '[':
		p.i++
		items, err := p.items(']')
		return items, err
	case c == '(':
		p.i++
		start := p.i
		items, err := p.items(')')
		if err != nil {
			return nil, err
		}
		// (x) is x; (x,) and () are tuples.
		if len(items) == 1 && !strings.Contains(p.s[start:p.i], ",") {
			return items[0], nil
		}
		return items, nil
	case c == '{':
		p.i++
		return p.dictOrSet()
	case c == '+' || c == '-':
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		switch n := v.(type) {
		case int64:
			if c == '-' {
				return -n, nil
			}
			return n, nil
		case float64:
			if c == '-' {
				return -n, nil
			}
			return n, nil
		}
		return nil, errNotLiteral
	case c >= '0' && c <= '9' || c == '.':
		return p.number()
	}
	if v, ok := p.stringLit(); ok {
		return v, nil
	}
	word := p.name()
	switch word {
	case "True":
		return true, nil
	case "False":
		return false, nil
	case "None":
		return nil, nil
	}
	return nil, errNotLiteral
}

// items reads values separated by commas up to end, a trailing comma
// allowed.
func (p *pyParser) items(end byte) ([]any, error) {
	out := []any{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return out, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.space()
		switch {
		case p.i < len(p.s) && p.s[p.i] == ',':
			p.i++
		case p.i < len(p.s) && p.s[p.i] == end:
		default:
			return nil, errNotLiteral
		}
	}
}

func (p *pyParser) dictOrSet() (any, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return map[string]any{}, nil
	}
	first, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ':' {
		out := map[string]any{}
		key := first
		for {
			p.i++ // the ':'
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			k, ok := dictKey(key)
			if !ok {
				return nil, errNotLiteral
			}
			out[k] = v
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				p.space()
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return out, nil
			}
			if key, err = p.value(); err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, errNotLiteral
			}
		}
	}
	rest := []any{first}
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		more, err := p.items('}')
		if err != nil {
			return nil, err
		}
		rest = append(rest, more...)
	} else if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
	} else {
		return nil, errNotLiteral
	}
	return rest, nil // a set, read as a list
}

// dictKey is a literal dict key as JSON would write it.
func dictKey(k any) (string, bool) {
	switch v := k.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case bool:
		return strconv.FormatBool(v), true
	case nil:
		return "null", true
	}
	return "", false
}

func (p *pyParser) name() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

// number reads a Python int (decimal without leading zeros, 0x, 0o, 0b,
// '_' between digits) or float.
func (p *pyParser) number() (any, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' ||
			(c == '+' || c == '-') && p.i > start && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E') {
			p.i++
			continue
		}
		break
	}
	text := p.s[start:p.i]
	if strings.Contains(text, "__") || strings.HasSuffix(text, "_") {
		return nil, errNotLiteral
	}
	lower := strings.ToLower(text)
	if len(lower) > 2 && lower[0] == '0' && strings.ContainsRune("xob", rune(lower[1])) {
		n, err := strconv.ParseInt(strings.ReplaceAll(lower[2:], "_", ""), map[byte]int{'x': 16, 'o': 8, 'b': 2}[lower[1]], 64)
		if err != nil {
			return nil, errNotLiteral
		}
		return n, nil
	}
	digits := strings.ReplaceAll(text, "_", "")
	if strings.ContainsAny(lower, ".e") {
		if strings.ContainsAny(lower, "xobj") {
			return nil, errNotLiteral
		}
		f, err := strconv.ParseFloat(digits, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, errNotLiteral
		}
		return f, nil
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, errNotLiteral
		}
	}
	if len(digits) > 1 && digits[0] == '0' && strings.Trim(digits, "0") != "" {
		return nil, errNotLiteral // 010: leading zeros are a syntax error
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return nil, errNotLiteral
	}
	return n, nil
}

// stringLit reads one or more adjacent string literals ('a' "b" r'c'),
// concatenated as Python does.
func (p *pyParser) stringLit() (string, bool) {
	var b strings.Builder
	n := 0
	for {
		p.space()
		save := p.i
		prefix := strings.ToLower(p.name())
		raw := strings.Contains(prefix, "r")
		if strings.Trim(prefix, "rbu") != "" || len(prefix) > 2 || p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
			p.i = save
			return b.String(), n > 0
		}
		s, ok := p.quoted(raw)
		if !ok {
			p.i = save
			return "", false
		}
		b.WriteString(s)
		n++
	}
}

// quoted reads one quoted string at p.i: in single, double or tripled quotes.
func (p *pyParser) quoted(raw bool) (string, bool) {
	q := p.s[p.i : p.i+1]
	if strings.HasPrefix(p.s[p.i:], q+q+q) {
		q = q + q + q
	}
	p.i += len(q)
	var b strings.Builder
	for p.i < len(p.s) {
		if strings.HasPrefix(p.s[p.i:], q) {
			p.i += len(q)
			return b.String(), true
		}
		c := p.s[p.i]
		if c == '\n' && len(q) == 1 {
			return "", false
		}
		if c != '\\' || p.i+1 >= len(p.s) {
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteRune(r)
			p.i += size
			continue
		}
		if raw {
			b.WriteString(p.s[p.i : p.i+2])
			p.i += 2
			continue
		}
		p.i++
		e := p.s[p.i]
		p.i++
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '\\', '\'', '"':
			b.WriteByte(e)
		case '\n':
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if p.i+width > len(p.s) {
				return "", false
			}
			n, err := strconv.ParseUint(p.s[p.i:p.i+width], 16, 32)
			if err != nil {
				return "", false
			}
			b.WriteRune(rune(n))
			p.i += width
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return "", false
}
