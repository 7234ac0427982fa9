package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fwpush/fwpush/internal/check"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/termsafe"
)

// CheckText writes a check for a terminal: each device that is not
// compliant with its findings and, for drift, what the device permits
// beyond the policy or no longer permits; then a table and the counts.
// Every string from a device or an input is made terminal-safe.
func CheckText(w io.Writer, rep *check.Report) error {
	line := termsafe.Line
	for _, d := range rep.Devices {
		if d.Status == check.Compliant {
			continue
		}
		fmt.Fprintf(w, "=== %s (%s): %s\n", line(d.Host), line(d.Platform), d.Status)
		for _, f := range d.Findings {
			fmt.Fprintf(w, "  %s: %s\n", f.Kind, line(f.Detail))
		}
		if s := d.Drift; s != nil {
			for _, r := range s.Permitted {
				fmt.Fprintf(w, "    + permitted by hand, not by the policy: %s\n", line(r))
			}
			for _, r := range s.Unpermitted {
				fmt.Fprintf(w, "    - no longer permitted (the policy permits it): %s\n", line(r))
			}
			for _, r := range s.Denied {
				fmt.Fprintf(w, "    + denied by hand: %s\n", line(r))
			}
			for _, r := range s.Undenied {
				fmt.Fprintf(w, "    - no longer denied (the policy denies it): %s\n", line(r))
			}
			for _, c := range s.Sets {
				fmt.Fprintf(w, "    ~ set %s: added %s, removed %s\n", line(c.Name), line(list(c.Added)), line(list(c.Removed)))
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tPLATFORM\tSTATUS\tFINDINGS")
	for _, d := range rep.Devices {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", line(d.Host), line(d.Platform), d.Status, dash(kinds(d)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d devices: %d compliant, %d drift, %d error\n", rep.Summary.Total, rep.Summary.Compliant, rep.Summary.Drift, rep.Summary.Error)
	return err
}

// kinds lists a device's finding kinds, each once.
func kinds(d check.Device) string {
	var out []string
	for _, f := range d.Findings {
		k := string(f.Kind)
		if len(out) == 0 || out[len(out)-1] != k {
			out = append(out, k)
		}
	}
	return strings.Join(out, ",")
}

func list(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// CheckMarkdown writes a check for a ticket or a pull-request comment: a
// headline, a table of devices, then each device that is not compliant
// with its findings, its semantic drift and the repair diff (folded).
func CheckMarkdown(w io.Writer, rep *check.Report) error {
	b := &strings.Builder{}
	verdict := "compliant"
	switch rep.ExitCode() {
	case check.ExitDrift:
		verdict = "drift"
	case check.ExitError:
		verdict = "errors"
	}
	fmt.Fprintf(b, "## fwpush check: %s: %s\n\n", mdText(rep.Playbook), verdict)
	fmt.Fprintf(b, "%d devices: %d compliant, %d drift, %d error (checked %s)\n\n",
		rep.Summary.Total, rep.Summary.Compliant, rep.Summary.Drift, rep.Summary.Error, rep.Checked.UTC().Format(time.RFC3339))
	b.WriteString("| host | platform | status | findings |\n|---|---|---|---|\n")
	for _, d := range rep.Devices {
		fmt.Fprintf(b, "| %s | %s | %s %s | %s |\n", mdText(d.Host), mdText(d.Platform), statusMark[d.Status], d.Status, mdText(dash(kinds(d))))
	}
	for _, d := range rep.Devices {
		if d.Status == check.Compliant {
			continue
		}
		fmt.Fprintf(b, "\n### %s (%s): %s\n\n", mdText(d.Host), mdText(d.Platform), d.Status)
		for _, f := range d.Findings {
			fmt.Fprintf(b, "- **%s**: %s\n", f.Kind, mdText(f.Detail))
		}
		if s := d.Drift; s != nil {
			mdRules(b, "permitted by hand, not by the policy", s.Permitted)
			mdRules(b, "no longer permitted (the policy permits it)", s.Unpermitted)
			mdRules(b, "denied by hand", s.Denied)
			mdRules(b, "no longer denied (the policy denies it)", s.Undenied)
			for _, c := range s.Sets {
				fmt.Fprintf(b, "- set %s: added %s, removed %s\n", mdCode(c.Name), mdText(list(c.Added)), mdText(list(c.Removed)))
			}
		}
		if d.Repair != nil && d.Repair.Unified != "" {
			fence := mdFence(d.Repair.Unified)
			fmt.Fprintf(b, "\n<details><summary>repair: what a push would change</summary>\n\n%sdiff\n%s", fence, termsafe.Text(d.Repair.Unified))
			if !strings.HasSuffix(d.Repair.Unified, "\n") {
				b.WriteString("\n")
			}
			fmt.Fprintf(b, "%s\n\n</details>\n", fence)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var statusMark = map[check.Status]string{check.Compliant: "✅", check.Drift: "⚠️", check.Error: "❌"}

func mdRules(b *strings.Builder, label string, rules []string) {
	for _, r := range rules {
		fmt.Fprintf(b, "- %s: %s\n", label, mdCode(r))
	}
}

// mdText is s as Markdown text that renders as itself: control and
// invisible characters escaped (termsafe), Markdown punctuation
// backslash-escaped, and HTML's specials as entities, so a device's
// message cannot add links, images or markup to a ticket.
func mdText(s string) string {
	s = termsafe.Line(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\\', '`', '*', '_', '[', ']', '(', ')', '#', '|', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode is s as an inline code span, its delimiter longer than any run
// of backticks inside. A code span cannot hold a pipe inside a table
// cell, so callers use it outside tables.
func mdCode(s string) string {
	s = termsafe.Line(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// mdFence is a code block fence longer than any backtick run in s.
func mdFence(s string) string { return strings.Repeat("`", max(3, longestRun(s, '`')+1)) }

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// CheckJUnit writes one test case per device: drift is a failure, an
// error an error, each with its findings; the repair diff goes to
// system-out. A CI system then shows which host drifted and how.
func CheckJUnit(w io.Writer, rep *check.Report, elapsed time.Duration) error {
	s := NewJUnitSuite("fwpush check "+rep.Playbook, elapsed)
	for _, d := range rep.Devices {
		c := JUnitCase{Name: d.Host, Classname: "fwpush.check." + d.Platform}
		if d.Repair != nil {
			c.SystemOut = d.Repair.Unified
		}
		var text strings.Builder
		for _, f := range d.Findings {
			fmt.Fprintf(&text, "%s: %s\n", f.Kind, f.Detail)
		}
		if s := d.Drift; s != nil {
			writeRules(&text, s)
		}
		msg := &JUnitMessage{Message: string(d.Status) + ": " + kinds(d), Text: text.String()}
		switch d.Status {
		case check.Drift:
			c.Failure = msg
		case check.Error:
			c.Error = msg
		}
		s.Add(c)
	}
	return WriteJUnit(w, s)
}

func writeRules(b *strings.Builder, s *diff.Summary) {
	for _, r := range s.Permitted {
		fmt.Fprintf(b, "+ permitted by hand: %s\n", r)
	}
	for _, r := range s.Unpermitted {
		fmt.Fprintf(b, "- no longer permitted: %s\n", r)
	}
	for _, r := range s.Denied {
		fmt.Fprintf(b, "+ denied by hand: %s\n", r)
	}
	for _, r := range s.Undenied {
		fmt.Fprintf(b, "- no longer denied: %s\n", r)
	}
	for _, c := range s.Sets {
		fmt.Fprintf(b, "~ set %s: added %s, removed %s\n", c.Name, list(c.Added), list(c.Removed))
	}
}
