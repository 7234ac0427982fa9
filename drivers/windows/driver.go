package windows

import (
	"context"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/intent"
)

// ID is the platform id inventories use.
const ID = "windows"

// PartName names the config's one part.
const PartName = "windows-firewall"

// Platform registers the driver: Windows hosts are reached over WinRM on
// HTTPS (5986) unless their data says ssh.
func Platform() drivers.Platform {
	return drivers.Platform{ID: ID, Aliases: []string{"win",
		// Ansible's ansible_connection for Windows hosts: the inventory reads it as the platform
		"winrm", "psrp"}, Transport: drivers.WinRM, Port: 5986, Driver: New()}
}

// Driver renders Intents into Windows Defender Firewall rules.
type Driver struct{}

// New returns the driver.
func New() *Driver { return &Driver{} }

// Capabilities: inbound host filtering, IPv4 and IPv6, stateful, ICMP
// types. No egress (default-deny outbound is a profile setting outside
// fwpush's group), no logging (a profile setting too), no named sets
// (addresses are listed in each rule). The revert is a scheduled task whose
// trigger is a time to the second.
func (*Driver) Capabilities() drivers.Capabilities {
	return drivers.Capabilities{HostFirewall: true, IPv6: true, Stateful: true, Reject: false, ICMPTypes: true,
		CommitConfirm: true, TimerGranularity: time.Second}
}

// Render returns the group's rules in canonical form.
func (*Driver) Render(in *intent.Intent) (drivers.Config, error) {
	t, err := render(in)
	if err != nil {
		return drivers.Config{}, err
	}
	return config(t), nil
}

func config(text string) drivers.Config {
	return drivers.Config{Platform: ID, Parts: []drivers.Part{{Name: PartName, Text: text}}}
}

// Open connects over the host's transport.
func (*Driver) Open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	r, err := dial(ctx, t)
	if err != nil {
		return nil, err
	}
	return &Session{host: t.Host.Name, r: r}, nil
}

// Parse reads a config back into rules for the semantic diff: one line per
// rule, its matches and action, under the filter "inbound" or "outbound".
func (*Driver) Parse(c drivers.Config) (drivers.Ruleset, error) {
	rules, err := rulesOf(c)
	if err != nil {
		return drivers.Ruleset{}, err
	}
	var rs drivers.Ruleset
	for _, r := range rules {
		a := drivers.PermitAction
		if r.Action == "block" {
			a = drivers.DenyAction
		}
		line := summary(r)
		if !r.Enabled {
			a = ""
			line += " (disabled)"
		}
		rs.Rules = append(rs.Rules, drivers.RuleLine{Filter: r.Direction, Text: r.Direction + ": " + line, Action: a})
	}
	return rs, nil
}

// summary is one rule's match and action as one line.
func summary(r rule) string {
	s := r.Action + " " + r.Protocol
	for _, kv := range []struct {
		k  string
		vs []string
	}{{"local-port", r.LocalPort}, {"remote-port", r.RemotePort}, {"icmp-type", r.IcmpType},
		{"local-address", prefixStrings(r.LocalAddress)}, {"remote-address", prefixStrings(r.RemoteAddress)}} {
		if len(kv.vs) > 0 {
			s += " " + kv.k + " " + joinComma(kv.vs)
		}
	}
	if r.Profile != "any" {
		s += " profile " + r.Profile
	}
	return s
}

func joinComma(vs []string) string {
	out := ""
	for i, v := range vs {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}
