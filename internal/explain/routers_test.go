package explain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
)

// TestRouterAndHostDecisions: a packet crossing the Junos router of the
// satellite-junos example meets the router's in ACL (from the content
// hosts), its out ACL (to the servers), then the server's own input
// filter; the first that denies decides. A packet between two hosts of one
// segment meets no router.
func TestRouterAndHostDecisions(t *testing.T) {
	p, err := project.Load(project.Options{Inventory: "../../inventory/examples/satellite-junos", Playbook: "../../playbooks/satellite.yml"})
	require.NoError(t, err)
	const in, out = "sat-rtr-1/FWPUSH-GE-0-0-2-0-IN", "sat-rtr-1/FWPUSH-GE-0-0-1-0-OUT"
	cases := map[string]struct {
		q         Query
		permitted bool
		checks    []string
		decided   string
	}{
		"through the router, permitted": {Query{From: "client-1", To: "capsule-1", Proto: policy.TCP, Port: 443}, true,
			[]string{in + " permit flow-12+13+14+15+18+19+20", out + " permit flow-12+13+14+15+18+19+20", "capsule-1/input permit flow-12+13+14+15+18+19+20"}, ""},
		"through the router, dropped there": {Query{From: "client-1", To: "capsule-1", Proto: policy.TCP, Port: 9}, false,
			[]string{in + " deny protect", out + " deny protect", "capsule-1/input deny default-deny"}, in},
		"from the world, only the out ACL": {Query{From: "any", To: "capsule-1", Proto: policy.TCP, Port: 9}, false,
			[]string{out + " deny protect", "capsule-1/input deny default-deny"}, out},
		"one segment, no router": {Query{From: "capsule-1", To: "dns-1", Proto: policy.UDP, Port: 53}, true,
			[]string{"dns-1/input permit flow-4"}, ""},
		"to the router itself from behind its in ACL": {Query{From: "client-1", To: "sat-rtr-1", Proto: policy.TCP, Port: 22}, false,
			[]string{in + " deny protect"}, in},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := Run(p, tc.q)
			require.NoError(t, err)
			assert.Equal(t, tc.permitted, res.Permitted)
			path := res.Paths[0]
			var got []string
			decides := 0
			for _, c := range path.Checks {
				action := "deny"
				if c.Permit {
					action = "permit"
				}
				got = append(got, c.Device+"/"+c.Filter+" "+action+" "+c.Rule)
				if c.Decides {
					decides++
				}
			}
			assert.Equal(t, tc.checks, got)
			assert.Equal(t, tc.decided, path.DecidedBy)
			if tc.decided != "" {
				assert.Equal(t, 1, decides, "one check decides")
			}
		})
	}
}
