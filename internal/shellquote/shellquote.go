package shellquote

import "strings"

// Quote returns s as one single-quoted POSIX shell word. Inside single
// quotes nothing is special except the quote itself: Quote ends the quoted
// run there, adds a backslash-escaped quote and starts a new run, so the
// shell hands the command exactly s: no expansion, no word splitting, no
// globbing, whatever s holds.
//
//	it's  →  'it'\''s'
//
// The one thing no shell word can carry is a NUL byte (arguments are C
// strings, cut at the first NUL); values that may hold one travel as data
// on stdin instead.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each word and joins them with spaces: a command line whose
// arguments arrive exactly as given.
func Join(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}
