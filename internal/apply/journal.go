package apply

import (
	"context"
	"sort"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
)

// Journal records a push as it happens, so that a controller killed
// mid-way leaves a record of how far each device got. Phase is called
// before each phase starts (d.Phase is the phase: fetch, apply, check,
// confirm; from apply on, d.Current holds the snapshot taken before any
// change). An error before fetch or apply stops the device untouched;
// later errors are the journal's to report, since the change is already
// armed. End is called once the device's outcome is known, on every path
// that started the device. Calls for different hosts come concurrently.
type Journal interface {
	Phase(ctx context.Context, d Device) error
	End(ctx context.Context, d Device)
}

// enter sets the device's phase and tells the journal.
func (o Options) enter(ctx context.Context, d *Device, phase string) error {
	d.Phase = phase
	if o.Journal == nil {
		return nil
	}
	return o.Journal.Phase(ctx, *d)
}

// RunConfigs pushes given configs, host → desired, through the same
// phases as Run (commit-confirmed, checked over a new connection). A
// rollback is this with each host's snapshot as the desired config; name
// labels the report.
func RunConfigs(ctx context.Context, name string, desired map[string]drivers.Config, open plan.Opener, o Options) (*Report, error) {
	hosts := make([]string, 0, len(desired))
	for h := range desired {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	render := func(host string) (plan.Device, error) {
		c := desired[host]
		return plan.Device{Host: host, Platform: c.Platform, Desired: c}, nil
	}
	return push(ctx, name, hosts, render, open, o)
}
