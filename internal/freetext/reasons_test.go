package freetext

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReasons(t *testing.T) {
	long := "Sprout forwards SIP requests to the application servers that subscribers are provisioned on"
	tests := map[string]struct {
		ids  []int
		whys []string
		max  int
		want string
	}{
		"always-on rule":          {nil, []string{"fwpush management access (always on)"}, 128, "fwpush management access (always on)"},
		"one flow":                {[]int{3}, []string{"Bono forwards SIP"}, 128, "flow 3: Bono forwards SIP"},
		"merged flows":            {[]int{3, 5}, []string{"Bono forwards SIP", "Sprout replies"}, 128, "flow 3: Bono forwards SIP; flow 5: Sprout replies"},
		"one long, cut at a word": {[]int{3}, []string{long}, 64, "flow 3: Sprout forwards SIP requests to the application…"},
		"merged, short stays whole": {[]int{3, 12}, []string{"DNS", long}, 64,
			"flow 3: DNS; flow 12: Sprout forwards SIP requests to the…"},
		"merged, fair shares": {[]int{3, 12}, []string{long, long}, 80,
			"flow 3: Sprout forwards SIP…; flow 12: Sprout forwards SIP requests…"},
		"numbers first when shares get too small": {[]int{1, 2, 3, 4, 5, 7, 9, 10, 11}, []string{long, long, long, long, long, long, long, long, long}, 128,
			"flows 1-5, 7, 9-11: Sprout forwards SIP requests to the application servers that subscribers are provisioned on; Sprout…"},
		"control characters":            {[]int{2}, []string{"a\nb\x1b[31m"}, 128, "flow 2: a b [31m"},
		"empty reason keeps its number": {[]int{2, 4}, []string{"", "x"}, 128, "flow 2; flow 4: x"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := Reasons(tt.ids, tt.whys, tt.max)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), tt.max)
		})
	}
}

// Whatever merges into one rule, the comment fits and names every flow
// while the numbers fit at all.
func TestReasonsKeepsEveryFlow(t *testing.T) {
	for n := 1; n <= 30; n++ {
		var ids []int
		var whys []string
		for i := 0; i < n; i++ {
			ids = append(ids, 2*i+1) // no runs: the longest list
			whys = append(whys, strings.Repeat("word ", 20))
		}
		got := Reasons(ids, whys, 128)
		assert.LessOrEqual(t, len(got), 128, n)
		if len("flows "+idList(ids)+": ") <= 128 {
			for _, id := range ids {
				assert.Contains(t, " "+strings.NewReplacer(",", " ", ":", " ", ";", " ").Replace(got)+" ", " "+strconv.Itoa(id)+" ", "n=%d: %s", n, got)
			}
		}
	}
}
