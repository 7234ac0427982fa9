package openconfig_test

import (
	"testing"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/drivers/openconfig"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/testbed/netconflab"
)

// planted is configuration fwpush does not own: an ACL set bound to
// another interface, and a prefix set.
const (
	planted = `<acl xmlns="http://openconfig.net/yang/acl" xmlns:oc-acl="http://openconfig.net/yang/acl"><acl-sets><acl-set><name>OTHER</name><type>oc-acl:ACL_IPV4</type>` +
		`<config><name>OTHER</name><type>oc-acl:ACL_IPV4</type></config><acl-entries><acl-entry><sequence-id>10</sequence-id>` +
		`<config><sequence-id>10</sequence-id></config><actions><config><forwarding-action>oc-acl:ACCEPT</forwarding-action></config></actions>` +
		`</acl-entry></acl-entries></acl-set></acl-sets><interfaces><interface><id>Ethernet9</id><config><id>Ethernet9</id></config>` +
		`<ingress-acl-sets><ingress-acl-set><set-name>OTHER</set-name><type>oc-acl:ACL_IPV4</type><config><set-name>OTHER</set-name>` +
		`<type>oc-acl:ACL_IPV4</type></config></ingress-acl-set></ingress-acl-sets></interface></interfaces></acl>` +
		`<defined-sets xmlns="http://openconfig.net/yang/defined-sets"><ipv4-prefix-sets><ipv4-prefix-set><name>OTHER-SET</name>` +
		`<config><name>OTHER-SET</name><prefix>192.0.2.0/24</prefix></config></ipv4-prefix-set></ipv4-prefix-sets></defined-sets>`
	plantedShow = `<acl xmlns="http://openconfig.net/yang/acl"><acl-sets><acl-set><name>OTHER</name></acl-set></acl-sets>` +
		`<interfaces><interface><id>Ethernet9</id></interface></interfaces></acl>` +
		`<defined-sets xmlns="http://openconfig.net/yang/defined-sets"><ipv4-prefix-sets><ipv4-prefix-set><name>OTHER-SET</name>` +
		`</ipv4-prefix-set></ipv4-prefix-sets></defined-sets>`
)

// TestConformance runs the suite against netconfd loaded with the
// OpenConfig ACL modules, which check every value (ports, prefixes,
// identities, references).
func TestConformance(t *testing.T) {
	t.Parallel()
	var systems []driverstest.System
	for _, s := range []string{"clearwater", "dmcm", "portaswitch"} {
		systems = append(systems, driverstest.System{Name: s + "-routers", Playbook: "../../playbooks/" + s + ".yml",
			Inventory: "../driverstest/testdata/routers/" + s})
	}
	systems = append(systems, driverstest.System{Name: "portaswitch-openconfig", Playbook: "../../playbooks/portaswitch.yml",
		Inventory: "../../inventory/examples/portaswitch-openconfig"})
	driverstest.Conformance(t, driverstest.Suite{
		Platform: openconfig.Platform(),
		Registry: all.Registry(),
		Root:     "../..",
		Systems:  systems,
		Extra:    map[string]*intent.Intent{"edge": driverstest.RouterEdgeIntent()},
		Device: driverstest.NetconfTarget(driverstest.NetconfDevice{
			Inventory: "testdata/lab", A: "testdata/a.yml", B: "testdata/b.yml", Host: "oc-1",
			Model: netconflab.OpenConfig, Plant: planted, Show: plantedShow,
		}),
	})
}
