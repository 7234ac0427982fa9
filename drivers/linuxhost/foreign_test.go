package linuxhost

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestForeignRules(t *testing.T) {
	ruleset := `table inet fwpush {
	chain input {
		type filter hook input priority filter; policy drop;
		tcp dport 23 drop
	}
}
table inet legacy {
	chain in {
		type filter hook input priority filter; policy accept;
		tcp dport 5054 drop
		udp dport 53 reject
	}
	chain helper {
		tcp dport 1 drop
	}
}
table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy drop;
		counter jump FWPUSH-INPUT
	}
	chain FWPUSH-INPUT {
		tcp dport 22 accept
		drop
	}
}
table ip6 filter {
	chain OUTPUT {
		type filter hook output priority filter; policy drop;
	}
}
table ip nat {
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
	}
}
`
	assert.Equal(t, []string{
		"foreign chain inet legacy in (hook input) has 2 drop/reject rule(s): it can block traffic this policy permits",
		"foreign chain ip6 filter OUTPUT (hook output) has policy drop: it can block traffic this policy permits",
	}, ForeignRules(ruleset))
	assert.Empty(t, ForeignRules(""))
}
