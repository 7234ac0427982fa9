package yamlsrc

import (
	"strings"
	"testing"
)

func TestPos(t *testing.T) {
	src := "a:\n  hostname: x\n  port: 7\n  groups: [g, h]\nflows:\n  - from: x\n    to: y\n  - from: z\n    ports:\n      - tcp/1\n      - tcp/70000\n"
	d, err := Parse("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path      []any
		line, col int
	}{
		{[]any{"a"}, 1, 1},
		{[]any{"a", "port"}, 3, 9},
		{[]any{"a", "groups", 1}, 4, 15},
		{[]any{"flows", 1}, 8, 5},
		{[]any{"flows", 1, "ports", 1}, 11, 9},
		{[]any{"flows", 1, "nosuch"}, 8, 5},
	}
	for _, c := range cases {
		line, col := d.Pos(c.path...)
		if line != c.line || col != c.col {
			t.Errorf("Pos(%v) = %d:%d, want %d:%d", c.path, line, col, c.line, c.col)
		}
	}
	if got := d.Errorf([]any{"flows", 1, "ports", 1}, "bad").Error(); got != "f.yaml:11:9: flows[1].ports[1]: bad" {
		t.Errorf("Errorf = %q", got)
	}
}

func TestQuoteAndFieldName(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"plain":   {"sprout-1", `"sprout-1"`},
		"escapes": {"a\x1b[31m\u202e\n", `"a\x1b[31m\u202e\n"`},
		"long":    {strings.Repeat("é", 100), `"` + strings.Repeat("é", 32) + `"… (200 bytes)`},
	}
	for name, c := range cases {
		if got := Quote(c.in); got != c.want {
			t.Errorf("%s: Quote = %s, want %s", name, got, c.want)
		}
	}
	if got := FieldName([]any{"web-1.example", "data", "addresses", 2}); got != "web-1.example.data.addresses[2]" {
		t.Errorf("FieldName = %s", got)
	}
	if got := FieldName([]any{"x\x1b]0;t\x07", "hostname"}); got != `"x\x1b]0;t\a".hostname` {
		t.Errorf("FieldName = %s", got)
	}
}
