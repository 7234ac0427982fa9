package cisconxos_test

import (
	"testing"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/cisconxos"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/drivers/driverstest/routerlab"
)

// TestConformance runs the suite every driver passes, against the
// labelled NX-OS simulator in a routed lab: its ACLs enforced on real
// packets, its EEM countdown on a clock the test moves. The foreign ACL
// is a customer's inbound list on the interface fwpush filters outbound.
func TestConformance(t *testing.T) {
	driverstest.Conformance(t, driverstest.Suite{
		Platform: cisconxos.Platform(),
		Registry: all.Registry(),
		Root:     "../..",
		Systems:  routerlab.RouterSystems("../.."),
		Load:     routerlab.Loader(t, cisconxos.Platform()),
		Device: routerlab.RouterTarget("../..", "nxos-1",
			"ip access-list CUSTOMER-IN\n  10 permit ip any any\n\ninterface Ethernet1/1\n  ip access-group CUSTOMER-IN in\n",
			"show ip access-lists CUSTOMER-IN", "show running-config | include CUSTOMER"),
	})
}
