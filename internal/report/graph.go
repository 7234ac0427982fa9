package report

import (
	"fmt"
	"io"
	"strings"
)

// edge is every enabled flow between one source and one destination,
// merged: a graph with one arrow per flow and service is unreadable.
type edge struct {
	from, to Endpoint
	permit   []string
	deny     []string
}

// edges lists the matrix's non-empty cells as edges, in row then column
// order.
func (m *Matrix) edges() []edge {
	var out []edge
	for i, row := range m.Grid {
		for j, c := range row {
			if len(c.Entries) == 0 {
				continue
			}
			e := edge{from: m.Rows[i], to: m.Cols[j]}
			seen := map[string]bool{}
			for _, x := range c.Entries {
				key := fmt.Sprint(x.Deny, x.Label)
				if seen[key] {
					continue
				}
				seen[key] = true
				if x.Deny {
					e.deny = append(e.deny, x.Label)
				} else {
					e.permit = append(e.permit, x.Label)
				}
			}
			out = append(out, e)
		}
	}
	return out
}

// nodes are the endpoints of the matrix, each once, rows first.
func (m *Matrix) nodes() []Endpoint {
	seen := map[string]bool{}
	var out []Endpoint
	for _, e := range append(append([]Endpoint(nil), m.Rows...), m.Cols...) {
		if !seen[e.Name] {
			seen[e.Name] = true
			out = append(out, e)
		}
	}
	return out
}

// DOT writes the roles and flows as a Graphviz digraph: roles are boxes,
// networks ellipses, the world a double circle; an edge carries what the
// flows between its ends open, deny flows dashed in red.
func (m *Matrix) DOT(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n\trankdir=LR;\n\tnode [fontname=\"sans-serif\"];\n\tedge [fontname=\"sans-serif\", fontsize=10];\n", dotQuote(m.Name))
	for _, n := range m.nodes() {
		shape := "box, style=rounded"
		switch n.Kind {
		case "network":
			shape = "ellipse"
		case "any":
			shape = "doublecircle"
		}
		fmt.Fprintf(&b, "\t%s [label=%s, shape=%s];\n", dotQuote(n.Name), dotQuote(n.Label()), shape)
	}
	for _, e := range m.edges() {
		if len(e.permit) > 0 {
			fmt.Fprintf(&b, "\t%s -> %s [label=%s];\n", dotQuote(e.from.Name), dotQuote(e.to.Name), dotQuote(strings.Join(e.permit, "\n")))
		}
		if len(e.deny) > 0 {
			fmt.Fprintf(&b, "\t%s -> %s [label=%s, style=dashed, color=red, fontcolor=red];\n", dotQuote(e.from.Name), dotQuote(e.to.Name),
				dotQuote("deny: "+strings.Join(e.deny, "\n")))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotQuote is s as a DOT double-quoted string; a newline becomes DOT's
// centred line break.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

// Mermaid writes the same graph as a Mermaid flowchart (GitHub and GitLab
// render it in Markdown).
func (m *Matrix) Mermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	id := map[string]string{}
	for i, n := range m.nodes() {
		id[n.Name] = fmt.Sprintf("n%d", i)
		open, close := "[", "]"
		switch n.Kind {
		case "network":
			open, close = "([", "])"
		case "any":
			open, close = "((", "))"
		}
		fmt.Fprintf(&b, "  %s%s%s%s\n", id[n.Name], open, mermaidQuote(n.Label()), close)
	}
	for _, e := range m.edges() {
		if len(e.permit) > 0 {
			fmt.Fprintf(&b, "  %s -->|%s| %s\n", id[e.from.Name], mermaidQuote(strings.Join(e.permit, ", ")), id[e.to.Name])
		}
		if len(e.deny) > 0 {
			fmt.Fprintf(&b, "  %s -.->|%s| %s\n", id[e.from.Name], mermaidQuote("deny: "+strings.Join(e.deny, ", ")), id[e.to.Name])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidQuote is s as a quoted Mermaid label: quotes and the characters
// Mermaid reads as markup become its entity codes.
func mermaidQuote(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "|", "#124;", "\n", " ")
	return `"` + r.Replace(s) + `"`
}
