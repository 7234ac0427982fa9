package report

import (
	"bytes"
	_ "embed"
	"html/template"
	"io"
	"strings"
	"time"
)

// The page's template, style and script are compiled in, and inlined in
// every report: the file opens anywhere, offline, with no font, script
// or stylesheet fetched (its Content-Security-Policy forbids any fetch).
var (
	//go:embed assets/report.html.tmpl
	pageTemplate string
	//go:embed assets/report.css
	pageCSS string
	//go:embed assets/report.js
	pageJS string
)

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"css":   func() template.CSS { return template.CSS(pageCSS) },
	"js":    func() template.JS { return template.JS(pageJS) },
	"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"join":  func(s []string) string { return strings.Join(s, ", ") },
	"kinds": func(d Device) string { return dash(deviceKinds(d)) },
	"sign": func(s string) string {
		switch s {
		case "+":
			return "plus"
		case "-":
			return "minus"
		}
		return "tilde"
	},
}).Parse(pageTemplate))

// view is what the template executes on: the page and its graph texts.
type view struct {
	Page
	DOT, Mermaid string
}

// HTML writes pg as one self-contained HTML document. Every string is
// escaped by html/template: a device's text cannot add markup or script.
func HTML(w io.Writer, pg Page) error {
	v := view{Page: pg}
	if pg.Matrix != nil {
		var dot, mm bytes.Buffer
		if err := pg.Matrix.DOT(&dot); err != nil {
			return err
		}
		if err := pg.Matrix.Mermaid(&mm); err != nil {
			return err
		}
		v.DOT, v.Mermaid = dot.String(), mm.String()
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

func deviceKinds(d Device) string {
	var out []string
	for _, f := range d.Findings {
		k := string(f.Kind)
		if len(out) == 0 || out[len(out)-1] != k {
			out = append(out, k)
		}
	}
	if len(out) == 0 && len(d.Rows) > 0 {
		out = append(out, "diff")
	}
	return strings.Join(out, ", ")
}
