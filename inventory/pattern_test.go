package inventory

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitHostPattern(t *testing.T) {
	cases := map[string][]string{
		"a,b":                 {"a", "b"},
		" a , b ,":            {"a", "b"},
		"a:b":                 {"a", "b"},
		"a:!b:&c":             {"a", "!b", "&c"},
		"a b":                 {"a", "b"},
		"2001:db8::1":         {"2001:db8::1"},
		"web-1:22":            {"web-1:22"},
		"[2001:db8::1]:22":    {"[2001:db8::1]:22"},
		"web[1:3]:!web2":      {"web[1:3]", "!web2"},
		"web[01:03]":          {"web[01:03]"},
		"a:b,c":               {"a:b", "c"},
		"~(web|db)-1:!web-1":  {"~(web|db)-1", "!web-1"},
		"198.18.0.1:!web":     {"198.18.0.1", "!web"},
		"db-[a:c].example:!x": {"db-[a:c].example", "!x"},
	}
	for in, want := range cases {
		assert.Equal(t, want, splitHostPattern(in), in)
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, name string
		match         bool
	}{
		{"web-*", "web-1", true},
		{"web-*", "web", false},
		{"*", "", true},
		{"w?b-1", "web-1", true},
		{"*-1", "sprout-1", true},
		{"*-1", "sprout-10", false},
		{"[a-m]*", "bono-1", true},
		{"[a-m]*", "sprout-1", false},
		{"[!a-m]*", "sprout-1", true},
		{"[]x]y", "]y", true},
		{"[!]x]y", "ay", true},
		{"web[", "web[", true},
		{"*a*b", "xaxb", true},
		{"*a*b", "xaxbx", false},
		{"a**b", "ab", true},
		{"[a-]", "-", true},
	}
	for _, c := range cases {
		assert.Equal(t, c.match, parseGlob(c.pattern).match(c.name), "%q ~ %q", c.pattern, c.name)
	}
}

func TestExpandHostPattern(t *testing.T) {
	cases := map[string]struct {
		names []string
		port  int
		err   string
	}{
		"web[01:03]":          {names: []string{"web01", "web02", "web03"}},
		"web[1:10:4]":         {names: []string{"web1", "web5", "web9"}},
		"db-[a:c]":            {names: []string{"db-a", "db-b", "db-c"}},
		"r[1:2]-[a:b]":        {names: []string{"r1-a", "r1-b", "r2-a", "r2-b"}},
		"host:2222":           {names: []string{"host"}, port: 2222},
		"web[1:2].example:22": {names: []string{"web1.example", "web2.example"}, port: 22},
		"[2001:db8::1]:2222":  {names: []string{"2001:db8::1"}, port: 2222},
		"198.18.0.1":          {names: []string{"198.18.0.1"}},
		"web[01:3]":           {err: "zero-padded"},
		"web[1]":              {err: "[begin:end]"},
		"web[1:x]":            {err: "numbers or single letters"},
		"web[1:1000000]":      {err: "more than 100000 hosts"},
	}
	for in, c := range cases {
		names, port, err := expandHostPattern(in)
		if c.err != "" {
			require.Error(t, err, in)
			assert.Contains(t, err.Error(), c.err, in)
			continue
		}
		require.NoError(t, err, in)
		assert.Equal(t, c.names, names, in)
		assert.Equal(t, c.port, port, in)
	}
}

// TestLimitRefuses: what fwpush refuses where Ansible would warn, guess or
// select by position, each with its reason; and fwpush's own selectors
// where they could be read as an Ansible pattern.
func TestLimitRefuses(t *testing.T) {
	inv, err := Load("examples/webapp", WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	cases := map[string]string{
		"nosuchhost":                 `no host or group "nosuchhost"`,
		"web,!web-3":                 `no host or group "web-3"`,
		"zz*":                        `"zz*" matches no host or group`,
		"~zz":                        `"~zz" matches no host or group`,
		"web[0]":                     "subscripts select by position",
		"web[0:1]":                   "subscripts select by position",
		"@hosts.txt":                 "a limit file (@FILE) is not read",
		"~(?=web)":                   "bad regular expression",
		"web:!web":                   "selects no host",
		"web and db":                 "selects no host",
		"web,platform:linux":         "fwpush's selectors are operands of their own",
		"platform:vax":               `unknown platform "vax"`,
		"web and":                    "expected a host, group, pattern or selector at the end",
		"(web":                       "missing ')'",
		"web db and app":             `unexpected "db"`,
		"data.site":                  `no host or group "data.site"`,
		"!":                          "empty pattern",
		"group:nosuch or host:web-1": `no group "nosuch"`,
	}
	for expr, want := range cases {
		_, err := inv.ParseLimit(expr)
		require.Error(t, err, expr)
		assert.Contains(t, err.Error(), want, expr)
		assert.Contains(t, err.Error(), "--limit", expr)
	}

	// A selector whose word is also a group's name could be Ansible's
	// union of two names: refused, with the union's spelling.
	amb, err := LoadFS(mapFS(map[string]string{
		"hosts.yaml":  "a:\n  hostname: 198.18.0.5\n  platform: linux\n  groups: [platform]\nb:\n  hostname: 198.18.0.6\n  platform: linux\n  groups: [linux]\n",
		"groups.yaml": "platform: {}\nlinux: {}\n",
	}), "inv", WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	_, err = amb.ParseLimit("platform:linux")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"platform" is also a group of this inventory`)
	assert.Contains(t, err.Error(), `write "platform,linux" for that union`)
	keep, err := amb.ParseLimit("platform,linux")
	require.NoError(t, err)
	assert.Len(t, amb.Select(keep), 2)
}

// TestLimitMixed: fwpush's operators and selectors over Ansible patterns.
func TestLimitMixed(t *testing.T) {
	inv, err := Load("examples/webapp", WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	cases := map[string][]string{
		"web,db,!db-2 and platform:linux-nftables":    {"db-1", "web-1"},
		"not web:&webapp":                             {"app-1", "db-1", "db-2"},
		"(~(web|db)-1) or app":                        {"app-1", "db-1", "web-1"},
		"web, db and not platform:iptables":           {"db-1", "db-2", "web-1"},
		"data.site=lab and (web or db) and not db-2":  {"db-1", "web-1", "web-2"},
		"group:web OR role:app":                       {"app-1", "web-1", "web-2"},
		"host:web-1 or host:web-2 and platform:linux": {"web-1"},
	}
	for expr, want := range cases {
		keep, err := inv.ParseLimit(expr)
		require.NoError(t, err, expr)
		var got []string
		for _, h := range inv.Select(keep) {
			got = append(got, h.Name)
		}
		assert.Equal(t, want, got, expr)
	}
}
