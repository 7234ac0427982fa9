package routerlab

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// outbound is an Intent filtering iface outbound: web traffic to one host.
func outbound(iface, host string) *intent.Intent {
	return &intent.Intent{Host: "sim-1", Sets: []*intent.AddrSet{{Name: "web", Prefixes: []netip.Prefix{netip.MustParsePrefix(host + "/32")}}},
		Filters: []*intent.Filter{{Name: "FWPUSH-OUT", Binding: intent.Binding{Kind: intent.Interface, Interface: iface, Direction: "out"},
			Rules: []*intent.Rule{{ID: "flow-1", Kind: intent.FlowRule, Dst: "web", Proto: policy.TCP, Ports: []policy.PortRange{{Lo: 80, Hi: 80}}}}}}}
}

// TestLoader: a platform's Load takes a render binding an interface its
// device lacks (the device starts again with it, the previous config
// carried over, then replaced by the render), keeps its device while the
// interfaces are there, and fails when the device refuses a line.
func TestLoader(t *testing.T) {
	for _, tc := range []struct{ platform, a, b string }{
		{"cisco-ios", "GigabitEthernet0/1", "GigabitEthernet0/2"},
		{"cisco-nxos", "Ethernet1/1", "Ethernet1/2"},
		{"arista-eos", "Ethernet1", "Ethernet2"},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			t.Parallel()
			p, ok := all.Registry().Lookup(tc.platform)
			require.True(t, ok)
			render := func(in *intent.Intent) drivers.Config {
				c, err := p.Driver.Render(in)
				require.NoError(t, err)
				return c
			}
			l := newLoader(t, p)
			require.NoError(t, l.try(t, render(outbound(tc.a, "198.18.10.11"))))
			first := l.dev

			require.NoError(t, l.try(t, render(outbound(tc.b, "198.18.10.12"))))
			assert.NotSame(t, first, l.dev, "a device with the new interface")
			run := l.dev.Device.RunningConfig()
			assert.Contains(t, run, "interface "+tc.a+"\n", "the old interface is still there")
			assert.NotContains(t, strings.ToLower(run), "198.18.10.11", "the carried render was replaced")

			second := l.dev
			require.NoError(t, l.try(t, render(outbound(tc.a, "198.18.10.13"))))
			assert.Same(t, second, l.dev, "the device had the interface")

			l.dev.Device.RejectLine(3)
			err := l.try(t, render(outbound(tc.b, "198.18.10.14")))
			require.Error(t, err, "a refused line fails the load")
			assert.ErrorContains(t, err, "apply")
		})
	}
}
