// Package freetext turns a playbook's free text (a flow's why, a
// description) into what a device may store as a comment: one readable
// line, in any device's comment syntax once that device's own quoting is
// applied. Rendering stays deterministic: same text, same bytes.
package freetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMarks is how many combining marks may follow one base character: more
// than any script needs, few enough that stacked marks ("zalgo" text) stay
// a line high.
const maxMarks = 4

// Line makes text one readable line:
//   - invalid UTF-8 becomes '?';
//   - control characters (C0, DEL, C1: newlines, tabs, the ANSI escape and
//     CSI that would drive a terminal showing the config) and every other
//     kind of space become one space; runs of spaces become one; the ends
//     are trimmed;
//   - format characters are dropped: bidi overrides, embeddings and
//     isolates, zero-width characters, the BOM. They are invisible and make
//     text read differently from what it holds (CVE-2021-42574), which a
//     reviewer of a diff must never have to guess at;
//   - combining marks stay on their base character, at most maxMarks each;
//     a mark with no base character (at the start, after a space) is
//     dropped, as it would combine with the quote before it.
//
// Quotes, backslashes, ';', braces and the like stay: they are readable,
// and each device's quoting takes care of them.
func Line(text string) string {
	text = strings.ToValidUTF8(text, "?")
	var b strings.Builder
	b.Grow(len(text))
	space, marks := true, 0 // at the start, as after a space
	for _, r := range text {
		switch {
		case r < 0x20 || r >= 0x7f && r <= 0x9f || unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		case unicode.Is(unicode.Cf, r):
			continue
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
			if space || marks >= maxMarks {
				continue
			}
			marks++
			b.WriteRune(r)
			continue
		}
		b.WriteRune(r)
		space, marks = false, 0
	}
	return strings.TrimRight(b.String(), " ")
}

// ellipsis marks text Cut shortened.
const ellipsis = "…"

// Cut shortens text to at most max bytes: at the last space before the
// limit when that keeps at least half of it, else at a character boundary
// (with its combining marks), and says so with a trailing "…". Text within
// max is returned as is.
func Cut(text string, max int) string {
	if len(text) <= max {
		return text
	}
	if max < len(ellipsis) {
		return ""
	}
	limit := max - len(ellipsis)
	end := limit
	for end > 0 && !utf8.RuneStart(text[end]) {
		end--
	}
	// Do not split a character from its combining marks.
	for end > 0 {
		r, _ := utf8.DecodeRuneInString(text[end:])
		if !unicode.Is(unicode.Mn, r) && !unicode.Is(unicode.Me, r) {
			break
		}
		end--
		for end > 0 && !utf8.RuneStart(text[end]) {
			end--
		}
	}
	if sp := strings.LastIndexByte(text[:end+1], ' '); sp >= limit/2 {
		end = sp
	}
	return strings.TrimRight(text[:end], " ") + ellipsis
}
