package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var examples = []string{"clearwater", "dmcm", "portaswitch", "satellite", "wdm", "webapp"}

// exportINI writes an inventory's hosts and groups as an Ansible INI
// inventory: a group's direct hosts under [group], the groups below it
// under [group:children].
func exportINI(inv *Inventory) string {
	var b strings.Builder
	for _, h := range inv.Select(nil) {
		if len(h.Groups) == 0 {
			fmt.Fprintf(&b, "%s ansible_host=%s\n", h.Name, h.Hostname)
		}
	}
	for _, g := range sortedKeys(inv.Groups) {
		fmt.Fprintf(&b, "\n[%s]\n", g)
		for _, h := range inv.Select(nil) {
			for _, hg := range h.Groups {
				if hg == g {
					fmt.Fprintf(&b, "%s ansible_host=%s\n", h.Name, h.Hostname)
				}
			}
		}
		var children []string
		for _, c := range sortedKeys(inv.Groups) {
			for _, p := range inv.Groups[c].Groups {
				if p == g {
					children = append(children, c)
				}
			}
		}
		if len(children) > 0 {
			fmt.Fprintf(&b, "\n[%s:children]\n%s\n", g, strings.Join(children, "\n"))
		}
	}
	return b.String()
}

// oraclePatterns are the patterns checked on an inventory: every form of
// Ansible's pattern language, filled in with the inventory's own names
// (H1 a host in group G1, G2 a group above G1, H2 another host of G1, P
// the first word of H1's name), plus typos, which fwpush refuses where
// Ansible warns.
func oraclePatterns(inv *Inventory) []string {
	var h1 *Host
	for _, h := range inv.Select(nil) {
		if len(h.Roles) > 1 {
			h1 = h
			break
		}
	}
	g1 := h1.Groups[0]
	g2 := h1.Roles[len(h1.Roles)-1]
	h2 := ""
	for _, h := range inv.HostsWithRole(g1) {
		if h != h1 {
			h2 = h.Name
		}
	}
	if h2 == "" {
		for _, n := range inv.Names() {
			if n != h1.Name {
				h2 = n
				break
			}
		}
	}
	p, _, _ := strings.Cut(h1.Name, "-")
	r := strings.NewReplacer("G1", g1, "G2", g2, "H1", h1.Name, "H2", h2, "P", p)
	templates := []string{
		"all", "*", "ungrouped", "G1", "G2", "H1",
		"G1,!H1", "G1:!H1", "G1, !H1", "G1:&G2", "G1,&G2", "G1,G2", "G1:G2", "G1 G2",
		"!G1", "all:!G1", "&G1", "!G1:!H2", "G2:!G1", "G2:&G1:!H1", "G1,&G2,!H1",
		"H1,H2", "H1:H2", "H1,!H1", "G1:!G1",
		"P*", "P-?", "*-1", "[a-m]*", "[!a-m]*", "*[!a-z]", "G1*", "*G1*", "P*:!G1", "&P*",
		"~P", "~.*-[12]$", "~^(G1|G2)$", "~G1:!H1",
		"H1:22",
		// Typos: Ansible warns and selects the rest; fwpush refuses.
		"G1,nosuch", "G1:!H1x", "zz*,G1", "nosuch",
	}
	var out []string
	for _, t := range templates {
		out = append(out, r.Replace(t))
	}
	return out
}

// extraPatterns are an example's own cases, starting with the issue's.
var extraPatterns = map[string][]string{
	"clearwater": {"sprout,!sprout-2", "sprout:!sprout-2", "clearwater-node:&sprout", "bono*:!bono-2", "all-in-one", "clearwater:!clearwater-node"},
	"webapp":     {"web,db:!db-2", "webapp:&db:!db-1", "~(web|db)-1"},
}

// ignored says whether Ansible warned it ignored a name that matches
// nothing.
func ignored(s ansibleSelection) bool {
	return strings.Contains(strings.Join(s.Warnings, "\n"), "Could not match supplied host pattern")
}

// checkOracle compares fwpush's selection for pattern with Ansible's:
// the same hosts; or both refuse (Ansible selects nothing); or fwpush
// refuses a name that matches nothing, where Ansible warned it ignored it.
func checkOracle(t *testing.T, inv *Inventory, pattern string, want ansibleSelection) {
	t.Helper()
	keep, err := inv.ParseLimit(pattern)
	if err != nil {
		switch {
		case want.Error != "":
		case ignored(want):
		default:
			t.Errorf("fwpush refuses %q (%v); ansible selects %v", pattern, err, want.Hosts)
		}
		return
	}
	require.Empty(t, want.Error, "ansible refuses %q; fwpush selects %v", pattern, inv.Select(keep))
	var got []string
	for _, h := range inv.Select(keep) {
		got = append(got, h.Name)
	}
	sort.Strings(want.Hosts)
	assert.Equal(t, want.Hosts, got, "--limit %q", pattern)
}

// TestLimitAnsibleOracle: for a table of patterns over every example
// inventory (exported as an Ansible inventory), fwpush's --limit selects
// the hosts Ansible selects, or refuses where Ansible selects nothing or
// ignores a name that matches nothing. Ansible answers with the ansible
// CLI's own calls, in one process per inventory (TestLimitAnsibleCLI checks
// those against the CLI itself).
func TestLimitAnsibleOracle(t *testing.T) {
	ansiblePython(t)
	for _, ex := range examples {
		t.Run(ex, func(t *testing.T) {
			t.Parallel()
			inv, err := Load(filepath.Join("examples", ex), WithPlatforms(testPlatforms{}))
			require.NoError(t, err)
			ini := filepath.Join(t.TempDir(), "hosts.ini")
			require.NoError(t, os.WriteFile(ini, []byte(exportINI(inv)), 0o644))
			patterns := append(oraclePatterns(inv), extraPatterns[ex]...)
			answers := ansibleSelect(t, ini, patterns)
			for _, p := range patterns {
				want, ok := answers[p]
				require.True(t, ok, "no answer for %q", p)
				checkOracle(t, inv, p, want)
			}
		})
	}
}

// TestLimitAnsibleCLI: the literal `ansible all -i X --list-hosts -l
// PATTERN` on the clearwater example, for the issue's pattern and a pattern
// of each form, agrees with fwpush and with the in-process answers
// TestLimitAnsibleOracle uses.
func TestLimitAnsibleCLI(t *testing.T) {
	needTool(t, "ansible", "ansible")
	inv, err := Load("examples/clearwater", WithPlatforms(testPlatforms{}))
	require.NoError(t, err)
	ini := filepath.Join(t.TempDir(), "hosts.ini")
	require.NoError(t, os.WriteFile(ini, []byte(exportINI(inv)), 0o644))
	patterns := []string{"sprout,!sprout-2", "sprout:!sprout-2", "clearwater-node:&sprout", "!bono", "bono*:!bono-2",
		"~(bono|dime)-1", "sprout,nosuch", "sprout:&bono"}
	answers := ansibleSelect(t, ini, patterns)
	var mu sync.Mutex
	cli := map[string]ansibleSelection{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, p := range patterns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			sel := ansibleListHosts(t, ini, p)
			mu.Lock()
			cli[p] = sel
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, p := range patterns {
		got, want := cli[p], answers[p]
		sort.Strings(got.Hosts)
		if want.Error != "" {
			assert.NotEmpty(t, got.Error, "%q: the CLI selects %v", p, got.Hosts)
		} else {
			assert.Equal(t, want.Hosts, got.Hosts, "%q", p)
		}
		assert.Equal(t, ignored(want), ignored(got), "%q: warnings %v vs %v", p, want.Warnings, got.Warnings)
		checkOracle(t, inv, p, got)
	}
	// The case, said plainly: of the two sprouts, one.
	keep, err := inv.ParseLimit("sprout,!sprout-2")
	require.NoError(t, err)
	var names []string
	for _, h := range inv.Select(keep) {
		names = append(names, h.Name)
	}
	assert.Equal(t, []string{"sprout-1"}, names)
}
