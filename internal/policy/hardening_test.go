package policy

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRejectsShapes(t *testing.T) {
	flow := func(body string) string {
		return "name: t\nroles: {web: {}, db: {}}\nservices:\n  https: {ports: [tcp/443]}\nflows:\n  - " + body + "\n"
	}
	cases := map[string]struct {
		src  string
		want string
	}{
		"nested list in from":      {flow("{from: [[web, db]], to: web, ports: [tcp/1], why: x}"), "t.yml:6:13: entry 0: want a name, not a list"},
		"map as to":                {flow("{from: web, to: {web: db}, ports: [tcp/1], why: x}"), "t.yml:6:21: want a name or a list of names, not a map"},
		"nested map in services":   {flow("{from: web, to: web, services: [https, {a: b}], why: x}"), "t.yml:6:44: entry 1: want a name, not a map"},
		"empty entry in ports":     {flow("{from: web, to: web, ports: [tcp/1, ~], why: x}"), "t.yml:6:41: entry 1: want a name, not an empty entry"},
		"nested alias list":        {"name: t\nroles: {web: {}}\nflows:\n  - {from: &w [web], to: web, ports: [tcp/1], why: x}\n  - {from: [*w], to: web, ports: [tcp/1], why: x}\n", "t.yml:5:13: entry 0: want a name, not a list"},
		"nested list in serial":    {"name: t\npush: {serial: [[1, 2]]}\nroles: {web: {}}\nflows:\n  - {from: web, to: web, ports: [tcp/1], why: x}\n", "t.yml:2:17: entry 0: want a name, not a list"},
		"second document":          {minimal + "---\nflows: []\n", "t.yml:11:1: a second YAML document"},
		"billion laughs in a flow": {"name: t\nroles: {web: {}}\nflows:\n" + laughingFlows(), "aliases expand this file by more than 1000000 nodes"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("t.yml", []byte(tc.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// laughingFlows is a billion laughs through flows' from lists: each
// flow's from repeats the previous one ten times, 10^9 names in all.
func laughingFlows() string {
	var b strings.Builder
	b.WriteString("  - {from: &l0 [web, web, web, web, web, web, web, web, web, web], to: web, ports: [tcp/1], why: x}\n")
	for i := 1; i <= 9; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", ")
		fmt.Fprintf(&b, "  - {from: &l%d [%s], to: web, ports: [tcp/1], why: x}\n", i, refs)
	}
	return b.String()
}

// TestAliasBombCheap: this 1.5 KB playbook once took 70 s and 8.9 GB.
func TestAliasBombCheap(t *testing.T) {
	src := "name: t\nroles: {web: {}}\nflows:\n" + laughingFlows()
	require.Less(t, len(src), 1500)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Parse("t.yml", []byte(src))
	runtime.ReadMemStats(&after)
	require.Error(t, err)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "bytes allocated")
}

// TestBOMPlaybook: a byte order mark must not turn "name" into an unknown
// field nobody can see.
func TestBOMPlaybook(t *testing.T) {
	pb, err := Parse("t.yml", []byte("\ufeff"+minimal))
	require.NoError(t, err)
	assert.Equal(t, "t", pb.Name)
}

func TestWarnUnused(t *testing.T) {
	src := `name: t
options:
  features: {metrics: true, snmp: false}
roles: {web: {}}
services:
  https: {ports: [tcp/443]}
  http: {ports: [tcp/80]}
flows:
  - {from: any, to: web, services: [https], why: users}
  - {from: any, to: web, ports: [tcp/9100], why: scrape, feature: metrics}
`
	pb, err := Parse("t.yml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, []string{
		`t.yml:7:3: services.http: service "http" is used by no flow`,
		`t.yml:3:35: options.features.snmp: feature "snmp" gates no flow: switching it changes nothing`,
	}, pb.Warnings)
}
