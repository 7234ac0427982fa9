package plan

import (
	"context"
	"fmt"
	"net"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/inventory"
)

// DriverOpener opens sessions through each host's platform driver with the
// run's transport options. dial may be nil (the system dialer).
func DriverOpener(reg *drivers.Registry, inv *inventory.Inventory, opts drivers.TransportOptions,
	dial func(ctx context.Context, network, addr string) (net.Conn, error)) Opener {
	return func(ctx context.Context, host string) (drivers.Session, error) {
		h := inv.Hosts[host]
		if h == nil {
			return nil, fmt.Errorf("no host %q", host)
		}
		drv, err := reg.Get(h.Platform)
		if err != nil {
			return nil, err
		}
		return drv.Open(ctx, drivers.Target{Host: h, Dial: dial, Options: opts})
	}
}
