package all_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/fwpush/fwpush/drivers/all"
)

// TestOtherToolsNames: the names Nornir, NAPALM, scrapli, Ansible
// (ansible_network_os) and containerlab (kinds) give a platform resolve to
// fwpush's id, so their inventories load as they are.
func TestOtherToolsNames(t *testing.T) {
	reg := all.Registry()
	for name, id := range map[string]string{
		"linux": "linux-nftables", "iptables": "linux-iptables", "win": "windows", "winrm": "windows", "psrp": "windows",
		"ios": "cisco-ios", "cisco_iosxe": "cisco-ios", "cisco.ios.ios": "cisco-ios", "cisco_iol": "cisco-ios", "cisco_c8000v": "cisco-ios",
		"nxos": "cisco-nxos", "nxos_ssh": "cisco-nxos", "cisco.nxos.nxos": "cisco-nxos", "cisco_n9kv": "cisco-nxos",
		"eos": "arista-eos", "arista.eos.eos": "arista-eos", "arista_ceos": "arista-eos", "ceos": "arista-eos",
		"junos": "juniper-junos", "junipernetworks.junos.junos": "juniper-junos", "juniper_crpd": "juniper-junos", "vr-vmx": "juniper-junos",
		"juniper_vjunosevolved": "juniper-junos",
		"Cisco_IOSXE":           "cisco-ios",
	} {
		got, ok := reg.InventoryPlatform(name)
		if assert.True(t, ok, name) {
			assert.Equal(t, id, got.ID, name)
		}
	}
	_, ok := reg.InventoryPlatform("cisco_asa")
	assert.False(t, ok, "a platform fwpush has no driver for stays unknown")
}
