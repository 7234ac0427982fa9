// Package cisconxos is the Cisco NX-OS platform: IPv4 and IPv6 ACLs with
// address and port object-groups and per-entry statistics, changed
// make-before-break through Session Manager (all or nothing), guarded by
// a checkpoint and an EEM applet whose countdown rolls back to it.
package cisconxos

import (
	_ "embed"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/clisession"
	"github.com/fwpush/fwpush/drivers/netacl"
)

// ID is the platform id inventories use.
const ID = "cisco-nxos"

//go:embed nxos.yaml
var table []byte

// Platform registers the driver; containerlab's cisco_n9kv maps to it.
func Platform() drivers.Platform {
	return drivers.Platform{ID: ID, Aliases: []string{"nxos", "nxos_ssh", "cisco_nxos",
		// Ansible's ansible_network_os and containerlab's kinds
		"cisco.nxos.nxos", "cisco_n9kv", "vr-n9kv"}, Transport: drivers.CLI, Port: 22, Driver: New()}
}

// New returns the NX-OS driver.
func New() *netacl.Driver {
	return netacl.NewDriver(netacl.Spec{
		ID:        ID,
		Dialect:   netacl.MustDialect(netacl.NXOS, table),
		Table:     clisession.MustTable(table),
		Caps:      Capabilities(),
		Mechanism: mechanism{},
	})
}

// Capabilities: interface ACLs only, stateless, object-groups for IPv4
// and IPv6 addresses and for ports, logging, ICMP types, and a revert
// (an EEM countdown) that counts seconds.
func Capabilities() drivers.Capabilities {
	return drivers.Capabilities{NetworkACL: true, IPv6: true, AddressSets: true, PortSets: true,
		Logging: true, ICMPTypes: true, CommitConfirm: true, TimerGranularity: time.Second}
}
