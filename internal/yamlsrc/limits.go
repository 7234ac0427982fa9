package yamlsrc

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Limits on what one file may cost to read. A YAML file is small to write
// and can be huge to hold: a 1.5 KB "billion laughs" document (anchors
// whose aliases repeat each other) expands to billions of nodes, and
// deeply nested brackets make the parser quadratic. fwpush refuses such a
// file before decoding it, naming the file and line.
const (
	// MaxFileBytes is the largest file read: 32 MiB, twice a generated
	// 120,000-host hosts.yaml.
	MaxFileBytes = 32 << 20
	// MaxDepth is the deepest nesting of lists and maps; fwpush's own
	// files nest six levels at most.
	MaxDepth = 100
	// MaxAliasNodes is how many nodes aliases may add to a document
	// beyond its own: a shared defaults block repeated on every one of
	// 5,000 hosts adds about 100,000.
	MaxAliasNodes = 1_000_000
)

// ReadFile reads the file at path, refusing one larger than MaxFileBytes
// before reading it all.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(path, f)
}

// ReadFS is ReadFile over fsys; label names the file in errors.
func ReadFS(fsys fs.FS, name, label string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(label, f)
}

func readLimited(label string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, &Error{File: label, Msg: fmt.Sprintf("file is larger than %d MiB: fwpush reads inventories and playbooks up to that size", MaxFileBytes>>20)}
	}
	return data, nil
}

// checkDepth rejects nesting deeper than MaxDepth, from the tokens alone:
// goccy's parser needs time quadratic in the depth. Flow collections count
// their brackets; block collections count their indentation levels.
func checkDepth(file string, tokens token.Tokens) error {
	flow := 0
	var block []int // columns of the open block collections
	open := func(col int) {
		for len(block) > 0 && block[len(block)-1] > col {
			block = block[:len(block)-1]
		}
		if len(block) == 0 || block[len(block)-1] < col {
			block = append(block, col)
		}
	}
	for i, tk := range tokens {
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			if flow > 0 {
				flow--
			}
		case token.SequenceEntryType, token.MappingKeyType:
			if flow == 0 {
				open(tk.Position.Column)
			}
		case token.MappingValueType:
			// A block mapping opens at its key, the token before ':'.
			if flow == 0 && i > 0 {
				open(tokens[i-1].Position.Column)
			}
		case token.DocumentHeaderType:
			flow, block = 0, block[:0]
		}
		if flow+len(block) > MaxDepth {
			return &Error{File: file, Line: tk.Position.Line, Col: tk.Position.Column,
				Msg: fmt.Sprintf("lists and maps nest deeper than %d levels", MaxDepth)}
		}
	}
	return nil
}

// aliasBudget counts the nodes a document holds once its aliases are
// expanded, without expanding them: each anchor's expanded size is
// computed once and an alias adds it. It refuses an anchor defined twice
// (the decoder's choice between the two would depend on decoding order,
// so the count could not be trusted) and an alias inside its own anchor.
type aliasBudget struct {
	file    string
	anchors map[string]*ast.AnchorNode
	size    map[*ast.AnchorNode]int64
	busy    map[*ast.AnchorNode]bool
	err     error
}

// checkAliases returns an error when aliases add more than MaxAliasNodes
// nodes to body, naming the alias that crosses the limit.
func checkAliases(file string, body ast.Node) error {
	b := &aliasBudget{file: file, anchors: map[string]*ast.AnchorNode{}, size: map[*ast.AnchorNode]int64{}, busy: map[*ast.AnchorNode]bool{}}
	b.collect(body)
	if b.err != nil {
		return b.err
	}
	if len(b.anchors) == 0 {
		return nil
	}
	var literal int64
	b.walk(body, func(ast.Node) { literal++ }, nil)
	var expanded int64
	b.walk(body, func(ast.Node) { expanded++ }, func(a *ast.AliasNode) bool {
		expanded += b.target(a)
		if b.err == nil && expanded-literal > MaxAliasNodes {
			b.err = b.errorAt(a, fmt.Sprintf("aliases expand this file by more than %d nodes: refusing to decode it (an alias bomb?)", MaxAliasNodes))
		}
		return b.err == nil
	})
	return b.err
}

// collect indexes anchors by name.
func (b *aliasBudget) collect(n ast.Node) {
	b.walk(n, func(n ast.Node) {
		a, ok := n.(*ast.AnchorNode)
		if !ok || b.err != nil {
			return
		}
		name := a.Name.GetToken().Value
		if prev := b.anchors[name]; prev != nil {
			b.err = b.errorAt(a, fmt.Sprintf("anchor &%s is defined twice (first at line %d): rename one", name, prev.GetToken().Position.Line))
			return
		}
		b.anchors[name] = a
	}, func(*ast.AliasNode) bool { return true })
}

// target is the expanded size of the anchor alias a names, capped so the
// arithmetic never overflows.
func (b *aliasBudget) target(a *ast.AliasNode) int64 {
	anchor := b.anchors[a.Value.GetToken().Value]
	if anchor == nil {
		return 1 // the decoder reports the unknown alias
	}
	if s, ok := b.size[anchor]; ok {
		return s
	}
	if b.busy[anchor] {
		if b.err == nil {
			b.err = b.errorAt(a, fmt.Sprintf("alias *%s is inside its own anchor", a.Value.GetToken().Value))
		}
		return 1
	}
	b.busy[anchor] = true
	var s int64
	b.walk(anchor.Value, func(ast.Node) { s++ }, func(in *ast.AliasNode) bool {
		s = min(s+b.target(in), MaxAliasNodes+1)
		return b.err == nil
	})
	s = min(s, MaxAliasNodes+1)
	b.size[anchor] = s
	delete(b.busy, anchor)
	return s
}

// walk calls node for every node under n in document order, and alias for
// every alias instead; it stops when alias returns false.
func (b *aliasBudget) walk(n ast.Node, node func(ast.Node), alias func(*ast.AliasNode) bool) bool {
	if n == nil {
		return true
	}
	if a, ok := n.(*ast.AliasNode); ok {
		if alias == nil {
			node(n)
			return true
		}
		return alias(a)
	}
	node(n)
	switch v := n.(type) {
	case *ast.DocumentNode:
		return b.walk(v.Body, node, alias)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			if !b.walk(mv, node, alias) {
				return false
			}
		}
	case *ast.MappingValueNode:
		return b.walk(v.Key, node, alias) && b.walk(v.Value, node, alias)
	case *ast.MappingKeyNode:
		return b.walk(v.Value, node, alias)
	case *ast.SequenceNode:
		for _, x := range v.Values {
			if !b.walk(x, node, alias) {
				return false
			}
		}
	case *ast.AnchorNode:
		return b.walk(v.Value, node, alias)
	case *ast.TagNode:
		return b.walk(v.Value, node, alias)
	}
	return true
}

func (b *aliasBudget) errorAt(n ast.Node, msg string) error {
	e := &Error{File: b.file, Msg: msg}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		e.Line, e.Col = tk.Position.Line, tk.Position.Column
	}
	return e
}
