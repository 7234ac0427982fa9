package netsim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const iosSeed = `hostname R1
!
interface GigabitEthernet0/1
 description inside
 ip address 198.18.1.1 255.255.255.0
 negotiation auto
!
interface GigabitEthernet0/2
 ip address 198.18.2.1 255.255.255.0
!
router ospf 1
 network 198.18.0.0 0.1.255.255 area 0
!
ip access-list extended FOREIGN
 10 permit tcp any any eq 22
 20 deny   ip any any log
!
line vty 0 4
 transport input ssh
!
end
`

func iosOpts() Options {
	return Options{Platform: PlatformIOSXE, Hostname: "R1", Config: iosSeed,
		Interfaces: map[string]string{"GigabitEthernet0/1": "eth1", "GigabitEthernet0/2": "eth2"}}
}

func TestIOSScrapliSmoke(t *testing.T) {
	s := startSim(t, iosOpts())
	d := s.driver(t, operUser, operPass)
	r, err := d.SendCommand("show version")
	require.NoError(t, err)
	assert.NoError(t, r.Failed)
	assert.Contains(t, r.Result, "fwpush lab simulator")
	r, err = d.SendCommand("show ip access-lists")
	require.NoError(t, err)
	assert.Equal(t, "Extended IP access list FOREIGN\n    10 permit tcp any any eq 22\n    20 deny ip any any log", r.Result)
	m, err := d.SendConfigs([]string{"ip access-list extended FWPUSH-1", "permit tcp any host 198.18.1.10 eq 80", "interface gi0/1", "ip access-group FWPUSH-1 in"})
	require.NoError(t, err)
	assert.NoError(t, m.Failed)
	r, err = d.SendCommand("show running-config | section FWPUSH")
	require.NoError(t, err)
	t.Log(r.Result)
	r, err = d.SendCommand("show foo")
	require.NoError(t, err)
	assert.Error(t, r.Failed)
	t.Log(r.Result)
}
