// Package gen writes synthetic inventories and playbooks of any size, for
// the scale benchmarks. Output is deterministic for a given seed.
package gen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/fwpush/fwpush/drivers/linuxiptables"
	"github.com/fwpush/fwpush/drivers/linuxnftables"
)

// Spec sizes a synthetic system.
type Spec struct {
	Hosts, Roles, Flows int
	Seed                uint64
	// IptablesEvery puts every n-th host on iptables (0: none).
	IptablesEvery int
}

// Write creates dir/inventory/{hosts,groups,defaults,networks}.yaml and
// dir/playbook.yml. Addresses come from 198.18.0.0/15 and 2001:db8::/32.
func Write(dir string, s Spec) error {
	if s.Roles < 1 || s.Hosts < s.Roles || s.Hosts > 120000 {
		return fmt.Errorf("gen: need 1 <= roles <= hosts <= 120000")
	}
	rng := rand.New(rand.NewPCG(s.Seed, 42))
	inv := filepath.Join(dir, "inventory")
	if err := os.MkdirAll(inv, 0o755); err != nil {
		return err
	}
	var hosts, groups, pb strings.Builder
	for r := 0; r < s.Roles; r++ {
		fmt.Fprintf(&groups, "role-%d: {}\n", r)
	}
	for i := 0; i < s.Hosts; i++ {
		n := i + 256 // skip 198.18.0.0/24: the management network
		platform := linuxnftables.ID
		if s.IptablesEvery > 0 && i%s.IptablesEvery == 0 {
			platform = linuxiptables.ID
		}
		fmt.Fprintf(&hosts, "h%d:\n  hostname: 198.%d.%d.%d\n  platform: %s\n  groups: [role-%d]\n  data:\n    addresses: [198.%d.%d.%d, \"2001:db8:%x::%x\"]\n",
			i, 18+n/65536, n/256%256, n%256, platform, i%s.Roles, 18+n/65536, n/256%256, n%256, n/65536+1, n%65536)
	}
	fmt.Fprintf(&pb, "name: synthetic\ndescription: generated %d hosts, %d roles, %d flows\nroles:\n", s.Hosts, s.Roles, s.Flows)
	for r := 0; r < s.Roles; r++ {
		fmt.Fprintf(&pb, "  role-%d: {description: generated}\n", r)
	}
	pb.WriteString("flows:\n")
	for f := 0; f < s.Flows; f++ {
		from, to := rng.IntN(s.Roles), rng.IntN(s.Roles)
		proto := "tcp"
		if rng.IntN(4) == 0 {
			proto = "udp"
		}
		port := 1024 + rng.IntN(60000)
		ports := fmt.Sprintf("%s/%d", proto, port)
		if rng.IntN(5) == 0 {
			ports = fmt.Sprintf("%s/%d-%d", proto, port, port+rng.IntN(100))
		}
		src := fmt.Sprintf("role-%d", from)
		if rng.IntN(20) == 0 {
			src = "any"
		}
		fmt.Fprintf(&pb, "  - {from: %s, to: role-%d, ports: [\"%s\"], why: generated flow %d}\n", src, to, ports, f)
	}
	files := map[string]string{
		filepath.Join(inv, "hosts.yaml"):    hosts.String(),
		filepath.Join(inv, "groups.yaml"):   groups.String(),
		filepath.Join(inv, "defaults.yaml"): "username: root\nport: 22\n",
		filepath.Join(inv, "networks.yaml"): "management: [198.18.0.0/24, \"2001:db8::/64\"]\n",
		filepath.Join(dir, "playbook.yml"):  pb.String(),
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
