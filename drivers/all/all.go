// Package all is the one list of every platform driver.
package all

import (
	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxiptables"
	"github.com/fwpush/fwpush/drivers/linuxnftables"
	"github.com/fwpush/fwpush/inventory"
)

// Registry returns a registry holding every driver fwpush ships.
func Registry() *drivers.Registry {
	r := drivers.NewRegistry()
	must(r.Register(inventory.LinuxNftables, linuxnftables.New()))
	must(r.Register(inventory.LinuxIptables, linuxiptables.New()))
	return r
}

// must panics on a duplicate registration: a programming error caught by
// the first test that builds the registry.
func must(err error) {
	if err != nil {
		panic(err)
	}
}
