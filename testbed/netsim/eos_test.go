package netsim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const eosSeed = `! Command: show running-config
! device: E1 (vEOS, EOS-4.30.1F)
!
hostname E1
!
spanning-tree mode mstp
!
interface Ethernet1
   description uplink
   no switchport
   ip address 198.18.1.1/24
!
interface Ethernet2
   no switchport
   ip address 198.18.2.1/24
!
ip access-list FOREIGN
   10 permit tcp 198.18.0.0/15 any eq ssh
   20 deny ip any any
!
ip routing
!
end
`

func eosOpts() Options {
	return Options{Platform: PlatformEOS, Hostname: "E1", Config: eosSeed,
		Interfaces: map[string]string{"Ethernet1": "eth1", "Ethernet2": "eth2"}}
}

func TestEOSScrapliSmoke(t *testing.T) {
	s := startSim(t, eosOpts())
	d := s.driver(t, operUser, operPass)
	r, err := d.SendCommand("show ip access-lists")
	require.NoError(t, err)
	assert.NoError(t, r.Failed)
	t.Log(r.Result)
	m, err := d.SendConfigs([]string{"ip access-list FWPUSH-1", "permit tcp any host 198.18.1.10 eq www", "interface et1", "ip access-group FWPUSH-1 in"})
	require.NoError(t, err)
	assert.NoError(t, m.Failed)
	r, err = d.SendCommand("show running-config")
	require.NoError(t, err)
	t.Log(r.Result)
	r, err = d.SendCommand("show foo")
	require.NoError(t, err)
	assert.Error(t, r.Failed)
	t.Log(r.Result)
}
