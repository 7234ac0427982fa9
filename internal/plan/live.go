package plan

import (
	"context"
	"errors"
	"fmt"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/project"
)

// Opener opens a session to a host of the project.
type Opener func(ctx context.Context, host string) (drivers.Session, error)

// Live fetches every selected device's owned config and diffs it with the
// desired one. It opens no config transaction and arms nothing: a dry run
// leaves every device byte-identical.
func Live(ctx context.Context, p *project.Project, reg *drivers.Registry, open Opener, eo engine.Options) (*Plan, engine.Summary, error) {
	pl := &Plan{Playbook: p.Playbook.Name, Inventory: p.Inv.Dir}
	hosts := make([]string, len(p.Selected))
	for i, h := range p.Selected {
		hosts[i] = h.Name
	}
	results, sum, err := engine.Run(ctx, hosts, eo, func(ctx context.Context, host string) engine.Result {
		d := planDevice(ctx, p, reg, open, host)
		return engine.Result{Status: d.Status, Error: d.Error, Detail: d}
	})
	if err != nil {
		return nil, sum, err
	}
	var errs []error
	for _, r := range results {
		d, ok := r.Detail.(Device)
		if !ok {
			d = Device{Host: r.Host, Platform: p.Intents[r.Host].Platform, Status: r.Status, Error: r.Error}
		}
		if r.Error != "" {
			errs = append(errs, errors.New(r.Error))
		}
		pl.Devices = append(pl.Devices, d)
	}
	return pl, sum, errors.Join(errs...)
}

func planDevice(ctx context.Context, p *project.Project, reg *drivers.Registry, open Opener, host string) Device {
	d, err := Render(p, reg, host)
	if err != nil {
		return d
	}
	s, err := open(ctx, host)
	if err != nil {
		d.Status, d.Error = Classify(err), fmt.Sprintf("%s: connect: %v", host, err)
		return d
	}
	defer s.Close()
	cur, err := s.Fetch(ctx)
	if err != nil {
		d.Status, d.Error = Classify(err), fmt.Sprintf("%s: fetch: %v", host, err)
		return d
	}
	df := diff.Compute(cur, d.Desired)
	d.Current, d.Diff = &cur, &df
	if fr, ok := s.(ForeignReporter); ok {
		warnings, err := fr.Foreign(ctx)
		if err != nil {
			d.Status, d.Error = Classify(err), err.Error()
			return d
		}
		d.Warnings = warnings
	}
	d.Status = engine.Unchanged
	if df.Changed {
		d.Status = engine.Changed
	}
	return d
}

// ForeignReporter is implemented by sessions that can tell which rules
// outside fwpush's part can block what the policy permits.
type ForeignReporter interface {
	Foreign(ctx context.Context) ([]string, error)
}

// Classify maps a transport error to unreachable or failed.
func Classify(err error) engine.Status {
	if errors.Is(err, drivers.ErrUnreachable) || errors.Is(err, drivers.ErrTimeout) {
		return engine.Unreachable
	}
	return engine.Failed
}

// Changes reports whether any device has changes pending.
func (pl *Plan) Changes() bool {
	for _, d := range pl.Devices {
		if d.Status == engine.Changed {
			return true
		}
	}
	return false
}
