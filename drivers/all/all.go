// Package all is the one list of every platform driver.
package all

import (
	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/aristaeos"
	"github.com/fwpush/fwpush/drivers/ciscoios"
	"github.com/fwpush/fwpush/drivers/cisconxos"
	"github.com/fwpush/fwpush/drivers/juniperjunos"
	"github.com/fwpush/fwpush/drivers/linuxiptables"
	"github.com/fwpush/fwpush/drivers/linuxnftables"
	"github.com/fwpush/fwpush/drivers/openconfig"
	"github.com/fwpush/fwpush/drivers/windows"
)

// Registry returns a registry holding every platform fwpush ships.
func Registry() *drivers.Registry {
	r := drivers.NewRegistry()
	for _, p := range []drivers.Platform{
		linuxnftables.Platform(),
		linuxiptables.Platform(),
		windows.Platform(),
		ciscoios.Platform(),
		cisconxos.Platform(),
		aristaeos.Platform(),
		juniperjunos.Platform(),
		openconfig.Platform(),
	} {
		// A duplicate is a programming error the first test that builds
		// the registry catches.
		if err := r.Register(p); err != nil {
			panic(err)
		}
	}
	return r
}
