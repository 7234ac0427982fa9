package freetext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/fwpush/fwpush/internal/hostiletest"
)

func TestLine(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":        {"Users reach the site", "Users reach the site"},
		"punctuation":  {`say "hi"; it's {ok} \ $(x)`, `say "hi"; it's {ok} \ $(x)`},
		"controls":     {"a\tb\nc\r\nd\x00e\x1b[31mf", "a b c d e [31mf"},
		"collapse":     {"  a  \n\n  b  ", "a b"},
		"c1":           {"a\u0085b\u009bc", "a b c"},
		"other spaces": {"a\u00a0b\u2028c\u3000d", "a b c d"},
		"bidi":         {"abc\u202edcba\u202c\u2066x\u2069", "abcdcbax"},
		"zero width":   {"a\u200bb\ufeffc\u2060d", "abcd"},
		"marks":        {"e\u0301 \u0301x", "e\u0301 x"},
		"many marks":   {"e" + strings.Repeat("\u0301", 10), "e" + strings.Repeat("\u0301", maxMarks)},
		"invalid":      {"a\xffb", "a?b"},
		"empty":        {"\n\t ", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, Line(tc.in)) })
	}
}

func TestCut(t *testing.T) {
	tests := map[string]struct {
		in   string
		max  int
		want string
	}{
		"fits":         {"short words", 11, "short words"},
		"word":         {"short words here", 14, "short words…"},
		"no space":     {"aaaaaaaaaaaa", 10, "aaaaaaa…"},
		"space early":  {"a bbbbbbbbbbbbbb", 10, "a bbbbb…"},
		"rune":         {"aaaaaaé" + "aaaa", 10, "aaaaaa…"},
		"keeps marks":  {"aaaaae\u0301aaa", 10, "aaaaa…"},
		"whole mark":   {"aaaae\u0301aaaaa", 10, "aaaae\u0301…"},
		"tiny":         {"abcdef", 2, ""},
		"exact":        {"abcdef", 6, "abcdef"},
		"ellipsis fit": {"abcdefg", 6, "abc…"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, Cut(tc.in, tc.max)) })
	}
}

// TestHostile: whatever goes in, a comment comes out that is one line of
// valid UTF-8 without control or format characters, within its limit,
// and the same every time.
func TestHostile(t *testing.T) {
	c := hostiletest.NewCanaries(t)
	for _, p := range c.Corpus() {
		for _, max := range []int{128, 255} {
			got := Cut(Line(p.Text), max)
			assert.LessOrEqual(t, len(got), max, p.Name)
			assert.True(t, utf8.ValidString(got), p.Name)
			assert.Equal(t, got, Cut(Line(p.Text), max), p.Name)
			assert.Equal(t, got, strings.TrimSpace(got), p.Name)
			for _, r := range got {
				assert.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r != ' ' && unicode.IsSpace(r),
					"%s: %U left in %q", p.Name, r, got)
			}
			assert.Equal(t, got, Cut(Line(got), max), "%s: idempotent", p.Name)
		}
	}
}
