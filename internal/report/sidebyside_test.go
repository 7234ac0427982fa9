package report_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwpush/fwpush/internal/report"
)

func TestSideBySide(t *testing.T) {
	lines := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			b.WriteString(f(i) + "\n")
		}
		return b.String()
	}
	num := func(i int) string { return "l" + string(rune('a'+i-1)) }
	before := lines(12, num)
	after := strings.Replace(strings.Replace(before, "lc\n", "lc\nnew\n", 1), "lj\n", "LJ\n", 1)
	after = strings.Replace(after, "ll\n", "", 1)
	cases := map[string]struct {
		before, after string
		context       int
		want          []report.SideRow
	}{
		"same": {before, before, 3, nil},
		"insert, change and delete, one context line": {before, after, 1, []report.SideRow{
			{Kind: "gap", Left: "⋯ 2 unchanged lines"},
			{Kind: "same", LeftNo: 3, RightNo: 3, Left: "lc", Right: "lc"},
			{Kind: "add", RightNo: 4, Right: "new"},
			{Kind: "same", LeftNo: 4, RightNo: 5, Left: "ld", Right: "ld"},
			{Kind: "gap", Left: "⋯ 4 unchanged lines"},
			{Kind: "same", LeftNo: 9, RightNo: 10, Left: "li", Right: "li"},
			{Kind: "chg", LeftNo: 10, RightNo: 11, Left: "lj", Right: "LJ"},
			{Kind: "same", LeftNo: 11, RightNo: 12, Left: "lk", Right: "lk"},
			{Kind: "del", LeftNo: 12, Left: "ll"},
		}},
		"from nothing": {"", "a\nb\n", 3, []report.SideRow{
			{Kind: "add", RightNo: 1, Right: "a"},
			{Kind: "add", RightNo: 2, Right: "b"},
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, report.SideBySide(tc.before, tc.after, tc.context)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
