// Package freetext turns a playbook's free text (a flow's why, a
// description) into what a device may store as a comment: one readable
// line, in any device's comment syntax once that device's own quoting is
// applied. Rendering stays deterministic: same text, same bytes.
package freetext

import (
	"fmt"
	"sort"
	"strconv"
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

// minShare is the least room, in bytes, a cut reason keeps next to its
// flow number: below it the numbers alone say more than word stubs.
const minShare = 12

// Reasons is a rule's comment: each reason after the number of the flow
// it comes from ("flow 3: Bono forwards SIP; flow 5: Sprout replies"), as
// one readable line (see Line) of at most max bytes. ids and whys pair up
// in order; reasons past the ids (always-on rules have none) go unnumbered.
//
// A comment that does not fit never loses a flow number: every reason is
// cut at a word boundary with "…" to a fair share of the room (short
// reasons stay whole and leave their share to the long ones). When even
// that leaves a reason fewer than a few characters, the numbers come
// first, as compact as they go ("flows 3, 5, 7-9: ") and the reasons
// share what is left. Only numbers that do not fit in max bytes at all
// end in "…".
func Reasons(ids []int, whys []string, max int) string {
	var texts []string
	var prefixes []string
	for i, w := range whys {
		t := Line(w)
		p := ""
		if i < len(ids) {
			p = fmt.Sprintf("flow %d: ", ids[i])
			if t == "" {
				p = fmt.Sprintf("flow %d", ids[i])
			}
		}
		texts = append(texts, t)
		prefixes = append(prefixes, p)
	}
	parts := make([]string, len(texts))
	for i := range texts {
		parts[i] = prefixes[i] + texts[i]
	}
	full := strings.Join(nonEmpty(parts), "; ")
	if len(full) <= max || len(ids) == 0 {
		return Cut(full, max)
	}
	overhead := 2 * (len(parts) - 1)
	for _, p := range prefixes {
		overhead += len(p)
	}
	if budget := max - overhead; budget >= minShare*len(texts) {
		shares := fairShares(texts, budget)
		for i := range texts {
			parts[i] = prefixes[i] + Cut(texts[i], shares[i])
		}
		return strings.Join(parts, "; ")
	}
	head := "flows " + idList(ids)
	if len(head)+2 > max {
		return Cut(head, max)
	}
	return head + ": " + Cut(strings.Join(nonEmpty(texts), "; "), max-len(head)-2)
}

// fairShares splits budget bytes among texts: the shortest stay whole,
// the rest get equal shares of what is left.
func fairShares(texts []string, budget int) []int {
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(texts[order[a]]) < len(texts[order[b]]) })
	shares := make([]int, len(texts))
	left := budget
	for k, i := range order {
		share := left / (len(order) - k)
		if len(texts[i]) < share {
			share = len(texts[i])
		}
		shares[i] = share
		left -= share
	}
	return shares
}

// idList prints ascending runs of flow numbers as ranges: "3, 5, 7-9".
func idList(ids []int) string {
	s := append([]int(nil), ids...)
	sort.Ints(s)
	var out []string
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] <= s[j]+1 {
			j++
		}
		if s[j] == s[i] {
			out = append(out, strconv.Itoa(s[i]))
		} else {
			out = append(out, fmt.Sprintf("%d-%d", s[i], s[j]))
		}
		i = j + 1
	}
	return strings.Join(out, ", ")
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
