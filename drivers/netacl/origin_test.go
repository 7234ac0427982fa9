package netacl_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/aristaeos"
	"github.com/fwpush/fwpush/drivers/ciscoios"
	"github.com/fwpush/fwpush/drivers/cisconxos"
	"github.com/fwpush/fwpush/drivers/driverstest/routerlab"
)

// TestOrigin: each platform's session reads the address the device sees
// it come from in `show users` (its own line, among others), for the
// lock-out guard.
func TestOrigin(t *testing.T) {
	for _, tc := range []struct {
		p     drivers.Platform
		iface string
	}{{ciscoios.Platform(), "GigabitEthernet0/1"}, {cisconxos.Platform(), "Ethernet1/1"}, {aristaeos.Platform(), "Ethernet1"}} {
		t.Run(tc.p.ID, func(t *testing.T) {
			lb := routerlab.StartLoopback(t, tc.p, tc.iface, "")
			other := lb.Open(t) // another session on the device
			_ = other
			s := lb.Open(t)
			a, err := s.(drivers.OriginReporter).Origin(context.Background())
			require.NoError(t, err)
			assert.Equal(t, netip.MustParseAddr("127.0.0.1"), a)
		})
	}
}
