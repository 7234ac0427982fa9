package yamlsrc

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
)

// Error is an input error located in a source file. Field is the dotted path
// of the offending value ("flows[3].ports[0]").
type Error struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Col   int    `json:"column"`
	Field string `json:"field,omitempty"`
	Msg   string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Doc is one parsed YAML file, kept so later semantic checks can point at the
// line of the value they reject.
type Doc struct {
	File string
	src  []byte
	ast  *ast.File
	// keys indexes mapping nodes by key on first lookup, so locating
	// each of 5,000 hosts is not a scan of all of them.
	keys map[*ast.MappingNode]map[string]*ast.MappingValueNode
	// ext are the values DropExtensions removed: Decode reads them first,
	// for the anchors they define.
	ext []ast.Node
}

// bom is the UTF-8 byte order mark some Windows editors write first. YAML
// allows it; goccy would read it as part of the first key, renaming the
// first host or turning "name" into an unknown field nobody can see.
var bom = []byte("\ufeff")

// Parse parses data (read from file) without decoding it. It refuses what
// would cost far more to decode than the file's size suggests (see
// MaxFileBytes, MaxDepth, MaxAliasNodes), and a second YAML document: only
// the first would be read, so the rest would be ignored without a word.
// Merge keys ("<<: *defaults") are resolved as YAML defines them: a key
// the mapping sets itself wins over a merged one.
func Parse(file string, data []byte) (*Doc, error) {
	if len(data) > MaxFileBytes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("file is larger than %d MiB: fwpush reads inventories and playbooks up to that size", MaxFileBytes>>20)}
	}
	data = bytes.TrimPrefix(data, bom)
	tokens := lexer.Tokenize(string(data))
	if err := checkDepth(file, tokens); err != nil {
		return nil, err
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, wrap(file, err)
	}
	for _, d := range f.Docs[min(1, len(f.Docs)):] {
		if d.Body == nil {
			continue // a trailing "---" with nothing after it
		}
		e := &Error{File: file, Msg: "a second YAML document: fwpush reads one document per file, so everything after this '---' would be ignored; merge it into the first"}
		if d.Start != nil && d.Start.Position != nil {
			e.Line, e.Col = d.Start.Position.Line, d.Start.Position.Column
		}
		return nil, e
	}
	if len(f.Docs) > 0 {
		if err := checkAliases(file, f.Docs[0].Body); err != nil {
			return nil, err
		}
		if err := expandMerges(file, f.Docs[0].Body); err != nil {
			return nil, err
		}
	}
	return &Doc{File: file, src: data, ast: f}, nil
}

// Decode decodes the document into v, rejecting unknown fields and duplicate
// keys.
func (d *Doc) Decode(v any) error {
	if len(strings.TrimSpace(string(d.src))) == 0 {
		return nil
	}
	// Decode from the AST already parsed: parsing twice doubles the load
	// time of a 5,000-host inventory.
	if len(d.ast.Docs) == 0 || d.ast.Docs[0].Body == nil {
		return nil
	}
	dec := yaml.NewDecoder(strings.NewReader(""), yaml.DisallowUnknownField())
	if len(d.ext) > 0 {
		// The same decoder then knows the anchors the dropped
		// extension entries define.
		ext := ast.Sequence(d.ext[0].GetToken(), true)
		ext.Values = d.ext
		var discard any
		if err := dec.DecodeFromNode(ext, &discard); err != nil {
			return wrap(d.File, err)
		}
	}
	if err := dec.DecodeFromNode(d.ast.Docs[0].Body, v); err != nil {
		return wrap(d.File, err)
	}
	return nil
}

// DecodeOrdered is Decode with every mapping kept in document order, as a
// yaml.MapSlice, for formats whose meaning depends on that order (in an
// Ansible inventory, the later definition of a variable wins).
func (d *Doc) DecodeOrdered(v any) error {
	if len(d.ast.Docs) == 0 || d.ast.Docs[0].Body == nil || len(strings.TrimSpace(string(d.src))) == 0 {
		return nil
	}
	if err := yaml.NodeToValue(d.ast.Docs[0].Body, v, yaml.UseOrderedMap()); err != nil {
		return wrap(d.File, err)
	}
	return nil
}

// wrap turns a go-yaml error into an *Error with the token's position.
func wrap(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{File: file, Msg: ye.GetMessage()}
		var dup *yaml.DuplicateKeyError
		if errors.As(err, &dup) || strings.Contains(e.Msg, "already defined") {
			// Name the real problem: in hosts.yaml this is a duplicate host.
			e.Msg = "duplicate key: " + e.Msg
		}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Col = tk.Position.Line, tk.Position.Column
		}
		return e
	}
	return &Error{File: file, Msg: err.Error()}
}

// Errorf returns an *Error located at the node addressed by path, a sequence
// of map keys (string) and list indexes (int). When the node is missing, the
// nearest existing ancestor gives the line.
func (d *Doc) Errorf(path []any, format string, args ...any) error {
	line, col := d.Pos(path...)
	return &Error{File: d.File, Line: line, Col: col, Field: FieldName(path), Msg: fmt.Sprintf(format, args...)}
}

// Pos returns the 1-based line and column of the node at path.
func (d *Doc) Pos(path ...any) (line, col int) {
	if d == nil || d.ast == nil || len(d.ast.Docs) == 0 {
		return 0, 0
	}
	n := d.ast.Docs[0].Body
	best := n
	for _, p := range path {
		next, at := d.child(n, p)
		if next == nil {
			break
		}
		n, best = next, at
	}
	if best == nil {
		return 1, 1
	}
	tk := best.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

// child steps from n to its child p, returning the child to walk on and
// the node whose position to report for it.
func (d *Doc) child(n ast.Node, p any) (next, at ast.Node) {
	switch v := n.(type) {
	case *ast.DocumentNode:
		return d.child(v.Body, p)
	case *ast.MappingNode:
		key, ok := p.(string)
		if !ok {
			return nil, nil
		}
		if d.keys == nil {
			d.keys = map[*ast.MappingNode]map[string]*ast.MappingValueNode{}
		}
		idx, ok := d.keys[v]
		if !ok {
			idx = make(map[string]*ast.MappingValueNode, len(v.Values))
			for _, mv := range v.Values {
				if k := keyString(mv.Key); idx[k] == nil {
					idx[k] = mv
				}
			}
			d.keys[v] = idx
		}
		if mv := idx[key]; mv != nil {
			return mv.Value, valueOrKey(mv)
		}
	case *ast.MappingValueNode:
		key, ok := p.(string)
		if ok && keyString(v.Key) == key {
			return v.Value, valueOrKey(v)
		}
	case *ast.SequenceNode:
		i, ok := p.(int)
		if ok && i >= 0 && i < len(v.Values) {
			at := v.Values[i]
			if m, isMap := at.(*ast.MappingNode); isMap && len(m.Values) > 0 {
				at = m.Values[0].Key // a mapping's own token is its first ':'
				// A merge key expanded in place puts merged entries first,
				// at their anchor's place, before the mapping itself.
				if earlier(at, m) {
					at = m
				}
			}
			return v.Values[i], at
		}
	case *ast.TagNode:
		return d.child(v.Value, p)
	case *ast.AnchorNode:
		return d.child(v.Value, p)
	}
	return nil, nil
}

// valueOrKey points errors at a scalar value, but at the key for a nested
// block: "sprout-1:" is where a reader looks for a host.
func valueOrKey(mv *ast.MappingValueNode) ast.Node {
	switch mv.Value.(type) {
	case *ast.MappingNode, *ast.SequenceNode, *ast.MappingValueNode, nil:
		return mv.Key
	}
	if _, null := mv.Value.(*ast.NullNode); null {
		return mv.Key
	}
	return mv.Value
}

func keyString(k ast.MapKeyNode) string {
	if k == nil {
		return ""
	}
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	return strings.Trim(k.String(), `"'`)
}

// FieldName renders a path as "flows[2].ports[0]". A key that is not a
// plain name (letters, digits, '_', '.', '-') is shown as Quote shows it:
// keys are input, and an error message must not carry a terminal escape
// or a 100 KB key.
func FieldName(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch v := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(v) + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			k := fmt.Sprint(v)
			if !plainKey.MatchString(k) {
				k = Quote(k)
			}
			b.WriteString(k)
		}
	}
	return b.String()
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// maxShown is how much of a value a message quotes.
const maxShown = 64

// Quote shows an input value in a message: Go-quoted, so control
// characters, bidi overrides and terminal escapes appear as escapes rather
// than act, and cut to its first 64 bytes (on a rune boundary, with the
// full length said) so a huge value cannot bury the message.
func Quote(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// earlier says whether a is on a line before b's: a mapping's first key
// shares its line with the mapping's first ':', an entry merged from an
// anchor (always written before its alias) does not.
func earlier(a, b ast.Node) bool {
	ta, tb := a.GetToken(), b.GetToken()
	if ta == nil || tb == nil || ta.Position == nil || tb.Position == nil {
		return false
	}
	return ta.Position.Line < tb.Position.Line
}
