package apply

import (
	"context"
	"sort"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/logging"
	"github.com/fwpush/fwpush/internal/plan"
)

// Journal records a push as it happens, so that a controller killed
// mid-way leaves a record of how far each device got. Begin is called for
// every host before it is read: it takes the host's lock (an error stops
// the host untouched). Phase is called before each phase starts (d.Phase
// is the phase: fetch, apply, check, confirm; from apply on, d.Current
// holds the snapshot taken before any change); an error before apply
// stops the device untouched, later errors are the journal's to report,
// since the change is already armed. End is called once for every host
// Begin accepted, with its outcome (empty when it was never started).
// Calls for different hosts come concurrently.
type Journal interface {
	Begin(ctx context.Context, host string) error
	Phase(ctx context.Context, d Device) error
	End(ctx context.Context, d Device)
}

// begin tells the journal a host is about to be read.
func (o Options) begin(ctx context.Context, host string) error {
	if o.Journal == nil {
		return nil
	}
	return o.Journal.Begin(ctx, host)
}

// enter sets the device's phase and tells the journal.
func (o Options) enter(ctx context.Context, d *Device, phase string) error {
	d.Phase = phase
	logging.From(ctx).Info("push", "host", d.Host, "phase", phase, "run", o.Trial.Run)
	if o.Journal == nil {
		return nil
	}
	return o.Journal.Phase(ctx, *d)
}

// end tells the journal the device's outcome.
func (o Options) end(ctx context.Context, d Device) {
	if d.Outcome != "" {
		logging.From(ctx).Info("push done", "host", d.Host, "outcome", string(d.Outcome), "phase", d.Phase, "error", d.Error)
	}
	if o.Journal != nil {
		o.Journal.End(ctx, d)
	}
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
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.Trial = trial(o.Trial)
	pre := map[string]Device{}
	for _, h := range hosts {
		d := Device{Device: plan.Device{Host: h, Platform: desired[h].Platform, Desired: desired[h], Status: engine.Changed}}
		if err := o.begin(ctx, h); err != nil {
			d.Outcome, d.Phase, d.Status, d.Error = Failed, "plan", engine.Failed, h+": "+err.Error()
		}
		pre[h] = d
	}
	return push(ctx, name, hosts, func(host string) Device { return pre[host] }, open, o)
}
