package yamlsrc

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// YAML merge keys ("<<: *defaults") are resolved here, on the parsed
// tree, rather than by the decoder: go-yaml reports a key that overrides a
// merged one as a duplicate, where YAML's merge type says the mapping's own
// keys win over merged ones, whatever their order, and a merged mapping
// listed first wins over one listed later. After expandMerges no "<<" key
// is left, so a key written twice in one mapping is still a duplicate.

// merger expands the merge keys of one document.
type merger struct {
	file    string
	anchors map[string]*ast.AnchorNode
	done    map[*ast.MappingNode]bool
	busy    map[*ast.MappingNode]bool
	err     error
}

// expandMerges replaces every "<<" entry of every mapping under body by
// the entries of the mappings it names that the mapping does not set
// itself, at the place of the "<<". Merged entries are shared with their
// source, not copied: they point at the lines they were written on.
func expandMerges(file string, body ast.Node) error {
	b := &aliasBudget{file: file, anchors: map[string]*ast.AnchorNode{}}
	b.collect(body)
	if b.err != nil {
		return b.err
	}
	m := &merger{file: file, anchors: b.anchors, done: map[*ast.MappingNode]bool{}, busy: map[*ast.MappingNode]bool{}}
	m.walk(body)
	return m.err
}

// walk expands every mapping under n; aliases are not followed (their
// anchor is expanded where it is defined).
func (m *merger) walk(n ast.Node) {
	if m.err != nil || n == nil {
		return
	}
	switch v := n.(type) {
	case *ast.MappingNode:
		m.mapping(v)
	case *ast.MappingValueNode:
		if v.Key != nil && v.Key.IsMergeKey() {
			m.err = m.errorAt(v.Key, "a merge key (<<) needs a mapping around it")
			return
		}
		m.walk(v.Value)
	case *ast.SequenceNode:
		for _, x := range v.Values {
			m.walk(x)
		}
	case *ast.AnchorNode:
		m.walk(v.Value)
	case *ast.TagNode:
		m.walk(v.Value)
	case *ast.DocumentNode:
		m.walk(v.Body)
	}
}

func (m *merger) mapping(v *ast.MappingNode) {
	if m.done[v] || m.err != nil {
		return
	}
	if m.busy[v] {
		m.err = m.errorAt(v, "a merge key (<<) merges the mapping it is in")
		return
	}
	m.busy[v] = true
	defer delete(m.busy, v)
	own := map[string]bool{}
	merges := false
	for _, mv := range v.Values {
		if mv.Key != nil && mv.Key.IsMergeKey() {
			merges = true
			continue
		}
		own[keyString(mv.Key)] = true
	}
	for _, mv := range v.Values {
		if mv.Key == nil || !mv.Key.IsMergeKey() {
			m.walk(mv.Value)
		}
	}
	if !merges || m.err != nil {
		m.done[v] = true
		return
	}
	out := make([]*ast.MappingValueNode, 0, len(v.Values))
	merged := map[string]bool{}
	for _, mv := range v.Values {
		if mv.Key == nil || !mv.Key.IsMergeKey() {
			out = append(out, mv)
			continue
		}
		for _, src := range m.sources(mv) {
			m.mapping(src)
			if m.err != nil {
				return
			}
			for _, smv := range src.Values {
				k := keyString(smv.Key)
				if own[k] || merged[k] {
					continue
				}
				merged[k] = true
				out = append(out, smv)
			}
		}
	}
	v.Values = out
	m.done[v] = true
}

// sources are the mappings a "<<" entry merges, first (winning) first: a
// mapping, an alias of one, or a list of those.
func (m *merger) sources(mv *ast.MappingValueNode) []*ast.MappingNode {
	items := []ast.Node{mv.Value}
	if seq, ok := unwrap(mv.Value).(*ast.SequenceNode); ok {
		items = seq.Values
	}
	var out []*ast.MappingNode
	for _, it := range items {
		n := unwrap(it)
		if al, ok := n.(*ast.AliasNode); ok {
			a := m.anchors[al.Value.GetToken().Value]
			if a == nil {
				m.err = m.errorAt(al, fmt.Sprintf("alias *%s names no anchor defined before it", al.Value.GetToken().Value))
				return nil
			}
			n = unwrap(a.Value)
		}
		mp, ok := n.(*ast.MappingNode)
		if !ok {
			m.err = m.errorAt(it, "a merge key (<<) takes a mapping, an alias of one (*name), or a list of those")
			return nil
		}
		out = append(out, mp)
	}
	return out
}

// unwrap looks through anchors and tags at the value they mark.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

func (m *merger) errorAt(n ast.Node, msg string) error {
	e := &Error{File: m.file, Msg: msg}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		e.Line, e.Col = tk.Position.Line, tk.Position.Column
	}
	return e
}

// DropExtensions removes every mapping entry whose key starts with prefix
// ("x-"), anywhere in the document, as docker-compose ignores its
// extension fields: a place for anchors to be defined once and merged or
// aliased where they are used, and for notes. Anchors defined inside a
// dropped entry stay usable: Decode reads the dropped values first.
func (d *Doc) DropExtensions(prefix string) {
	if d.ast == nil || len(d.ast.Docs) == 0 {
		return
	}
	d.keys = nil
	var walk func(n ast.Node)
	seen := map[*ast.MappingNode]bool{}
	walk = func(n ast.Node) {
		switch v := unwrap(n).(type) {
		case *ast.MappingNode:
			if seen[v] {
				return
			}
			seen[v] = true
			kept := v.Values[:0:0]
			for _, mv := range v.Values {
				if strings.HasPrefix(keyString(mv.Key), prefix) {
					d.ext = append(d.ext, mv.Value)
					continue
				}
				kept = append(kept, mv)
				walk(mv.Value)
			}
			v.Values = kept
		case *ast.MappingValueNode:
			walk(v.Value)
		case *ast.SequenceNode:
			for _, x := range v.Values {
				walk(x)
			}
		}
	}
	walk(d.ast.Docs[0].Body)
}
