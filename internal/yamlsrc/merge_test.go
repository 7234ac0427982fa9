package yamlsrc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type mergeFlow struct {
	Why  string   `yaml:"why"`
	Log  bool     `yaml:"log"`
	From []string `yaml:"from"`
	To   []string `yaml:"to"`
}

type mergeDoc struct {
	Flows []mergeFlow `yaml:"flows"`
}

func TestMergeKeys(t *testing.T) {
	tests := map[string]struct {
		src  string
		want []mergeFlow
	}{
		"override after the merge": {`base: &base {why: base, log: true, from: [a]}
flows:
  - <<: *base
    why: mine
`, []mergeFlow{{Why: "mine", Log: true, From: []string{"a"}}}},
		"override before the merge": {`base: &base {why: base, log: true}
flows:
  - why: mine
    <<: *base
`, []mergeFlow{{Why: "mine", Log: true}}},
		"first of a list wins": {`a: &a {why: a, from: [x]}
b: &b {why: b, from: [y], to: [z]}
flows:
  - <<: [*a, *b]
`, []mergeFlow{{Why: "a", From: []string{"x"}, To: []string{"z"}}}},
		"nested merges": {`a: &a {why: a, log: true}
b: &b
  <<: *a
  from: [b]
flows:
  - <<: *b
    why: c
`, []mergeFlow{{Why: "c", Log: true, From: []string{"b"}}}},
		"inline mapping": {`flows:
  - <<: {why: inline, to: [t]}
    to: [mine]
`, []mergeFlow{{Why: "inline", To: []string{"mine"}}}},
		"anchor reused by two flows": {`base: &base {why: base, from: [a]}
flows:
  - <<: *base
    to: [x]
  - <<: *base
    to: [y]
    why: other
`, []mergeFlow{{Why: "base", From: []string{"a"}, To: []string{"x"}}, {Why: "other", From: []string{"a"}, To: []string{"y"}}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := Parse("m.yml", []byte(tt.src))
			require.NoError(t, err)
			var got struct {
				Flows []mergeFlow `yaml:"flows"`
				Base  any         `yaml:"base"`
				A     any         `yaml:"a"`
				B     any         `yaml:"b"`
			}
			require.NoError(t, d.Decode(&got))
			assert.Equal(t, tt.want, got.Flows)
		})
	}
}

func TestMergeKeyErrors(t *testing.T) {
	tests := map[string]struct {
		src, want string
	}{
		"own key twice is still a duplicate": {"flows:\n  - why: a\n    why: b\n", "m.yml:3:5: duplicate key"},
		"merge of a scalar":                  {"flows:\n  - <<: 5\n    why: a\n", "m.yml:2:9: a merge key (<<) takes a mapping"},
		"merge of a list of scalars":         {"a: &a [x]\nflows:\n  - <<: *a\n", "m.yml:3:9: a merge key (<<) takes a mapping"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := Parse("m.yml", []byte(tt.src))
			if err == nil {
				var got mergeDoc
				err = d.Decode(&got)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// A merged entry is located where it was written: an error about it
// points at the anchor's line, the only place it can be fixed.
func TestMergedPos(t *testing.T) {
	d, err := Parse("m.yml", []byte("base: &base\n  why: base\nflows:\n  - <<: *base\n    to: [x]\n"))
	require.NoError(t, err)
	line, _ := d.Pos("flows", 0, "why")
	assert.Equal(t, 2, line)
	line, _ = d.Pos("flows", 0, "to")
	assert.Equal(t, 5, line)
}

func TestDropExtensions(t *testing.T) {
	src := `x-defaults: &defaults
  why: shared
  log: true
x-roles: &roles [web, app]
flows:
  - <<: *defaults
    x-note: {anything: [at, all]}
    from: *roles
    to: [db]
`
	d, err := Parse("x.yml", []byte(src))
	require.NoError(t, err)
	var strict mergeDoc
	require.Error(t, d.Decode(&strict), "without DropExtensions an x- key is an unknown field")
	d, err = Parse("x.yml", []byte(src))
	require.NoError(t, err)
	d.DropExtensions("x-")
	var got mergeDoc
	require.NoError(t, d.Decode(&got))
	assert.Equal(t, []mergeFlow{{Why: "shared", Log: true, From: []string{"web", "app"}, To: []string{"db"}}}, got.Flows)
	line, _ := d.Pos("flows", 0, "to")
	assert.Equal(t, 9, line)
}

// TestMergedEntryPosition: an entry whose merge key comes first is placed
// where it is written, not at its anchor (the merged keys come first once
// expanded).
func TestMergedEntryPosition(t *testing.T) {
	d, err := Parse("m.yml", []byte("base: &base\n  why: base\n  log: true\nflows:\n  - why: plain\n  - <<: *base\n    from: [a]\n  - from: [b]\n    <<: *base\n"))
	require.NoError(t, err)
	for i, want := range []int{5, 6, 8} {
		line, _ := d.Pos("flows", i)
		assert.Equal(t, want, line, "flows[%d]", i)
	}
}
