package driverstest

import (
	"context"
	"errors"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/intent"
)

// errStandIn is what a stand-in answers when asked to do a driver's work.
var errStandIn = errors.New("stand-in platform for tests: it registers a name and capabilities, it renders and connects to nothing")

// StandIn is a platform registration for tests that load inventories
// naming a platform without exercising its driver (lab layout, inventory
// formats): it has the id, aliases, transport, port and capabilities a
// test gives it, and its driver refuses to render or connect.
func StandIn(id string, aliases []string, transport drivers.Transport, port int, caps drivers.Capabilities) drivers.Platform {
	return drivers.Platform{ID: id, Aliases: aliases, Transport: transport, Port: port, Driver: standIn{caps}}
}

type standIn struct{ caps drivers.Capabilities }

func (s standIn) Render(*intent.Intent) (drivers.Config, error) { return drivers.Config{}, errStandIn }

func (s standIn) Open(context.Context, drivers.Target) (drivers.Session, error) {
	return nil, errStandIn
}

func (s standIn) Capabilities() drivers.Capabilities { return s.caps }

// WithStandIns returns reg plus stand-ins for the given platforms, for
// tests whose inventories name platforms reg does not ship.
func WithStandIns(reg *drivers.Registry, ps ...drivers.Platform) *drivers.Registry {
	for _, p := range ps {
		if _, ok := reg.Lookup(p.ID); ok {
			continue
		}
		if err := reg.Register(p); err != nil {
			panic(err)
		}
	}
	return reg
}

// LabRegistry is fwpush's registry plus stand-ins for the router and
// Windows platforms the lab's test inventories name (cisco-ios, windows)
// while their drivers are not registered: laying out a lab needs their
// names, transports and capabilities, never their drivers.
func LabRegistry() *drivers.Registry {
	return WithStandIns(all.Registry(),
		StandIn("cisco-ios", []string{"cisco_iosxe"}, drivers.CLI, 22,
			drivers.Capabilities{NetworkACL: true, IPv6: true, ICMPTypes: true, Logging: true}),
		StandIn("windows", nil, drivers.WinRM, 5986,
			drivers.Capabilities{HostFirewall: true, Egress: true, IPv6: true, ICMPTypes: true, Logging: true}))
}
