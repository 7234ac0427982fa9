package plan_test

import (
	"testing"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/testbed/gen"
)

// BenchmarkOfflinePlan measures the whole offline pipeline: load and
// validate inventory and playbook, compile every device, render every
// device, for 5,000 hosts and 2,000 flows.
func BenchmarkOfflinePlan(b *testing.B) {
	dir := b.TempDir()
	if err := gen.Write(dir, gen.Spec{Hosts: 5000, Roles: 100, Flows: 2000, Seed: 1, IptablesEvery: 3}); err != nil {
		b.Fatal(err)
	}
	reg := all.Registry()
	b.ReportAllocs()
	for b.Loop() {
		p, err := project.Load(project.Options{Inventory: dir + "/inventory", Playbook: dir + "/playbook.yml"})
		if err != nil {
			b.Fatal(err)
		}
		pl, err := plan.Offline(p, reg)
		if err != nil {
			b.Fatal(err)
		}
		if len(pl.Devices) != 5000 {
			b.Fatalf("%d devices", len(pl.Devices))
		}
	}
}
