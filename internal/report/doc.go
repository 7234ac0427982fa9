// Package report turns typed results (a check, a plan, an apply, the run
// store's history) into what a person reads: terminal text, Markdown for
// a ticket, JUnit for CI, and one self-contained HTML file with the
// communication matrix, per-device side-by-side diffs and a graph export
// (Graphviz DOT, Mermaid). It formats; it never connects or decides.
package report
