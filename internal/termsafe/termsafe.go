package termsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line returns s for one line of terminal output: every character that a
// terminal would act on or that would make the line read other than it is
// (newlines, carriage returns, tabs, escape sequences and other C0/C1
// controls, bidirectional overrides and isolates, zero-width and other
// invisible format characters, line separators, invalid UTF-8) is written
// as a visible Go-style escape (\n, \x1b, \u202e). Everything else is
// kept, so ordinary text, accents and CJK read as they are. JSON output
// needs none of this: its encoder escapes, and it must stay exact.
func Line(s string) string { return clean(s, false) }

// Text is Line for multi-line text (a diff, a config, a joined error): it
// keeps newlines and tabs and escapes the rest as Line does.
func Text(s string) string { return clean(s, true) }

func clean(s string, multiline bool) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafe(r, n, multiline) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s // the common case: nothing to escape, no allocation
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unsafe(r, n, multiline) {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

// unsafe reports whether a rune must be escaped.
func unsafe(r rune, size int, multiline bool) bool {
	switch {
	case r == utf8.RuneError && size <= 1:
		return true // not UTF-8: a terminal may read it as a C1 control
	case multiline && (r == '\n' || r == '\t'):
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true // C0, DEL, C1 (0x9b is CSI on some terminals)
	}
	// Cf holds the bidi overrides and isolates (U+202A–U+202E,
	// U+2066–U+2069, U+200E/F, U+061C) and zero-width characters; Zl and
	// Zp are line and paragraph separators.
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}
