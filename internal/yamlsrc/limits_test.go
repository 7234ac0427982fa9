package yamlsrc

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// billionLaughs is the classic alias bomb: ten levels, each alias list
// repeating the level below ten times, 10^9 scalars from about 700 bytes.
// key is the mapping key the first level hangs from.
func billionLaughs(key string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n", key)
	for i := 1; i <= 9; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", ")
		fmt.Fprintf(&b, "%s%d: &l%d [%s]\n", key, i, i, refs)
	}
	return b.String()
}

func TestParseRefuses(t *testing.T) {
	cases := map[string]struct {
		src  string
		want string // file:line:col prefix and message fragment
	}{
		"billion laughs": {billionLaughs("a"), "f.yaml:6:45: aliases expand this file by more than 1000000 nodes"},
		"deep flow nesting": {"a: " + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + "\n",
			fmt.Sprintf("f.yaml:1:%d: lists and maps nest deeper than %d levels", 3+MaxDepth, MaxDepth)},
		"deep block nesting": {strings.Repeat("- ", MaxDepth+1) + "x\n",
			fmt.Sprintf("f.yaml:1:%d: lists and maps nest deeper than %d levels", 1+2*MaxDepth, MaxDepth)},
		"second document":        {"a: 1\nb: 2\n---\nc: 3\n", "f.yaml:3:1: a second YAML document"},
		"document end then more": {"a: 1\n...\n---\nc: 3\n", "f.yaml:3:1: a second YAML document"},
		"anchor defined twice":   {"a: &x 1\nb: &x 2\nc: *x\n", "f.yaml:2:4: anchor &x is defined twice (first at line 1)"},
		"alias in own anchor":    {"a: &x [1, *x]\n", "f.yaml:1:11: alias *x is inside its own anchor"},
		"too large": {strings.Repeat("#", MaxFileBytes+1),
			fmt.Sprintf("f.yaml: file is larger than %d MiB", MaxFileBytes>>20)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var e *Error
			assert.True(t, errors.As(err, &e), "a located *Error, not %T", err)
		})
	}
}

// TestParseAccepts: what the limits must leave alone.
func TestParseAccepts(t *testing.T) {
	var hosts strings.Builder
	hosts.WriteString("defaults: &d {platform: linux, port: 22, username: root, data: {site: lab, tier: [a, b, c]}}\n")
	for i := range 5000 {
		fmt.Fprintf(&hosts, "h%d: {<<: *d, hostname: 198.18.%d.%d}\n", i, i/256, i%256)
	}
	cases := map[string]string{
		"shared defaults on 5,000 hosts": hosts.String(),
		"trailing document marker":       "a: 1\n---\n",
		"trailing marker and comment":    "a: 1\n--- # nothing\n",
		"leading marker":                 "---\na: 1\n",
		"nesting at the limit":           "a: " + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + "\n",
		"aliases of scalars":             "a: &x 1\nb: [*x, *x, *x]\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := Parse("f.yaml", []byte(src))
			require.NoError(t, err)
			var v map[string]any
			require.NoError(t, d.Decode(&v))
		})
	}
}

// TestAliasBombIsCheap: refusing a billion laughs costs next to nothing,
// where decoding it once took 70 s and 8.9 GB.
func TestAliasBombIsCheap(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Parse("f.yaml", []byte(billionLaughs("a")))
	runtime.ReadMemStats(&after)
	require.Error(t, err)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "bytes allocated")
}

func TestBOMStripped(t *testing.T) {
	d, err := Parse("f.yaml", []byte("\ufeffname: x\nport: 7\n"))
	require.NoError(t, err)
	var v struct {
		Name string `yaml:"name"`
		Port int    `yaml:"port"`
	}
	require.NoError(t, d.Decode(&v), "the BOM must not make name an unknown field")
	assert.Equal(t, "x", v.Name)
	line, col := d.Pos("port")
	assert.Equal(t, [2]int{2, 7}, [2]int{line, col})
}

// endless is a file that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '#'
	}
	return len(p), nil
}

func TestReadLimited(t *testing.T) {
	_, err := readLimited("big.yaml", endless{})
	assert.ErrorContains(t, err, "big.yaml: file is larger than 32 MiB")
	data, err := readLimited("small.yaml", strings.NewReader("a: 1\n"))
	require.NoError(t, err)
	assert.Equal(t, "a: 1\n", string(data))
}

func TestWarningsOfInvalid(t *testing.T) {
	inner := Fail([]error{errors.New("e1")}, []string{"w1", "w2"})
	outer := errors.Join(Fail([]error{inner, errors.New("e2")}, []string{"w2", "w3"}), errors.New("e3"))
	assert.Equal(t, []string{"w2", "w3", "w1"}, Warnings(outer))
	assert.Nil(t, Fail(nil, []string{"w"}))
	assert.Nil(t, Warnings(errors.New("plain")))
}
