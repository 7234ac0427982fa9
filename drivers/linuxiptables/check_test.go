package linuxiptables

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
)

// TestCheckAcceptsEmpty: an empty part is a valid config (every render
// passes Check in the conformance suite's Load).
func TestCheckAcceptsEmpty(t *testing.T) {
	require.NoError(t, Check(drivers.Config{Parts: []drivers.Part{{Name: PartIPv4}}}))
}

func TestCheckRejects(t *testing.T) {
	const head = "*filter\n:FWPUSH-INPUT - [0:0]\n"
	v4 := func(rules ...string) drivers.Config {
		return drivers.Config{Parts: []drivers.Part{{Name: PartIPv4, Text: head + strings.Join(rules, "\n") + "\nCOMMIT\n"}}}
	}
	tests := map[string]struct {
		cfg  drivers.Config
		want string
	}{
		"missing chain":       {v4("-A FWPUSH-INPUT -j FWPUSH-GONE"), "neither a builtin target nor a declared chain"},
		"undeclared chain":    {v4("-A FWPUSH-OUTPUT -j DROP"), "undeclared chain FWPUSH-OUTPUT"},
		"foreign chain":       {v4("-A INPUT -j FWPUSH-INPUT"), "undeclared chain INPUT"},
		"v6 address in v4":    {v4("-A FWPUSH-INPUT -s 2001:db8::/64 -j ACCEPT"), "bad IPv4 prefix"},
		"unmasked prefix":     {v4("-A FWPUSH-INPUT -s 198.18.0.1/24 -j ACCEPT"), "bad IPv4 prefix"},
		"bare address":        {v4("-A FWPUSH-INPUT -s 198.18.0.1 -j ACCEPT"), "bad IPv4 prefix"},
		"too many ports":      {v4("-A FWPUSH-INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16 -j ACCEPT"), "more than 15"},
		"module mismatch":     {v4("-A FWPUSH-INPUT -p udp -m tcp --dport 1 -j ACCEPT"), "without -p tcp"},
		"icmp6 in v4":         {v4("-A FWPUSH-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT"), "match icmp6"},
		"unknown option":      {v4("-A FWPUSH-INPUT -m state --state NEW -j ACCEPT"), `unexpected match "state"`},
		"no target":           {v4("-A FWPUSH-INPUT -p tcp -m tcp --dport 1"), "no -j target"},
		"two targets":         {v4("-A FWPUSH-INPUT -j ACCEPT -j DROP"), "after the target"},
		"prefix without LOG":  {v4("-A FWPUSH-INPUT -j DROP --log-prefix x"), "after the target"},
		"long log prefix":     {v4(`-A FWPUSH-INPUT -j LOG --log-prefix "` + strings.Repeat("x", 30) + `"`), "longer than 29"},
		"long comment":        {v4(`-A FWPUSH-INPUT -m comment --comment "` + strings.Repeat("x", 256) + `" -j ACCEPT`), "longer than 255"},
		"unterminated quote":  {v4(`-A FWPUSH-INPUT -m comment --comment "x -j ACCEPT`), "unterminated quote"},
		"protocol all":        {v4("-A FWPUSH-INPUT -p all -j ACCEPT"), `unknown protocol "all"`},
		"reversed range":      {v4("-A FWPUSH-INPUT -p tcp -m tcp --dport 9:1 -j ACCEPT"), "empty or reversed"},
		"chain after rules":   {v4("-A FWPUSH-INPUT -j DROP", ":FWPUSH-OUTPUT - [0:0]"), "chain declared after the rules"},
		"no commit":           {drivers.Config{Parts: []drivers.Part{{Name: PartIPv4, Text: head}}}, "ending in COMMIT"},
		"unknown part":        {drivers.Config{Parts: []drivers.Part{{Name: "nftables", Text: head}}}, "not an iptables part"},
		"bad part among good": {drivers.Config{Parts: []drivers.Part{v4("-A FWPUSH-INPUT -j DROP").Parts[0], {Name: PartIPv6, Text: head + "-A FWPUSH-INPUT -s 198.18.0.0/24 -j DROP\nCOMMIT\n"}}}, "part ip6tables: line 3: bad IPv6 prefix"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Check(tc.cfg)
			require.Error(t, err)
			require.ErrorIs(t, err, fault.ErrRejected)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
