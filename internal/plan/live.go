package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/diff"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/logging"
	"github.com/fwpush/fwpush/internal/project"
)

// Opener opens a session to a host of the project.
type Opener func(ctx context.Context, host string) (drivers.Session, error)

// Live fetches every selected device's owned config and diffs it with the
// desired one. It opens no config transaction and arms nothing: a dry run
// leaves every device byte-identical.
func Live(ctx context.Context, p *project.Project, open Opener, eo engine.Options) (*Plan, engine.Summary, error) {
	return live(ctx, p, open, eo, false)
}

// LiveChecked is Live plus the device's own check of every change (nft -c,
// a NETCONF commit check on a candidate that is then discarded), as
// NAPALM's compare_config loads before it diffs: a config the device would
// refuse fails the plan with nothing changed. It is opt-in (plan
// --validate) because the check writes scratch state: a staged file, a
// candidate edit, where a plain dry run sends no write at all.
func LiveChecked(ctx context.Context, p *project.Project, open Opener, eo engine.Options) (*Plan, engine.Summary, error) {
	return live(ctx, p, open, eo, true)
}

func live(ctx context.Context, p *project.Project, open Opener, eo engine.Options, validate bool) (*Plan, engine.Summary, error) {
	pl := New(p)
	hosts := make([]string, len(p.Selected))
	for i, h := range p.Selected {
		hosts[i] = h.Name
	}
	results, sum, err := engine.Run(ctx, hosts, eo, func(ctx context.Context, host string) engine.Result {
		d := fetch(ctx, p, open, host, validate)
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
		if d.Err != nil {
			errs = append(errs, d.Err)
		} else if r.Error != "" {
			errs = append(errs, errors.New(r.Error))
		}
		pl.Devices = append(pl.Devices, d)
	}
	return pl, sum, errors.Join(errs...)
}

// Fetch plans one device: it renders the desired config, reads the
// device's owned part and diffs them. Nothing on the device changes: the
// device's trial lock is reported, never taken.
func Fetch(ctx context.Context, p *project.Project, open Opener, host string) Device {
	return fetch(ctx, p, open, host, false)
}

// fetch is Fetch, with the device's check of a change when validate is
// set and the driver can (a NETCONF check holds the candidate's lock for
// the moment it takes).
func fetch(ctx context.Context, p *project.Project, open Opener, host string, validate bool) Device {
	d, err := Render(p, host)
	if err != nil {
		return d
	}
	s, err := open(ctx, host)
	if err != nil {
		d.fail(fmt.Errorf("%s: connect: %w", host, err))
		return d
	}
	defer s.Close()
	cur, err := s.Fetch(ctx)
	if err != nil {
		d.fail(fmt.Errorf("%s: fetch: %w", host, err))
		return d
	}
	df := diff.Compute(cur, d.Desired, Parser(p.Registry, d.Platform))
	d.Current, d.Diff, d.BeforeDigest = &cur, &df, Digest(cur)
	if o, ok := s.(drivers.OriginReporter); ok {
		a, err := o.Origin(ctx)
		if err != nil {
			d.fail(fmt.Errorf("%s: origin: %w", host, err))
			return d
		}
		if a.IsValid() {
			d.Origin = a.String()
		}
	}
	if lr, ok := s.(drivers.LockReporter); ok {
		holder, err := lr.DeviceLock(ctx)
		if err != nil {
			d.fail(fmt.Errorf("%s: read device lock: %w", host, err))
			return d
		}
		d.Lock = holder
	}
	if fr, ok := s.(drivers.ForeignReporter); ok {
		warnings, err := fr.Foreign(ctx)
		if err != nil {
			d.fail(fmt.Errorf("%s: %w", host, err))
			return d
		}
		d.Warnings = warnings
	}
	// Not while another trial holds the device: its candidate is that
	// trial's.
	if v, ok := s.(drivers.Validator); ok && validate && df.Changed && d.Lock == nil {
		if err := v.Validate(ctx, d.Desired); err != nil {
			d.fail(fmt.Errorf("%s: validate: %w", host, err))
			return d
		}
		d.Validated = true
	}
	d.Status = engine.Unchanged
	if df.Changed {
		d.Status = engine.Changed
	}
	logging.From(ctx).Info("read", "host", host, "status", string(d.Status), "origin", d.Origin)
	return d
}

// Parser is the platform's config reader, for the semantic summary of a
// diff; nil when its driver has none.
func Parser(reg *drivers.Registry, platform string) drivers.Parser {
	if reg == nil {
		return nil
	}
	d, err := reg.Get(platform)
	if err != nil {
		return nil
	}
	p, _ := d.(drivers.Parser)
	return p
}

// fail records err as the device's failure.
func (d *Device) fail(err error) {
	d.Status, d.Error, d.Err = Classify(err), err.Error(), err
}

// Digest identifies a config: the SHA-256 of its canonical text.
func Digest(c drivers.Config) string {
	h := sha256.Sum256([]byte(c.Platform + "\x00" + c.String()))
	return hex.EncodeToString(h[:])
}

// Classify maps a transport error to unreachable or failed.
func Classify(err error) engine.Status {
	if errors.Is(err, fault.ErrUnreachable) || errors.Is(err, fault.ErrTimeout) {
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
