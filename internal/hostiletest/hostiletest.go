// Package hostiletest is the hostile-input corpus every layer is tested
// against: strings that try to break out of a shell word, a heredoc, an nft
// string or an iptables-restore line, each of which creates a canary file
// if anything ever runs it.
package hostiletest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Payload is one hostile string. When a shell runs any part of it, it
// creates its canary file.
type Payload struct {
	Name string
	Text string
}

// Canaries names the canary files of one test. Lab hosts share the
// machine's /tmp, so a payload that runs on any of them, or on the
// controller, leaves its file where the test looks.
type Canaries struct {
	Prefix string // /tmp/fwpush-pwned-<random>
}

// NewCanaries returns a fresh canary prefix and removes any canary left
// when the test ends (after the test has had its chance to look).
func NewCanaries(t testing.TB) Canaries {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	// /tmp itself, not os.TempDir(): lab hosts share the machine's /tmp,
	// while $TMPDIR may point into a directory each lab host has its own
	// copy of (such as /root), where a canary would go unseen.
	c := Canaries{Prefix: filepath.Join("/tmp", "fwpush-pwned-"+hex.EncodeToString(b))}
	t.Cleanup(func() {
		for _, f := range c.Fired() {
			os.Remove(f)
		}
	})
	return c
}

// Fired lists the canary files that exist: each one is a payload that ran.
func (c Canaries) Fired() []string {
	m, _ := filepath.Glob(c.Prefix + "*")
	return m
}

// Corpus returns the hostile strings, each creating its own canary
// (Prefix-<name>) when run. The list covers: quotes of both kinds,
// command substitution ($() and backticks), newlines, ';', braces, NUL,
// backslashes, a 100 KB string, Unicode bidi overrides and combining marks,
// IPv6 zones, ANSI and C1 escapes, heredoc markers, and breakouts aimed at
// nft and iptables-restore syntax.
func (c Canaries) Corpus() []Payload {
	run := func(name string) string { return "touch " + c.Prefix + "-" + name }
	ps := []struct{ name, text string }{
		{"squote", `'; RUN; echo '`},
		{"dquote", `"; RUN; echo "`},
		{"subst", `$(RUN)`},
		{"backtick", "`RUN`"},
		{"newline", "ok\nRUN\n"},
		{"crlf", "ok\r\nRUN\r\n"},
		{"semicolon", "ok; RUN"},
		{"and-or", "ok && RUN || RUN"},
		{"pipe", "ok | RUN"},
		{"close-brace", "} ; RUN ; {"},
		{"open-brace", "{ RUN; }"},
		{"nul", "ok\x00; RUN"},
		{"backslash", `\'; RUN; \`},
		{"backslash-dquote", `\"; RUN; echo \"`},
		{"trailing-backslash", `ok $(RUN) \`},
		{"long", strings.Repeat("long words ", 100<<10/11) + "$(RUN)"},
		{"rtl", "\u202e$(RUN)\u202c gnirts"},
		{"combining", "e\u0301\u0302\u0303$(RUN)\u20dd"},
		{"zero-width", "ok\u200b\u2060\ufeff$(RUN)"},
		{"zone", "2001:db8::11%$(RUN)"},
		{"zone4", "198.18.1.1%`RUN`"},
		{"ansi", "\x1b[31mred\x1b[0m $(RUN)\x1b]0;title\x07"},
		{"c1", "\u009b31m$(RUN)\u0085"},
		{"line-sep", "ok\u2028RUN\u2029"},
		{"heredoc", "ok\nFWPUSH_EOF\nRUN\nFWPUSH_REVERT_EOF\nRUN\n"},
		{"ifs", "ok${IFS}$(RUN)"},
		{"glob", "/*/../$(RUN)*"},
		{"dash", "--help; -rf $(RUN)"},
		{"format", "%s%n%x $(RUN)"},
		{"nft-breakout", "\" ; add rule inet fwpush input accept ; # $(RUN)"},
		{"nft-newline", "x\"\n\t\taccept\n\t}\n}\ntable inet evil { # $(RUN)"},
		{"ipt-breakout", "\" -j ACCEPT -m comment --comment \"$(RUN)"},
		{"ipt-newline", "x\"\n-A FWPUSH-INPUT -j ACCEPT\nCOMMIT\n# $(RUN)"},
		{"yaml-ish", "key: value\n- item\n&anchor *alias $(RUN)"},
	}
	out := make([]Payload, len(ps))
	for i, p := range ps {
		out[i] = Payload{Name: p.name, Text: strings.ReplaceAll(p.text, "RUN", run(p.name))}
	}
	return out
}

// YAML returns s as a double-quoted YAML scalar: every byte survives,
// control characters and all, as an escape.
func YAML(s string) string {
	// strconv.Quote's escapes (\n, \t, \x00, \u202e, \") are all YAML
	// double-quoted escapes too; YAML reads \xNN as a code point, which
	// matches for the ASCII and C1 range Quote uses it for.
	return strconv.Quote(s)
}
