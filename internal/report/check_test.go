package report_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/check"
	"github.com/fwpush/fwpush/internal/check/checktest"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/report"
)

// updating reports -update (the flag driverstest registers, which this
// test binary links through checktest): rewrite testdata/*.golden.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./internal/report -update")
	assert.Equal(t, string(want), string(got))
}

// scenario is a check of the webapp fleet with one device of each kind.
func scenario(t *testing.T) *check.Report {
	t.Helper()
	f := checktest.NewFleet(t, "../..")
	f.Scenario(t)
	rep, err := check.Run(context.Background(), f.P, f.Opener(), engine.Options{})
	require.NoError(t, err)
	rep.Checked = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return rep
}

func TestCheckFormats(t *testing.T) {
	rep := scenario(t)
	cases := map[string]func(*bytes.Buffer) error{
		"check.txt":   func(b *bytes.Buffer) error { return report.CheckText(b, rep) },
		"check.md":    func(b *bytes.Buffer) error { return report.CheckMarkdown(b, rep) },
		"check.junit": func(b *bytes.Buffer) error { return report.CheckJUnit(b, rep, 1500*time.Millisecond) },
	}
	for name, write := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, write(&b))
			golden(t, name+".golden", b.Bytes())
		})
	}
}

// TestCheckJUnitOneCasePerDevice: drift is a failure, an error an error,
// a compliant device passes; the XML parses.
func TestCheckJUnitOneCasePerDevice(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, report.CheckJUnit(&b, scenario(t), time.Second))
	var doc struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Errors   int `xml:"errors,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Error   *struct{} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc))
	require.Len(t, doc.Suites, 1)
	s := doc.Suites[0]
	assert.Equal(t, 5, s.Tests)
	assert.Equal(t, 3, s.Failures)
	assert.Equal(t, 2, s.Errors)
	got := map[string]string{}
	for _, c := range s.Cases {
		switch {
		case c.Failure != nil:
			got[c.Name] = "failure"
		case c.Error != nil:
			got[c.Name] = "error"
		default:
			got[c.Name] = "pass"
		}
	}
	assert.Equal(t, map[string]string{"web-1": "failure", "web-2": "failure", "app-1": "failure", "db-1": "error", "db-2": "error"}, got)
}

// TestMarkdownEscapes: text from a device cannot add markup, links or
// images to a ticket, nor break out of a code span.
func TestMarkdownEscapes(t *testing.T) {
	rep := &check.Report{Playbook: "x", Summary: check.Summary{Total: 1, Drift: 1}, Devices: []check.Device{{
		Host: "h|1", Platform: "p", Status: check.Drift,
		Findings: []check.Finding{{Kind: check.Foreign, Detail: "see ![x](http://evil/) <img src=x> **bold** `code`\x1b[31m"}},
		Drift:    nil,
	}}}
	var b bytes.Buffer
	require.NoError(t, report.CheckMarkdown(&b, rep))
	out := b.String()
	assert.Contains(t, out, `\!\[x\]\(http://evil/\) &lt;img src=x&gt; \*\*bold\*\* \`+"`code\\`"+`\\x1b\[31m`, "the escape shows as \\x1b")
	assert.Contains(t, out, `| h\|1 |`)
	assert.NotContains(t, out, "<img")
	assert.NotContains(t, out, "\x1b")
}
