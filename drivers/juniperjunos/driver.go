package juniperjunos

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/intent"
)

// ID is the platform id inventories use.
const ID = "juniper-junos"

// Platform registers the driver: Junos devices are reached over NETCONF
// (SSH port 830, or the netconf subsystem on 22 when the inventory says
// so). Other tools' names for Junos are aliases: Nornir/netmiko's, Ansible's
// ansible_network_os (short and collection-qualified) and containerlab's
// kinds, current and older.
func Platform() drivers.Platform {
	return drivers.Platform{ID: ID, Aliases: []string{"junos", "juniper_junos", "juniper", "junipernetworks.junos.junos",
		"juniper_crpd", "crpd", "juniper_vmx", "vr-vmx", "juniper_vqfx", "vr-vqfx", "juniper_vsrx", "vr-vsrx",
		"juniper_vjunosrouter", "juniper_vjunosswitch", "juniper_vjunosevolved", "juniper_cjunosevolved"},
		Transport: drivers.NETCONF, Port: 830, Driver: New()}
}

// PartName names the single config part: the owned hierarchy as Junos
// prints it.
const PartName = "junos"

// Driver renders Intents as Junos firewall filters.
type Driver struct{}

// New returns the Junos driver.
func New() *Driver { return &Driver{} }

// Capabilities: interface filters, IPv4 and IPv6, prefix lists, syslog
// and ICMP types; stateless, so the compiler adds return rules. The
// confirmed commit is the device's own revert. Its timer counts minutes in
// the native dialect (commit-configuration's confirm-timeout) and seconds
// in the standard one (RFC 6241's confirm-timeout): the platform declares
// the coarser, and each session's Armed says what it armed.
func (*Driver) Capabilities() drivers.Capabilities {
	return drivers.Capabilities{NetworkACL: true, IPv6: true, AddressSets: true, Logging: true, Reject: true,
		ICMPTypes: true, CommitConfirm: true, TimerGranularity: time.Minute}
}

// Render returns the owned configuration in canonical text.
func (*Driver) Render(in *intent.Intent) (drivers.Config, error) {
	c, err := build(in)
	if err != nil {
		return drivers.Config{}, err
	}
	return c.config(), nil
}

func (c Config) config() drivers.Config {
	return drivers.Config{Platform: ID, Parts: []drivers.Part{{Name: PartName, Text: c.text()}}}
}

// Parse reads a canonical config back into rules (every term, with the
// filter it is in) and sets (every prefix list).
func (*Driver) Parse(dc drivers.Config) (drivers.Ruleset, error) {
	c, err := parseText(dc.Part(PartName))
	if err != nil {
		return drivers.Ruleset{}, fmt.Errorf("junos config: %w", err)
	}
	rs := drivers.Ruleset{Sets: map[string][]string{}}
	for _, pl := range c.PrefixLists {
		var elems []string
		for _, p := range pl.Prefixes {
			elems = append(elems, p.String())
		}
		rs.Sets[pl.Name] = elems
	}
	for _, f := range c.Filters {
		for _, t := range f.Terms {
			line := drivers.RuleLine{Filter: f.Family + " " + f.Name, Text: f.Family + " " + f.Name + ": " + t.oneLine(f.Family)}
			switch t.Action {
			case "accept":
				line.Action = drivers.PermitAction
			case "discard", "reject":
				line.Action = drivers.DenyAction
			}
			rs.Rules = append(rs.Rules, line)
		}
	}
	return rs, nil
}

// oneLine is a term on one line, for summaries.
func (t Term) oneLine(family string) string {
	var b strings.Builder
	t.write(func(_ int, format string, args ...any) {
		b.WriteString(strings.TrimSpace(fmt.Sprintf(format, args...)))
		b.WriteByte(' ')
	}, 0, family)
	return strings.TrimSpace(b.String())
}

// Open connects over NETCONF in the dialect the host's data selects.
func (*Driver) Open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	return open(ctx, t)
}
