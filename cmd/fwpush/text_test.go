package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/explain"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/verify"
)

// hostile is a why as a playbook, a device or a run store can hand over:
// a fake extra line, an escape sequence that clears the screen and sets
// the title, a C1 CSI, a bidi override that would show "deny" as "ynew".
const hostile = "users\nPERMITTED by everything\x1b[2J\x1b]0;owned\x07 \u009b31m \u202edeny"

// unsafeRunes are what must never reach a terminal raw.
var unsafeRunes = []string{"\x1b", "\x07", "\u009b", "\u202e", "users\nPERMITTED"}

func assertTerminalSafe(t *testing.T, out string) {
	t.Helper()
	for _, r := range unsafeRunes {
		assert.NotContains(t, out, r)
	}
	assert.Contains(t, out, `users\nPERMITTED by everything\x1b[2J\x1b]0;owned\x07 \u009b31m \u202edeny`, "escaped, visible")
}

// TestExplainTextIsTerminalSafe: explain's text output escapes the
// playbook's why (and every other name it prints); its JSON keeps the
// exact string.
func TestExplainTextIsTerminalSafe(t *testing.T) {
	q := explain.Query{From: "any", To: "web", Proto: policy.TCP, Port: 443}
	res := &explain.Result{Permitted: true, Query: explain.QueryJSON{From: "any", To: "web", Proto: "tcp", Port: 443},
		Paths: []explain.Path{{
			From: explain.Endpoint{Addr: netip.MustParseAddr("203.0.113.10"), Name: "any"},
			To:   explain.Endpoint{Addr: netip.MustParseAddr("198.18.9.11"), Host: "web-1\x1b[8m"}, Permitted: true,
			Checks: []explain.Check{{Device: "web-1", Filter: "input", Permit: true, Rule: "flow-1", Why: []string{hostile}}},
		}}}
	var out bytes.Buffer
	printExplain(&globals{out: &out}, q, res)
	assertTerminalSafe(t, out.String())
	assert.Contains(t, out.String(), `web-1\x1b[8m (198.18.9.11)`)

	out.Reset()
	require.NoError(t, (&globals{out: &out}).json(res))
	var back explain.Result
	require.NoError(t, json.Unmarshal(out.Bytes(), &back))
	assert.Equal(t, hostile, back.Paths[0].Checks[0].Why[0], "JSON is exact")
}

// TestVerifyTextIsTerminalSafe: the same for verify's probe lines (the
// why, and the note that carries a device's own error output).
func TestVerifyTextIsTerminalSafe(t *testing.T) {
	rep := &verify.Report{Results: []verify.Result{{
		Probe: verify.Probe{From: "web-1", To: "app-1", Src: netip.MustParseAddr("198.18.9.11"), Dst: netip.MustParseAddr("198.18.9.21"),
			Proto: policy.TCP, Port: 8080, Expect: true, Why: hostile},
		Got: verify.Blocked, Note: "bash: \x1b[31mconnect\x1b[0m: timed out\r\n",
	}}, Failed: 1}
	var out bytes.Buffer
	printVerify(&out, rep)
	assertTerminalSafe(t, out.String())
	assert.Contains(t, out.String(), `(bash: \x1b[31mconnect\x1b[0m: timed out\r\n)`)
	assert.Equal(t, 2, strings.Count(out.String(), "\n"), "one line per probe plus the total")
}

// TestErrorsAreTerminalSafe: an error message that carries a user's
// string raw (here an operating system error naming the playbook path)
// is escaped on stderr.
func TestErrorsAreTerminalSafe(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "no\x1b[2Jsuch\u202e.yml")
	code, _, errOut := fwpush(t, "validate", "-i", cwInv, "-p", pb)
	assert.Equal(t, exitError, code)
	assert.NotContains(t, errOut, "\x1b")
	assert.NotContains(t, errOut, "\u202e")
	assert.Contains(t, errOut, `no\x1b[2Jsuch\u202e.yml: no such file`)
}
