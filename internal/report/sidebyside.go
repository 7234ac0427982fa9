package report

import (
	"fmt"
	"strings"

	"github.com/aymanbagabas/go-udiff"
)

// SideRow is one row of a side-by-side diff.
type SideRow struct {
	// Kind: same (both sides), del (left only), add (right only), chg (a
	// left line replaced by a right one), gap (unchanged lines skipped).
	Kind            string
	LeftNo, RightNo int // 1-based; 0 when the side has no line
	Left, Right     string
}

// SideBySide lays out the line diff of before and after in two columns
// with context unchanged lines around each change; runs of deleted and
// inserted lines face each other.
func SideBySide(before, after string, context int) []SideRow {
	if before == after {
		return nil
	}
	edits := udiff.Lines(before, after)
	u, err := udiff.ToUnifiedDiff("before", "after", before, edits, context)
	if err != nil {
		// Lines' edits always apply to before; show both whole if not.
		return []SideRow{{Kind: "chg", LeftNo: 1, RightNo: 1, Left: before, Right: after}}
	}
	var rows []SideRow
	leftTotal := strings.Count(before, "\n")
	if before != "" && !strings.HasSuffix(before, "\n") {
		leftTotal++
	}
	nextLeft := 1
	for _, h := range u.Hunks {
		if h.FromLine > nextLeft {
			rows = append(rows, gap(h.FromLine-nextLeft))
		}
		l, r := h.FromLine, h.ToLine
		var dels, adds []string
		flush := func() {
			for i := 0; i < max(len(dels), len(adds)); i++ {
				row := SideRow{Kind: "chg"}
				if i < len(dels) {
					row.LeftNo, row.Left = l, dels[i]
					l++
				} else {
					row.Kind = "add"
				}
				if i < len(adds) {
					row.RightNo, row.Right = r, adds[i]
					r++
				} else {
					row.Kind = "del"
				}
				rows = append(rows, row)
			}
			dels, adds = nil, nil
		}
		for _, ln := range h.Lines {
			text := strings.TrimSuffix(ln.Content, "\n")
			switch ln.Kind {
			case udiff.Delete:
				if len(adds) > 0 {
					flush()
				}
				dels = append(dels, text)
			case udiff.Insert:
				adds = append(adds, text)
			default:
				flush()
				rows = append(rows, SideRow{Kind: "same", LeftNo: l, RightNo: r, Left: text, Right: text})
				l++
				r++
			}
		}
		flush()
		nextLeft = l
	}
	if leftTotal >= nextLeft {
		rows = append(rows, gap(leftTotal-nextLeft+1))
	}
	return rows
}

func gap(n int) SideRow {
	return SideRow{Kind: "gap", Left: fmt.Sprintf("⋯ %d unchanged %s", n, plural(n, "line", "lines"))}
}
