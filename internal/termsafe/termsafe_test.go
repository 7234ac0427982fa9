package termsafe

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLineAndText(t *testing.T) {
	cases := map[string]struct{ in, line, text string }{
		"plain":            {"users reach the web tier", "users reach the web tier", "users reach the web tier"},
		"accents and CJK":  {"café → 日本", "café → 日本", "café → 日本"},
		"newline":          {"a\nPERMITTED", `a\nPERMITTED`, "a\nPERMITTED"},
		"carriage return":  {"ok\rFAIL", `ok\rFAIL`, `ok\rFAIL`},
		"tab":              {"a\tb", `a\tb`, "a\tb"},
		"ANSI colour":      {"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`, `\x1b[31mred\x1b[0m`},
		"OSC title":        {"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`, `\x1b]0;pwned\x07`},
		"C1 CSI":           {"a\u009b31mb", `a\u009b31mb`, `a\u009b31mb`},
		"DEL and NUL":      {"a\x7fb\x00", `a\x7fb\x00`, `a\x7fb\x00`},
		"bidi override":    {"allow \u202edeny\u202c", `allow \u202edeny\u202c`, `allow \u202edeny\u202c`},
		"bidi isolate":     {"x\u2066y\u2069", `x\u2066y\u2069`, `x\u2066y\u2069`},
		"zero width space": {"ss\u200bh", `ss\u200bh`, `ss\u200bh`},
		"line separator":   {"a\u2028b", `a\u2028b`, `a\u2028b`},
		"invalid UTF-8":    {"a\xffb\xc2", `a\xffb\xc2`, `a\xffb\xc2`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.line, Line(tc.in))
			assert.Equal(t, tc.text, Text(tc.in))
		})
	}
}

// FuzzLine: whatever goes in, nothing a terminal acts on comes out, and
// clean input is returned unchanged.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J", "a\u202eb", "\xff\xfe", "x\ny"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Line(s)
		for i, r := range out {
			if unsafe(r, len(string(r)), false) {
				t.Fatalf("Line(%q) = %q keeps %U at %d", s, out, r, i)
			}
		}
		if Line(out) != out {
			t.Fatalf("Line is not idempotent on %q", out)
		}
	})
}
