// Package labinv turns an inventory and a playbook into lab host specs:
// every inventory host becomes a namespace with its own addresses and
// listeners on the ports its flows open, so probes have something to reach.
package labinv

import (
	"net/netip"
	"sort"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
)

// maxListeners bounds listeners per host and protocol: a flow may open a
// range like 32768-65535, of which probes only use the low end.
const maxListeners = 64

// Specs returns one lab host per Linux inventory host.
func Specs(p *project.Project) []testbed.HostSpec {
	tcp, udp := map[string]map[uint16]bool{}, map[string]map[uint16]bool{}
	add := func(m map[string]map[uint16]bool, host string, port uint16) {
		if m[host] == nil {
			m[host] = map[uint16]bool{}
		}
		if len(m[host]) < maxListeners {
			m[host][port] = true
		}
	}
	for _, f := range p.Playbook.Flows {
		if !p.Playbook.Enabled(f) {
			continue
		}
		for _, name := range f.To {
			for _, h := range p.Inv.HostsWithRole(name) {
				for _, m := range f.Matches {
					port := uint16(22222)
					if len(m.Ports) > 0 {
						port = m.Ports[0].Lo
					}
					switch m.Proto {
					case policy.TCP:
						add(tcp, h.Name, port)
					case policy.UDP:
						add(udp, h.Name, port)
					}
				}
			}
		}
	}
	var out []testbed.HostSpec
	for _, h := range p.Inv.Select(nil) {
		if h.Platform != inventory.LinuxNftables && h.Platform != inventory.LinuxIptables {
			continue
		}
		s := testbed.HostSpec{Name: h.Name, TCP: ports(tcp[h.Name]), UDP: ports(udp[h.Name])}
		for _, a := range h.Addresses {
			bits := testbed.LabIPv4.Bits()
			if a.Is6() {
				bits = testbed.LabIPv6.Bits()
			}
			s.Addrs = append(s.Addrs, netip.PrefixFrom(a, bits))
		}
		out = append(out, s)
	}
	return out
}

func ports(m map[uint16]bool) []uint16 {
	out := make([]uint16, 0, len(m))
	for p := range m {
		if p != 22 { // sshd has it
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
