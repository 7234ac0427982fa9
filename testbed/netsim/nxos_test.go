package netsim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nxosSeed = `hostname N1

feature bgp

object-group ip address MGMT
  10 host 198.18.0.10

ip access-list FOREIGN
  statistics per-entry
  10 permit tcp 198.18.0.0/15 any eq 22
  20 deny ip any any

interface Ethernet1/1
  description uplink
  no switchport
  ip address 198.18.1.1/24

interface Ethernet1/2
  no switchport
  ip address 198.18.2.1/24

router bgp 65001
  router-id 198.18.1.1
`

func nxosOpts() Options {
	return Options{Platform: PlatformNXOS, Hostname: "N1", Config: nxosSeed,
		Interfaces: map[string]string{"Ethernet1/1": "eth1", "Ethernet1/2": "eth2"}}
}

func TestNXOSScrapliSmoke(t *testing.T) {
	s := startSim(t, nxosOpts())
	d := s.driver(t, adminUser, adminPass)
	r, err := d.SendCommand("show ip access-lists")
	require.NoError(t, err)
	assert.NoError(t, r.Failed)
	t.Log(r.Result)
	m, err := d.SendConfigs([]string{"ip access-list FWPUSH-1", "permit tcp any 198.18.1.10/32 eq 80", "interface e1/1", "ip access-group FWPUSH-1 in"})
	require.NoError(t, err)
	assert.NoError(t, m.Failed)
	r, err = d.SendCommand("show running-config aclmgr")
	require.NoError(t, err)
	t.Log(r.Result)
	r, err = d.SendCommand("show foo")
	require.NoError(t, err)
	assert.Error(t, r.Failed)
	t.Log(r.Result)
}
