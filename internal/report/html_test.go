package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/check/checktest"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/report"
	"github.com/fwpush/fwpush/inventory"
)

// externalRef finds anything that would make the page fetch: a src, href
// or action outside the page, a CSS url() or @import.
var externalRef = regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']?\s*(https?:|//|data:text)|url\(|@import`)

// checkPage renders the webapp fleet's check (one device of each kind)
// to an HTML file and returns its path and content.
func checkPage(t *testing.T) (string, string) {
	t.Helper()
	f := checktest.NewFleet(t, "../..")
	f.Scenario(t)
	rep := scenario(t)
	var b bytes.Buffer
	require.NoError(t, report.HTML(&b, report.FromCheck(rep, f.P)))
	path := filepath.Join(t.TempDir(), "check.html")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path, b.String()
}

func TestHTMLSelfContained(t *testing.T) {
	_, page := checkPage(t)
	assert.Empty(t, externalRef.FindAllString(page, -1), "nothing fetched from outside the file")
	assert.Contains(t, page, "default-src 'none'", "the page forbids itself any fetch")
	for _, want := range []string{
		"<h2>Communication matrix</h2>", `href="#flow-1"`, `id="flow-1"`, "Users reach the site",
		"digraph &#34;webapp&#34;", "flowchart LR", // both graph exports
		`<tr class="chg">`, "tcp dport 3306 accept", "permitted by hand, not by the policy",
		"run run-of-bob (bob on ctl-b", "db-2: connect: dial db-2: unreachable",
	} {
		assert.Contains(t, page, want)
	}
}

// TestHTMLEscapes: text from devices and inputs is escaped: it cannot add
// markup or script to the page.
func TestHTMLEscapes(t *testing.T) {
	pg := report.Page{Title: "x", Devices: []report.Device{{Host: `<script>alert(1)</script>`, Status: "drift", Class: "warn",
		Error: `</pre><img src=x onerror=alert(1)>`, Rows: report.SideBySide("a\n", "<b>bold</b>\n", 3)}}}
	var b bytes.Buffer
	require.NoError(t, report.HTML(&b, pg))
	out := b.String()
	assert.NotContains(t, out, "<script>alert")
	assert.NotContains(t, out, "<img src=x")
	assert.NotContains(t, out, "<b>bold</b>")
	assert.Contains(t, out, "&lt;b&gt;bold&lt;/b&gt;")
}

// TestHTMLFlowActions: the flow list tags a reject flow "reject", a deny
// flow "deny", and names a named flow next to its number.
func TestHTMLFlowActions(t *testing.T) {
	pb, err := policy.Parse("p.yml", []byte(`name: p
roles: {web: {}, app: {}, db: {}}
flows:
  - {name: telnet, from: any, to: web, ports: [tcp/23], action: reject, why: answered}
  - {from: any, to: web, ports: [tcp/24], action: deny, why: silent}
`))
	require.NoError(t, err)
	inv, err := inventory.Load("../../inventory/examples/webapp")
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, report.HTML(&b, report.Page{Title: "x", Matrix: report.NewMatrix(pb, inv)}))
	out := b.String()
	assert.Regexp(t, `(?s)id="flow-1".*<span class="tag bad">reject</span>.*flow 1 \(telnet\), line 4.*id="flow-2".*<span class="tag bad">deny</span>`, out)
	assert.Equal(t, 1, strings.Count(out, `<span class="tag bad">reject</span>`))
}
