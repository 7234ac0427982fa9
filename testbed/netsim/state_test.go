package netsim

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/testbed/enforce"
)

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

// TestEnforceState: what each dialect's configuration hands to the lab's
// packet enforcement.
func TestEnforceState(t *testing.T) {
	none := func(ifn string) []enforce.Binding {
		return []enforce.Binding{{Interface: ifn, Direction: enforce.In}, {Interface: ifn, Direction: enforce.Out, TransitOnly: true}}
	}
	cases := map[string]struct {
		opts   Options
		config string
		want   []enforce.Binding
	}{
		"ios bound ACL: rules, established, wildcards, ports, implicit deny": {
			opts: Options{Platform: PlatformIOSXE, Interfaces: map[string]string{"GigabitEthernet0/1": "eth1"}},
			config: `interface GigabitEthernet0/1
 ip access-group IN1 in
ip access-list extended IN1
 10 permit tcp any any established
 20 permit tcp 198.18.0.0 0.0.255.255 host 198.18.1.10 eq www 443
 30 permit udp any range 1000 1002 any neq 53
 40 permit icmp any any echo
 50 deny ip any any log
`,
			want: []enforce.Binding{
				{Interface: "eth1", Direction: enforce.In, Filter: &enforce.Filter{Name: "IN1", Default: enforce.Deny, Rules: []enforce.Rule{
					{Action: enforce.Permit, Family: 4, Proto: 6, Established: true, Comment: "IN1 seq 10"},
					{Action: enforce.Permit, Family: 4, Proto: 6, Src: pfx("198.18.0.0/16"), Dst: pfx("198.18.1.10/32"),
						DstPorts: []enforce.PortRange{{Lo: 80, Hi: 80}, {Lo: 443, Hi: 443}}, Comment: "IN1 seq 20"},
					{Action: enforce.Permit, Family: 4, Proto: 17, SrcPorts: []enforce.PortRange{{Lo: 1000, Hi: 1002}},
						DstPorts: []enforce.PortRange{{Lo: 0, Hi: 52}, {Lo: 54, Hi: 65535}}, Comment: "IN1 seq 30"},
					{Action: enforce.Permit, Family: 4, Proto: 1, ICMPTypes: []uint8{8}, Comment: "IN1 seq 40"},
					{Action: enforce.Deny, Family: 4, Log: true, Comment: "IN1 seq 50"},
					{Action: enforce.Permit, Family: 6, Comment: "no IPv6 ACL"},
				}}},
				{Interface: "eth1", Direction: enforce.Out, TransitOnly: true},
			},
		},
		"ios undefined and empty ACLs permit everything": {
			opts: Options{Platform: PlatformIOSXE, Interfaces: map[string]string{"GigabitEthernet0/1": "eth1"}},
			config: `interface GigabitEthernet0/1
 ip access-group MISSING in
 ip access-group EMPTY out
ip access-list extended EMPTY
 remark nothing yet
`,
			want: none("eth1"),
		},
		"ios object-groups expand; IPv4 and IPv6 ACLs share one filter": {
			opts: Options{Platform: PlatformIOSXE, Interfaces: map[string]string{"GigabitEthernet0/1": "eth1"}},
			config: `object-group network SERVERS
 host 198.18.1.10
 198.18.2.0 255.255.255.0
object-group service WEB
 tcp eq www
 tcp-udp eq 53
interface GigabitEthernet0/1
 ip access-group V4 out
 ipv6 traffic-filter V6 out
ip access-list extended V4
 10 permit object-group WEB any object-group SERVERS
ipv6 access-list V6
 sequence 10 permit tcp any host 2001:DB8::10 eq 22
`,
			want: []enforce.Binding{
				{Interface: "eth1", Direction: enforce.In},
				{Interface: "eth1", Direction: enforce.Out, TransitOnly: true, Filter: &enforce.Filter{Name: "V4+V6", Default: enforce.Deny, Rules: []enforce.Rule{
					{Action: enforce.Permit, Family: 4, Proto: 6, Dst: pfx("198.18.1.10/32", "198.18.2.0/24"), DstPorts: []enforce.PortRange{{Lo: 80, Hi: 80}}, Comment: "V4 seq 10"},
					{Action: enforce.Permit, Family: 4, Proto: 6, Dst: pfx("198.18.1.10/32", "198.18.2.0/24"), DstPorts: []enforce.PortRange{{Lo: 53, Hi: 53}}, Comment: "V4 seq 10"},
					{Action: enforce.Permit, Family: 4, Proto: 17, Dst: pfx("198.18.1.10/32", "198.18.2.0/24"), DstPorts: []enforce.PortRange{{Lo: 53, Hi: 53}}, Comment: "V4 seq 10"},
					{Action: enforce.Permit, Family: 6, Proto: 6, Dst: pfx("2001:db8::10/128"), DstPorts: []enforce.PortRange{{Lo: 22, Hi: 22}}, Comment: "V6 seq 10"},
				}}},
			},
		},
		"nxos addrgroup, portgroup, host bits kept in config but masked when enforced; empty ACL denies": {
			opts: Options{Platform: PlatformNXOS, Interfaces: map[string]string{"Ethernet1/1": "eth1", "Ethernet1/2": "eth2"}},
			config: `object-group ip address SRC
  10 198.18.4.0/24
object-group ip port P
  10 range 8000 8002
ip access-list A
  10 permit tcp addrgroup SRC 198.18.1.7/24 portgroup P
ip access-list EMPTY
interface Ethernet1/1
  ip access-group A in
interface Ethernet1/2
  ip access-group EMPTY in
`,
			want: []enforce.Binding{
				{Interface: "eth1", Direction: enforce.In, Filter: &enforce.Filter{Name: "A", Default: enforce.Deny, Rules: []enforce.Rule{
					{Action: enforce.Permit, Family: 4, Proto: 6, Src: pfx("198.18.4.0/24"), Dst: pfx("198.18.1.0/24"), DstPorts: []enforce.PortRange{{Lo: 8000, Hi: 8002}}, Comment: "A seq 10"},
					{Action: enforce.Permit, Family: 6, Comment: "no IPv6 ACL"},
				}}},
				{Interface: "eth1", Direction: enforce.Out, TransitOnly: true},
				{Interface: "eth2", Direction: enforce.In, Filter: &enforce.Filter{Name: "EMPTY", Default: enforce.Deny, Rules: []enforce.Rule{
					{Action: enforce.Permit, Family: 6, Comment: "no IPv6 ACL"},
				}}},
				{Interface: "eth2", Direction: enforce.Out, TransitOnly: true},
			},
		},
		"eos IPv6 only: IPv4 passes": {
			opts: Options{Platform: PlatformEOS, Interfaces: map[string]string{"Ethernet1": "eth1"}},
			config: `interface Ethernet1
   ipv6 access-group V6 in
ipv6 access-list V6
   10 permit icmp any any echo-request
   20 permit ipv6 2001:db8::/32 any
`,
			want: []enforce.Binding{
				{Interface: "eth1", Direction: enforce.In, Filter: &enforce.Filter{Name: "V6", Default: enforce.Deny, Rules: []enforce.Rule{
					{Action: enforce.Permit, Family: 6, Proto: 58, ICMPTypes: []uint8{128}, Comment: "V6 seq 10"},
					{Action: enforce.Permit, Family: 6, Src: pfx("2001:db8::/32"), Comment: "V6 seq 20"},
					{Action: enforce.Permit, Family: 4, Comment: "no IPv4 ACL"},
				}}},
				{Interface: "eth1", Direction: enforce.Out, TransitOnly: true},
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := c.opts
			o.Hostname = "R9"
			o.Config = c.config
			dev, err := NewDevice(o)
			require.NoError(t, err)
			got := dev.State()
			if d := cmp.Diff(c.want, got.Bindings, cmpopts.EquateComparable(netip.Prefix{})); d != "" {
				t.Errorf("state (-want +got):\n%s", d)
			}
		})
	}
}
