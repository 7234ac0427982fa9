package openconfig

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/netconfdev"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/transport/netconf"
	"github.com/fwpush/fwpush/inventory"
)

// ID is the platform id inventories use.
const ID = "openconfig"

// Platform registers the driver: NETCONF on port 830.
func Platform() drivers.Platform {
	return drivers.Platform{ID: ID, Aliases: []string{"oc", "openconfig-acl"}, Transport: drivers.NETCONF, Port: 830, Driver: New()}
}

// PartName names the single config part.
const PartName = "openconfig"

// Driver renders Intents as OpenConfig ACLs.
type Driver struct{}

// New returns the OpenConfig driver.
func New() *Driver { return &Driver{} }

// Capabilities: interface ACLs, IPv4 and IPv6, prefix and port sets,
// syslog, reject, ICMP types (those with an openconfig identity); stateless.
// RFC 6241's confirm-timeout counts seconds.
func (*Driver) Capabilities() drivers.Capabilities {
	return drivers.Capabilities{NetworkACL: true, IPv6: true, AddressSets: true, PortSets: true, Logging: true, Reject: true,
		ICMPTypes: true, CommitConfirm: true, TimerGranularity: time.Second}
}

// Render returns the owned configuration in canonical form.
func (*Driver) Render(in *intent.Intent) (drivers.Config, error) {
	c, err := build(in)
	if err != nil {
		return drivers.Config{}, err
	}
	return c.config(), nil
}

// Parse reads a canonical config back: every entry with its ACL set, and
// every prefix and port set.
func (*Driver) Parse(dc drivers.Config) (drivers.Ruleset, error) {
	c, err := parseText(dc.Part(PartName))
	if err != nil {
		return drivers.Ruleset{}, fmt.Errorf("openconfig config: %w", err)
	}
	rs := drivers.Ruleset{Sets: map[string][]string{}}
	for _, s := range c.PrefixSets {
		var elems []string
		for _, p := range s.Prefixes {
			elems = append(elems, p.String())
		}
		rs.Sets[fmt.Sprintf("%s (IPv%d)", s.Name, s.Family)] = elems
	}
	for _, s := range c.PortSets {
		rs.Sets[s.Name] = s.Ports
	}
	for _, s := range c.ACLSets {
		for _, e := range s.Entries {
			line := drivers.RuleLine{Filter: s.Name + " " + s.Type, Text: s.Name + " " + s.Type + ": " + e.oneLine()}
			switch e.Action {
			case "ACCEPT":
				line.Action = drivers.PermitAction
			case "DROP", "REJECT":
				line.Action = drivers.DenyAction
			}
			rs.Rules = append(rs.Rules, line)
		}
	}
	return rs, nil
}

// oneLine is an entry's match and action, for summaries (without its
// sequence number and description, which move when entries are added).
func (e Entry) oneLine() string {
	var parts []string
	for _, f := range [][2]string{{"src", e.SrcAddr}, {"src-set", e.SrcSet}, {"dst", e.DstAddr}, {"dst-set", e.DstSet},
		{"protocol", e.Protocol}, {"icmp", e.ICMPType}, {"sport", e.SrcPort}, {"sport-set", e.SrcPortSet},
		{"dport", e.DstPort}, {"dport-set", e.DstPortSet}} {
		if f[1] != "" {
			parts = append(parts, f[0]+" "+f[1])
		}
	}
	if e.TCPEstablished {
		parts = append(parts, "tcp-established")
	}
	parts = append(parts, e.Action)
	if e.Log {
		parts = append(parts, "log")
	}
	return strings.Join(parts, " ")
}

// Open connects over NETCONF (RFC 6241, :candidate and
// :confirmed-commit:1.1).
func (*Driver) Open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	c, err := netconfdev.Dial(ctx, t)
	if err != nil {
		return nil, err
	}
	if !c.HasCapability(netconf.CapCandidate) || !c.HasCapability(netconf.CapConfirmedCommit11) {
		c.Close()
		return nil, errors.New("the device does not offer :candidate and :confirmed-commit:1.1")
	}
	sets, err := hostDefinedSets(t.Host)
	if err != nil {
		c.Close()
		return nil, err
	}
	return netconfdev.NewSession(c, netconfdev.Standard{S: c, Filter: fetchFilter}, schema{sets: sets}), nil
}

// DataDefinedSets is the inventory data key saying the device takes
// openconfig-defined-sets references in ACL entries (true), or gets every
// entry written out (false, the default; see expand).
const DataDefinedSets = "openconfig_defined_sets"

func hostDefinedSets(h *inventory.Host) (bool, error) {
	switch v := h.Data[DataDefinedSets].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	}
	return false, fmt.Errorf("data.%s is %v: want true or false", DataDefinedSets, h.Data[DataDefinedSets])
}
