package compile

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// BenchmarkRouterPlacement compiles 2,000 hosts in 20 roles behind a
// router with an ACL per role, and 200 flows: placement on every ACL the
// flows cross, return rules, and the proof that routers and hosts agree.
func BenchmarkRouterPlacement(b *testing.B) {
	var hosts, groups, acls strings.Builder
	var roles []string
	for r := 0; r < 20; r++ {
		role := fmt.Sprintf("r%02d", r)
		roles = append(roles, role)
		fmt.Fprintf(&groups, "%s: {}\n", role)
		fmt.Fprintf(&acls, "{interface: ge-0/0/%d.0, direction: out, protects: [%s]}, ", r, role)
		for h := 0; h < 100; h++ {
			fmt.Fprintf(&hosts, "h%02d-%03d: {hostname: 198.18.%d.%d, platform: linux, groups: [%s]}\n", r, h, 100+r, h+1, role)
		}
	}
	fmt.Fprintf(&hosts, "rtr: {hostname: 198.18.0.254, platform: eos, groups: [routers], data: {acls: [%s]}}\n", strings.TrimSuffix(acls.String(), ", "))
	groups.WriteString("routers: {}\n")
	inv, err := inventory.LoadFS(fstest.MapFS{
		"hosts.yaml": {Data: []byte(hosts.String())}, "groups.yaml": {Data: []byte(groups.String())},
		"networks.yaml": {Data: []byte("management: [198.18.0.0/24]\n")},
	}, "inv", inventory.WithPlatforms(platforms{}))
	require.NoError(b, err)
	var pb strings.Builder
	pb.WriteString("name: big\nroles: {" + strings.Join(roles, ": {}, ") + ": {}}\nflows:\n")
	for f := 0; f < 200; f++ {
		fmt.Fprintf(&pb, "  - {from: %s, to: %s, ports: [tcp/%d, udp/%d], why: flow %d}\n", roles[f%20], roles[(f+1)%20], 1000+f, 2000+f, f)
	}
	p, err := policy.Parse("big.yml", []byte(pb.String()))
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := Compile(p, inv, nil, platforms{})
		require.NoError(b, err)
	}
}
