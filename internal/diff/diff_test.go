package diff

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxiptables"
	"github.com/fwpush/fwpush/drivers/linuxnftables"
)

func cfg(text string) drivers.Config {
	return drivers.Config{Platform: "linux-nftables", Parts: []drivers.Part{{Name: "nftables", Text: text}}}
}

const before = `table inet fwpush {
	set bono_v4 {
		type ipv4_addr
		flags interval
		elements = { 198.18.1.1, 198.18.1.2 }
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ip saddr @bono_v4 tcp dport 5054 accept comment "sip"
		tcp dport 23 drop comment "no telnet"
	}
}
`

func TestSummary(t *testing.T) {
	after := `table inet fwpush {
	set bono_v4 {
		type ipv4_addr
		flags interval
		elements = { 198.18.1.1,
			     198.18.1.3 }
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ip saddr @bono_v4 tcp dport 5058 accept comment "sip internal"
	}
}
`
	d := Compute(cfg(before), cfg(after), linuxnftables.New())
	assert.True(t, d.Changed)
	assert.Contains(t, d.Unified, "-\t\tip saddr @bono_v4 tcp dport 5054 accept")
	assert.Equal(t, []string{`input: ip saddr @bono_v4 tcp dport 5058 accept comment "sip internal"`}, d.Summary.Permitted)
	assert.Equal(t, []string{`input: ip saddr @bono_v4 tcp dport 5054 accept comment "sip"`}, d.Summary.Unpermitted)
	assert.Equal(t, []string{`input: tcp dport 23 drop comment "no telnet"`}, d.Summary.Undenied)
	assert.Equal(t, []SetChange{{Name: "bono_v4", Added: []string{"198.18.1.3"}, Removed: []string{"198.18.1.2"}}}, d.Summary.Sets)
	assert.False(t, d.Summary.Reordered)
}

func TestNoChangeAndReorder(t *testing.T) {
	assert.False(t, Compute(cfg(before), cfg(before), linuxnftables.New()).Changed)
	swapped := `table inet fwpush {
	set bono_v4 {
		type ipv4_addr
		flags interval
		elements = { 198.18.1.1, 198.18.1.2 }
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		tcp dport 23 drop comment "no telnet"
		ip saddr @bono_v4 tcp dport 5054 accept comment "sip"
	}
}
`
	d := Compute(cfg(before), cfg(swapped), linuxnftables.New())
	assert.True(t, d.Changed)
	assert.True(t, d.Summary.Reordered)
	d = Compute(cfg(""), cfg(before), linuxnftables.New())
	assert.True(t, d.Summary.Created)
	assert.Len(t, d.Summary.Permitted, 2)
}

// TestRenumberedFlowsAreNoNewRules: swapping two flows renumbers their
// comments ("flow 2: ..." becomes "flow 3: ..."): the rules in another
// order, nothing newly permitted or denied; a comment alone changing is
// no semantic change at all. Both on nftables and iptables.
func TestRenumberedFlowsAreNoNewRules(t *testing.T) {
	nft := func(rules ...string) drivers.Config {
		return cfg("table inet fwpush {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\t" +
			strings.Join(rules, "\n\t\t") + "\n\t}\n}\n")
	}
	ipt := func(rules ...string) drivers.Config {
		return drivers.Config{Platform: "linux-iptables", Parts: []drivers.Part{
			{Name: linuxiptables.PartIPv4, Text: "*filter\n:FWPUSH-INPUT - [0:0]\n" + strings.Join(rules, "\n") + "\nCOMMIT\n"},
			{Name: linuxiptables.PartIPv6, Text: ""}}}
	}
	tests := map[string]struct {
		a, b      drivers.Config
		p         drivers.Parser
		reordered bool
	}{
		"nft swap": {nft(`tcp dport 80 accept comment "flow 2: web"`, `tcp dport 8080 accept comment "flow 3: api"`),
			nft(`tcp dport 8080 accept comment "flow 2: api"`, `tcp dport 80 accept comment "flow 3: web"`), linuxnftables.New(), true},
		"nft reworded": {nft(`tcp dport 80 accept comment "flow 2: web"`), nft(`tcp dport 80 accept comment "flow 2: the site"`), linuxnftables.New(), false},
		"iptables swap": {ipt(`-A FWPUSH-INPUT -p tcp -m tcp --dport 80 -m comment --comment "flow 2: web" -j ACCEPT`,
			`-A FWPUSH-INPUT -p tcp -m tcp --dport 8080 -m comment --comment "flow 3: api \"v2\"" -j ACCEPT`),
			ipt(`-A FWPUSH-INPUT -p tcp -m tcp --dport 8080 -m comment --comment "flow 2: api \"v2\"" -j ACCEPT`,
				`-A FWPUSH-INPUT -p tcp -m tcp --dport 80 -m comment --comment flow3 -j ACCEPT`), linuxiptables.New(), true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := Compute(tt.a, tt.b, tt.p)
			require.True(t, d.Changed)
			s := d.Summary
			assert.Empty(t, s.Unparsed)
			assert.Empty(t, s.Permitted)
			assert.Empty(t, s.Unpermitted)
			assert.Equal(t, tt.reordered, s.Reordered)
		})
	}
}

// TestSummaryNamesChainAndFamily: the same rule text in two chains, or in
// the IPv4 and IPv6 halves of an iptables config, is two different
// permits, and the summary says which.
func TestSummaryNamesChainAndFamily(t *testing.T) {
	both := `table inet fwpush {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
	}

	chain output {
		type filter hook output priority filter; policy drop;
		ct state established,related accept
	}
}
`
	d := Compute(cfg(""), cfg(both), linuxnftables.New())
	assert.Equal(t, []string{"input: ct state established,related accept", "output: ct state established,related accept"}, d.Summary.Permitted)

	ipt := func(v4, v6 string) drivers.Config {
		return drivers.Config{Platform: "linux-iptables", Parts: []drivers.Part{{Name: "iptables", Text: v4}, {Name: "ip6tables", Text: v6}}}
	}
	rule := "-A FWPUSH-INPUT -p tcp -m tcp --dport 443 -j ACCEPT"
	d = Compute(ipt("", ""), ipt(rule, rule), linuxiptables.New())
	assert.Equal(t, []string{"ip6tables " + rule, "iptables " + rule}, d.Summary.Permitted)
	d = Compute(ipt(rule, rule), ipt(rule, ""), linuxiptables.New())
	assert.Equal(t, []string{"ip6tables " + rule}, d.Summary.Unpermitted)
	assert.Empty(t, d.Summary.Permitted)
}

// aclParser reads a toy ACL dialect ("NAME: permit ..." lines): the
// summary comes from whatever the platform's parser says, so an ACL
// gaining a permit is reported as such, not as a reordering.
type aclParser struct{}

func (aclParser) Parse(c drivers.Config) (drivers.Ruleset, error) {
	var rs drivers.Ruleset
	for _, line := range strings.Split(c.Part("acl"), "\n") {
		acl, entry, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		var a drivers.Action
		switch {
		case strings.HasPrefix(entry, "permit "):
			a = drivers.PermitAction
		case strings.HasPrefix(entry, "deny "):
			a = drivers.DenyAction
		}
		rs.Rules = append(rs.Rules, drivers.RuleLine{Filter: acl, Text: line, Action: a})
	}
	return rs, nil
}

func TestSummaryFromAnyPlatformsParser(t *testing.T) {
	acl := func(text string) drivers.Config {
		return drivers.Config{Platform: "toy", Parts: []drivers.Part{{Name: "acl", Text: text}}}
	}
	before := "FWPUSH-A: permit tcp any host 198.18.1.1 eq 443\nFWPUSH-A: deny ip any any\n"
	after := "FWPUSH-A: permit tcp any host 198.18.1.1 eq 443\nFWPUSH-A: permit tcp any host 198.18.1.1 eq 80\nFWPUSH-A: deny ip any any\n"
	d := Compute(acl(before), acl(after), aclParser{})
	assert.Equal(t, []string{"FWPUSH-A: permit tcp any host 198.18.1.1 eq 80"}, d.Summary.Permitted)
	assert.False(t, d.Summary.Reordered)

	d = Compute(acl(before), acl(after), nil)
	assert.True(t, d.Changed)
	assert.Empty(t, d.Summary.Permitted)
	assert.Contains(t, d.Summary.Unparsed, "cannot read its config back", "no parser: no guess")
}
