package report_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/check"
	"github.com/fwpush/fwpush/internal/check/checktest"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/report"
)

// screenshot is the committed picture of the seed system's report that
// the README shows; go test ./internal/report -run Browser -update
// renews it.
const screenshot = "../../docs/report-clearwater.png"

// chromium finds Debian's chromium. CI installs it (make deps), so it is
// missing only on a developer's machine, where the test skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium: install Debian's chromium (make deps)"
	if os.Getenv("CI") != "" || os.Getuid() == 0 {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// headless runs chromium on a file with no network and no profile of the
// user's, and returns its stdout.
func headless(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + t.TempDir(), "--hide-scrollbars", "--window-size=1400,2200"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium %v:\n%s", args, stderr.String())
	return stdout.Bytes()
}

// TestBrowserRendersReport opens the check report of a seed system
// (Clearwater, on in-memory devices: one changed by hand, one down) in
// headless Chromium: the DOM after its script ran has the matrix, the
// flows with their why, the drifted device's semantic diff, and the
// script's own marks; the screenshot is a real page, not blank.
func TestBrowserRendersReport(t *testing.T) {
	bin := chromium(t)
	f := checktest.NewFleetOf(t, "../../inventory/examples/clearwater", "../../playbooks/clearwater.yml")
	checktest.Edit(t, f.Devs["sprout-1"],
		"\t\tip6 saddr @vellum_v6 tcp dport 9888 accept comment \"flow 9: Sprout: Chronos TCP/9888 open to all Vellum nodes (timer pops)\"\n",
		"\t\ttcp dport 8080 accept comment \"debugging, by hand\"\n")
	f.Down["homer-1"] = true
	rep, err := check.Run(context.Background(), f.P, f.Opener(), engine.Options{})
	require.NoError(t, err)
	rep.Checked = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	require.Equal(t, check.ExitError, rep.ExitCode())
	var b bytes.Buffer
	require.NoError(t, report.HTML(&b, report.FromCheck(rep, f.P)))
	page := filepath.Join(t.TempDir(), "clearwater.html")
	require.NoError(t, os.WriteFile(page, b.Bytes(), 0o644))
	url := "file://" + page

	dom := string(headless(t, bin, "--virtual-time-budget=3000", "--dump-dom", url))
	for _, want := range []string{
		"Communication matrix", ">sprout<", ">bono<", ">vellum<", // role headers
		"Sprout: Chronos TCP/9888 open to all Vellum nodes (timer pops)", // a flow's why
		"tcp dport 8080 accept",                       // the rule added by hand
		"permitted by hand, not by the policy",        // its semantic summary
		"no longer permitted (the policy permits it)", // and the rule it lost
		"homer-1", "unreachable", "digraph", "flowchart LR",
	} {
		assert.Contains(t, dom, want)
	}
	// The script ran: it marks the page ready with the cell count and
	// writes the count line.
	m := regexp.MustCompile(`data-report-ready="(\d+)"`).FindStringSubmatch(dom)
	require.NotNil(t, m, "the report's script did not run")
	cells, _ := strconv.Atoi(m[1])
	assert.Equal(t, report.NewMatrix(f.P.Playbook, f.P.Inv).Cells(), cells)
	assert.Regexp(t, `<span id="matrix-count">\d+ cells, \d+ sources</span>`, dom)

	shot := filepath.Join(t.TempDir(), "shot.png")
	headless(t, bin, "--screenshot="+shot, url)
	data, err := os.ReadFile(shot)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 1400, 2200), img.Bounds())
	colours, inked := inspect(img)
	assert.Greater(t, colours, 50, "a page of text, tables and colours, not a blank one")
	assert.Greater(t, inked, 0.05, "share of pixels that are not white")
	if updating() {
		require.NoError(t, os.MkdirAll(filepath.Dir(screenshot), 0o755))
		require.NoError(t, os.WriteFile(screenshot, data, 0o644))
	}
}

// inspect counts an image's distinct colours (sampled) and the share of
// pixels that are not near-white.
func inspect(img image.Image) (colours int, inked float64) {
	seen := map[[3]uint32]bool{}
	n, ink := 0, 0
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			seen[[3]uint32{cr >> 10, cg >> 10, cb >> 10}] = true
			n++
			if cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
				ink++
			}
		}
	}
	return len(seen), float64(ink) / float64(n)
}
