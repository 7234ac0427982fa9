// Package aristaeos is the Arista EOS platform: IPv4 and IPv6 ACLs with
// per-entry counters, changed make-before-break over the CLI
// (drivers/clisession) inside a configuration session committed with a
// commit timer.
package aristaeos

import (
	_ "embed"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/clisession"
	"github.com/fwpush/fwpush/drivers/netacl"
)

// ID is the platform id inventories use.
const ID = "arista-eos"

//go:embed eos.yaml
var table []byte

// Platform registers the driver; containerlab's ceos maps to it.
func Platform() drivers.Platform {
	return drivers.Platform{ID: ID, Aliases: []string{"eos", "arista_eos",
		// Ansible's ansible_network_os and containerlab's kinds
		"arista.eos.eos", "arista_ceos", "ceos", "arista_veos", "vr-veos"}, Transport: drivers.CLI, Port: 22, Driver: New()}
}

// New returns the EOS driver.
func New() *netacl.Driver {
	return netacl.NewDriver(netacl.Spec{
		ID:        ID,
		Dialect:   netacl.MustDialect(netacl.EOS, table),
		Table:     clisession.MustTable(table),
		Caps:      Capabilities(),
		Mechanism: mechanism{},
	})
}

// Capabilities: interface ACLs only, stateless, no object-groups — EOS
// 4.2x interface ACLs take no object-group (its field-sets belong to
// traffic policies, another feature), so address sets are expanded into
// entries and several ports share one `eq` list of up to ten; logging,
// ICMP types, and a commit timer that counts seconds (hh:mm:ss).
func Capabilities() drivers.Capabilities {
	return drivers.Capabilities{NetworkACL: true, IPv6: true, Logging: true, ICMPTypes: true,
		CommitConfirm: true, TimerGranularity: time.Second}
}
