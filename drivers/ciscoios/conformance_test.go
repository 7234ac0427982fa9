package ciscoios_test

import (
	"testing"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/ciscoios"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/drivers/driverstest/routerlab"
)

// TestConformance runs the suite every driver passes, against the
// labelled IOS-XE simulator in a routed lab: its ACLs enforced on real
// packets, its revert timer on a clock the test moves. The foreign ACL is
// a customer's inbound list on the interface fwpush filters outbound.
func TestConformance(t *testing.T) {
	driverstest.Conformance(t, driverstest.Suite{
		Platform: ciscoios.Platform(),
		Registry: all.Registry(),
		Root:     "../..",
		Systems:  routerlab.RouterSystems("../.."),
		Load:     routerlab.Loader(t, ciscoios.Platform()),
		Device: routerlab.RouterTarget("../..", "ios-1",
			"ip access-list extended CUSTOMER-IN\n 10 permit ip any any\n!\ninterface GigabitEthernet0/1\n ip access-group CUSTOMER-IN in\n!\n",
			"show ip access-lists CUSTOMER-IN", "show running-config | include CUSTOMER"),
	})
}
