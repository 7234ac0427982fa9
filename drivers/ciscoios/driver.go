// Package ciscoios is the Cisco IOS-XE platform: named extended IPv4 ACLs
// and IPv6 ACLs with object-groups, changed make-before-break over the
// CLI (drivers/clisession) under IOS-XE's Configuration Rollback
// Confirmed Change (archive + `configure terminal revert timer`).
package ciscoios

import (
	_ "embed"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/clisession"
	"github.com/fwpush/fwpush/drivers/netacl"
)

// ID is the platform id inventories use.
const ID = "cisco-ios"

//go:embed ios.yaml
var table []byte

// Platform registers the driver under the names Nornir, NAPALM, Netmiko,
// scrapli, Ansible and containerlab (cisco_iol) use for IOS and IOS-XE.
func Platform() drivers.Platform {
	return drivers.Platform{ID: ID, Aliases: []string{"ios", "iosxe", "ios-xe", "cisco_ios", "cisco_iosxe", "cisco_xe",
		// Ansible's ansible_network_os and containerlab's kinds (current and older)
		"cisco.ios.ios", "cisco_iol", "cisco_csr1000v", "vr-csr", "cisco_c8000v", "cisco_cat9kv", "cisco_vios"},
		Transport: drivers.CLI, Port: 22, Driver: New()}
}

// New returns the IOS-XE driver.
func New() *netacl.Driver {
	return netacl.NewDriver(netacl.Spec{
		ID:        ID,
		Dialect:   netacl.MustDialect(netacl.IOS, table),
		Table:     clisession.MustTable(table),
		Caps:      Capabilities(),
		Mechanism: mechanism{},
	})
}

// Capabilities: interface ACLs only (no host firewall), stateless (TCP
// replies pass with `established`; other replies need rules), IPv4
// object-groups network and service (IPv6 lists are expanded: the
// simulator and older releases have no IPv6 object-groups), logging,
// ICMP types, and a revert timer that counts whole minutes.
func Capabilities() drivers.Capabilities {
	return drivers.Capabilities{NetworkACL: true, IPv6: true, AddressSets: true, PortSets: true,
		Logging: true, ICMPTypes: true, CommitConfirm: true, TimerGranularity: time.Minute}
}
