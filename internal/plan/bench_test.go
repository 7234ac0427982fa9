package plan_test

import (
	"syscall"
	"testing"

	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/testbed/gen"
)

// benchSystem writes the 5,000-host, 2,000-flow system the offline
// benchmarks plan (a third of the hosts on iptables).
func benchSystem(b *testing.B) (inv, pb string) {
	b.Helper()
	dir := b.TempDir()
	if err := gen.Write(dir, gen.Spec{Hosts: 5000, Roles: 100, Flows: 2000, Seed: 1, IptablesEvery: 3}); err != nil {
		b.Fatal(err)
	}
	return dir + "/inventory", dir + "/playbook.yml"
}

// BenchmarkOfflinePlan measures the whole offline pipeline: load and
// validate inventory and playbook, compile every device, render every
// device, for 5,000 hosts and 2,000 flows, holding every config.
func BenchmarkOfflinePlan(b *testing.B) {
	inv, pb := benchSystem(b)
	b.ReportAllocs()
	for b.Loop() {
		p, err := project.Load(project.Options{Inventory: inv, Playbook: pb})
		if err != nil {
			b.Fatal(err)
		}
		pl, err := plan.Offline(p)
		if err != nil {
			b.Fatal(err)
		}
		if len(pl.Devices) != 5000 {
			b.Fatalf("%d devices", len(pl.Devices))
		}
	}
}

// BenchmarkOfflinePlanStreaming is the same pipeline the way `fwpush plan
// --offline` runs it: one device at a time, nothing kept. It reports the
// process's peak resident memory (peak-RSS-MB), which for a CLI run is
// the figure that matters; run it alone (-bench 'Streaming$') so no
// other benchmark's peak counts.
func BenchmarkOfflinePlanStreaming(b *testing.B) {
	inv, pb := benchSystem(b)
	b.ReportAllocs()
	for b.Loop() {
		p, err := project.Load(project.Options{Inventory: inv, Playbook: pb})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := plan.OfflineEach(p, func(d plan.Device) error { n += len(d.Desired.String()); return nil }); err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatal("nothing rendered")
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB") // Linux: KiB
	}
}
