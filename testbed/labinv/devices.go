package labinv

import (
	"context"
	"errors"
	"fmt"

	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
)

// DeviceServer serves the management plane of the hosts of one platform
// the lab runs no sshd for (a simulated Windows host's WinRM, say), from
// inside each host's namespace (Lab.Listen). Tests register one per
// platform id; labinv knows no platform.
type DeviceServer interface {
	Serve(ctx context.Context, lab *testbed.Lab, h *inventory.Host) error
}

// Servers maps platform ids to the servers of their hosts.
type Servers map[string]DeviceServer

// SpecsWith is Specs plus, in the flat lab, every host whose platform has
// a server: a namespace without sshd, listening on the ports its flows
// open except its management port (its server's).
func SpecsWith(p *project.Project, servers Servers) []testbed.HostSpec {
	out := Specs(p)
	tcp, udp := flowPorts(p)
	for _, h := range p.Inv.Select(nil) {
		if _, ok := servers[h.Platform]; !ok || execHost(p.Inv, h) {
			continue
		}
		s := flatHost(h)
		s.NoSSHD = true
		s.TCP, s.UDP = ports(tcp[h.Name], uint16(h.Port)), ports(udp[h.Name], uint16(h.Port))
		out = append(out, s)
	}
	return out
}

// StartServers starts each host's server in lab, for the hosts SpecsWith
// (or Build) gave namespaces.
func StartServers(ctx context.Context, lab *testbed.Lab, p *project.Project, servers Servers) error {
	return StartInventoryServers(ctx, lab, p.Inv, servers)
}

// StartInventoryServers is StartServers for a lab built from an inventory
// alone (FromInventory: its routers).
func StartInventoryServers(ctx context.Context, lab *testbed.Lab, inv *inventory.Inventory, servers Servers) error {
	var errs []error
	for _, h := range inv.Select(nil) {
		s, ok := servers[h.Platform]
		if !ok || execHost(inv, h) || lab.Namespace(h.Name) == "" {
			continue
		}
		if err := s.Serve(ctx, lab, h); err != nil {
			errs = append(errs, fmt.Errorf("lab: %s (%s): %w", h.Name, h.Platform, err))
		}
	}
	return errors.Join(errs...)
}
