package netacl_test

import (
	"context"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/aristaeos"
	"github.com/fwpush/fwpush/drivers/ciscoios"
	"github.com/fwpush/fwpush/drivers/cisconxos"
	"github.com/fwpush/fwpush/drivers/driverstest/routerlab"
	"github.com/fwpush/fwpush/internal/hostiletest"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// TestHostileWhysOnDevices pushes a policy whose flows carry the hostile
// corpus as their whys to each simulated platform: every line typed is
// accepted as a remark (nothing breaks out of it into a command of its
// own), the device reads back exactly what was rendered, and its
// configuration holds no other command than fwpush's.
func TestHostileWhysOnDevices(t *testing.T) {
	corpus := hostiletest.NewCanaries(t).Corpus()
	in := &intent.Intent{Host: "sim-1", Sets: []*intent.AddrSet{{Name: "web", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.18.10.11/32")}}}}
	var rules []*intent.Rule
	for i, p := range corpus {
		rules = append(rules, &intent.Rule{ID: p.Name, Kind: intent.FlowRule, Dst: "web", Proto: policy.TCP,
			Ports: []policy.PortRange{{Lo: uint16(1000 + i), Hi: uint16(1000 + i)}}, Flows: []int{i + 1}, Why: []string{p.Text}})
	}
	for _, tc := range []struct {
		p     drivers.Platform
		iface string
		base  string
	}{
		{ciscoios.Platform(), "GigabitEthernet0/1", "interface GigabitEthernet0/1\n!\narchive\n path flash:archive\n!\n"},
		{cisconxos.Platform(), "Ethernet1/1", "interface Ethernet1/1\n"},
		{aristaeos.Platform(), "Ethernet1", "interface Ethernet1\n!\n"},
	} {
		t.Run(tc.p.ID, func(t *testing.T) {
			cp := *in
			cp.Filters = []*intent.Filter{{Name: "FWPUSH-OUT", Rules: rules,
				Binding: intent.Binding{Kind: intent.Interface, Interface: tc.iface, Direction: "out"}}}
			want, err := tc.p.Driver.Render(&cp)
			require.NoError(t, err)
			lb := routerlab.StartLoopback(t, tc.p, tc.iface, tc.base)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			tr := drivers.Trial{Run: "hostile", Controller: "ctl", User: "test", Since: time.Unix(0, 0).UTC()}
			_, err = lb.Open(t).Apply(ctx, want, drivers.ApplyOptions{Trial: tr, ConfirmWithin: 5 * time.Minute})
			require.NoError(t, err)
			require.NoError(t, lb.Open(t).Confirm(ctx, tr))
			got, err := lb.Open(t).Fetch(ctx)
			require.NoError(t, err)
			assert.Equal(t, want.String(), got.String())
			remark := regexp.MustCompile(`^\s*(\d+ |sequence \d+ )?remark flow \d+: `)
			seen := 0
			for _, l := range strings.Split(lb.Device.RunningConfig(), "\n") {
				if strings.Contains(l, "pwned") {
					seen++
					assert.Regexp(t, remark, l, "a payload stays inside its remark")
				}
			}
			assert.Positive(t, seen, "the whys reached the device")
			for _, ev := range lb.Device.Events() {
				assert.NotEqual(t, "fault", ev.Kind, ev.Detail)
			}
		})
	}
}
