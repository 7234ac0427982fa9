package inventory

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestINIValue: values of an Ansible INI inventory, read as Ansible reads
// them (ast.literal_eval, else the text).
func TestINIValue(t *testing.T) {
	cases := map[string]any{
		"22":                       int64(22),
		"-5":                       int64(-5),
		"1_000":                    int64(1000),
		"0x10":                     int64(16),
		"0o17":                     int64(15),
		"0b101":                    int64(5),
		"010":                      "010",
		"00":                       int64(0),
		"2.5":                      2.5,
		"1e3":                      1000.0,
		"True":                     true,
		"False":                    false,
		"None":                     nil,
		"yes":                      "yes",
		"true":                     "true",
		"198.18.0.1":               "198.18.0.1",
		"2001:db8::1":              "2001:db8::1",
		"'quoted'":                 "quoted",
		`"a \"b\" \n"`:             "a \"b\" \n",
		`'a' "b"`:                  "ab",
		`r'\d+'`:                   `\d+`,
		"['a', 'b']":               []any{"a", "b"},
		"[1, [2, 3],]":             []any{int64(1), []any{int64(2), int64(3)}},
		"(1,)":                     []any{int64(1)},
		"(1)":                      int64(1),
		"{'k': 1, 2: [None]}":      map[string]any{"k": int64(1), "2": []any{nil}},
		"{}":                       map[string]any{},
		"{1, 2}":                   []any{int64(1), int64(2)},
		"1 # a comment":            int64(1),
		"foo # not a comment":      "foo # not a comment",
		"['a', b]":                 "['a', b]",
		"[1, 2":                    "[1, 2",
		"":                         "",
		" 1":                       " 1",
		"{{ lookup('env', 'X') }}": "{{ lookup('env', 'X') }}",
	}
	for in, want := range cases {
		assert.Equal(t, want, iniValue(in), "%q", in)
	}
}

func TestShellSplit(t *testing.T) {
	cases := map[string][]shellToken{
		`web01 a=1 b="x y"`:      {{"web01", 0}, {"a=1", 6}, {"b=x y", 10}},
		`h a='{{ x }}' # note`:   {{"h", 0}, {"a={{ x }}", 2}},
		`h a="say \"hi\"" c=\ d`: {{"h", 0}, {`a=say "hi"`, 2}, {"c= d", 17}},
		`h a=b#c`:                {{"h", 0}, {"a=b", 2}},
	}
	for in, want := range cases {
		got, err := shellSplit(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := shellSplit(`h a="open`)
	assert.ErrorContains(t, err, "no closing quotation")
}
