package juniperjunos_test

import (
	"testing"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/drivers/juniperjunos"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/testbed/netconflab"
)

// systems are the router variants of the seed systems: with the two
// lab-ready examples, every seed has a Junos render.
func systems() []driverstest.System {
	var out []driverstest.System
	for _, s := range []string{"clearwater", "dmcm", "portaswitch"} {
		out = append(out, driverstest.System{Name: s + "-routers", Playbook: "../../playbooks/" + s + ".yml",
			Inventory: "../driverstest/testdata/routers/" + s})
	}
	for _, s := range []string{"satellite", "wdm"} {
		out = append(out, driverstest.System{Name: s + "-junos", Playbook: "../../playbooks/" + s + ".yml",
			Inventory: "../../inventory/examples/" + s + "-junos"})
	}
	return out
}

// planted is configuration fwpush does not own: a filter, a prefix list
// and a binding on another interface, in the YANG dialect.
const (
	planted = `<configuration xmlns="http://yang.juniper.net/junos/conf/root">` +
		`<firewall xmlns="http://yang.juniper.net/junos/conf/firewall"><family><inet><filter><name>OTHER</name>` +
		`<term><name>t</name><from><protocol>tcp</protocol></from><then><accept/></then></term></filter></inet></family></firewall>` +
		`<policy-options xmlns="http://yang.juniper.net/junos/conf/policy-options"><prefix-list><name>OTHER-LIST</name>` +
		`<prefix-list-item><name>192.0.2.0/24</name></prefix-list-item></prefix-list></policy-options>` +
		`<interfaces xmlns="http://yang.juniper.net/junos/conf/interfaces"><interface><name>ge-0/0/3</name><unit><name>0</name>` +
		`<family><inet><filter><input><filter-name>OTHER</filter-name></input></filter></inet></family></unit></interface></interfaces>` +
		`</configuration>`
	plantedShow = `<configuration xmlns="http://yang.juniper.net/junos/conf/root">` +
		`<firewall xmlns="http://yang.juniper.net/junos/conf/firewall"><family><inet><filter><name>OTHER</name></filter></inet></family></firewall>` +
		`<policy-options xmlns="http://yang.juniper.net/junos/conf/policy-options"><prefix-list><name>OTHER-LIST</name></prefix-list></policy-options>` +
		`<interfaces xmlns="http://yang.juniper.net/junos/conf/interfaces"><interface><name>ge-0/0/3</name></interface></interfaces>` +
		`</configuration>`
)

func device(host string, front bool) func(t *testing.T) driverstest.Target {
	return driverstest.NetconfTarget(driverstest.NetconfDevice{
		Inventory: "testdata/lab", A: "testdata/a.yml", B: "testdata/b.yml", Host: host,
		Model: netconflab.Junos, Front: front, Plant: planted, Show: plantedShow,
	})
}

// TestConformance runs the suite against netconfd loaded with Juniper's
// YANG, in the standard (YANG-compliant) dialect.
func TestConformance(t *testing.T) {
	t.Parallel()
	driverstest.Conformance(t, driverstest.Suite{
		Platform: juniperjunos.Platform(),
		Registry: all.Registry(),
		Root:     "../..",
		Systems:  systems(),
		Extra:    map[string]*intent.Intent{"edge": driverstest.RouterEdgeIntent()},
		Device:   device("jnx-yang", false),
	})
}

// TestConformanceNative runs the session checks in the native Junos XML
// API, through the lab's translating front to the same netconfd.
func TestConformanceNative(t *testing.T) {
	t.Parallel()
	driverstest.ConformanceDevice(t, driverstest.Suite{
		Platform: juniperjunos.Platform(),
		Registry: all.Registry(),
		Device:   device("jnx-native", true),
	})
}
