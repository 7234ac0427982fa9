package netacl

import (
	"context"
	"fmt"
	"strings"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/clisession"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
)

// PartName names the single config part of these platforms: the owned
// object-groups, ACLs and bindings, in running-config syntax.
const PartName = "config"

// Spec is one CLI platform: its id, dialect, CLI table, capabilities and
// its commit-confirm mechanism.
type Spec struct {
	ID        string
	Dialect   *Dialect
	Table     *clisession.Table
	Caps      drivers.Capabilities
	Mechanism Mechanism
}

// Driver is a CLI platform's driver; the platform packages wrap it.
type Driver struct{ spec Spec }

// NewDriver returns the driver of a platform.
func NewDriver(s Spec) *Driver { return &Driver{spec: s} }

// Capabilities is what the platform can express.
func (d *Driver) Capabilities() drivers.Capabilities { return d.spec.Caps }

// Render returns the owned part in canonical form.
func (d *Driver) Render(in *intent.Intent) (drivers.Config, error) {
	c, err := d.spec.Dialect.FromIntent(in)
	if err != nil {
		return drivers.Config{}, err
	}
	return d.config(c), nil
}

func (d *Driver) config(c *Config) drivers.Config {
	return drivers.Config{Platform: d.spec.ID, Parts: []drivers.Part{{Name: PartName, Text: d.spec.Dialect.Text(c)}}}
}

// Parse reads a canonical config back into rules (one per ACL entry,
// without its sequence number, so renumbering is no semantic change) and
// object-group members, for the semantic summary of a plan.
func (d *Driver) Parse(c drivers.Config) (drivers.Ruleset, error) {
	dev, err := d.spec.Dialect.Parse(c.Part(PartName))
	if err != nil {
		return drivers.Ruleset{}, err
	}
	rs := drivers.Ruleset{Sets: map[string][]string{}}
	for _, a := range dev.ACLs {
		for _, l := range d.spec.Dialect.aclLines(&ACL{Name: a.Name, V6: a.V6, Entries: unnumbered(a.Entries)}) {
			act := drivers.Action("")
			switch {
			case strings.HasPrefix(l, "permit "):
				act = drivers.PermitAction
			case strings.HasPrefix(l, "deny "):
				act = drivers.DenyAction
			default:
				continue
			}
			rs.Rules = append(rs.Rules, drivers.RuleLine{Filter: a.Name, Text: a.Name + ": " + l, Action: act})
		}
	}
	for _, g := range dev.Groups {
		var ms []string
		for _, m := range g.Members {
			ms = append(ms, d.spec.Dialect.member(g, m))
		}
		rs.Sets[g.Name] = ms
	}
	return rs, nil
}

func unnumbered(es []*Entry) []*Entry {
	out := make([]*Entry, len(es))
	for i, e := range es {
		c := *e
		c.Seq = 0
		out[i] = &c
	}
	return out
}

// Open connects over SSH and opens the CLI session.
func (d *Driver) Open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	c, err := clisession.Dial(ctx, t, d.spec.Table)
	if err != nil {
		return nil, err
	}
	return &Session{d: d, Conn: c}, nil
}

// Desired parses a canonical config (a render, or a snapshot fetched
// earlier) into the model Apply types, refusing what it would not type:
// a line the parser does not model, a name fwpush does not write.
func (d *Driver) Desired(c drivers.Config) (*Config, error) {
	if c.Platform != "" && c.Platform != d.spec.ID {
		return nil, fmt.Errorf("a %s config given to the %s driver: %w", c.Platform, d.spec.ID, fault.ErrNotApplied)
	}
	dev, err := d.spec.Dialect.Parse(c.Part(PartName))
	if err != nil {
		return nil, err
	}
	want := &dev.Config
	bad := func(format string, a ...any) error {
		return fmt.Errorf("desired config: "+format+": %w", append(a, fault.ErrNotApplied)...)
	}
	for _, g := range want.Groups {
		if !ownedName.MatchString(g.Name) {
			return nil, bad("object-group %s is not a name fwpush writes", g.Name)
		}
		for _, m := range g.Members {
			if m.Raw != "" {
				return nil, bad("object-group %s: line %q is not one fwpush writes", g.Name, m.Raw)
			}
		}
		if g.Description != "" && g.Description != Remark(g.Description) {
			return nil, bad("object-group %s: description is not one line of plain text", g.Name)
		}
	}
	for _, a := range want.ACLs {
		if !ownedName.MatchString(a.Name) || a.Name == LockName {
			return nil, bad("ACL %s is not a name fwpush writes", a.Name)
		}
		for _, e := range a.Entries {
			switch {
			case e.Raw != "":
				return nil, bad("ACL %s: line %q is not one fwpush writes", a.Name, e.Raw)
			case e.Rule == nil && e.Remark != Remark(e.Remark):
				return nil, bad("ACL %s: remark %q is not one line of plain text", a.Name, e.Remark)
			}
		}
	}
	for _, i := range want.Ifaces {
		if err := checkIface(i.Name); err != nil {
			return nil, bad("%v", err)
		}
		for _, s := range Slots {
			if n := i.Get(s); n != "" && want.ACL(n, s.V6) == nil {
				return nil, bad("interface %s binds %s, which the config does not define", i.Name, n)
			}
		}
	}
	return want, nil
}

// Dialect is the platform's dialect (its syntax and keyword tables).
func (d *Driver) Dialect() *Dialect { return d.spec.Dialect }
