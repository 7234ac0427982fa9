package netacl

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOriginOf(t *testing.T) {
	cases := map[string]string{
		"ios": `    Line       User       Host(s)              Idle       Location
   2 vty 0     ops        idle                 00:01:12 203.0.113.9
*  3 vty 1     admin      idle                 00:00:00 198.18.0.1

  Interface    User               Mode         Idle     Peer Address
`,
		"eos": `    Line       User       Host(s)              Idle       Location
*  1 vty 2     admin      idle                 00:00:00 198.18.0.1
   2 vty 3     ops        idle                 00:00:09 203.0.113.9
`,
		"nxos": `NAME     LINE         TIME         IDLE          PID COMMENT
ops      pts/0        Dec  1 10:00   .         20001 (203.0.113.9) session=ssh
admin    pts/1        Dec  1 10:05   .         20002 (198.18.0.1) session=ssh *
`,
	}
	for name, out := range cases {
		assert.Equal(t, netip.MustParseAddr("198.18.0.1"), originOf(out), name)
	}
	assert.False(t, originOf("    Line  User\n   2 vty 0  ops  idle 00:00:00 203.0.113.9\n").IsValid(), "no line marked: unknown")
	assert.Equal(t, netip.MustParseAddr("198.18.0.1"), originOf("*  1 vty 2  admin  idle  00:00:00  ::ffff:198.18.0.1\n"))
}
