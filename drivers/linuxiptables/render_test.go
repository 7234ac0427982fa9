package linuxiptables

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

func TestRenderErrors(t *testing.T) {
	tests := map[string]struct {
		edit        func(in *intent.Intent)
		unsupported bool
	}{
		"interface binding": {edit: func(in *intent.Intent) {
			in.Filters = append(in.Filters, &intent.Filter{Name: "FWPUSH-ETH0-IN",
				Binding: intent.Binding{Kind: intent.Interface, Interface: "eth0", Direction: "in"}})
		}, unsupported: true},
		"protocol 0":  {edit: func(in *intent.Intent) { in.Filters[0].Rules[8].Proto = 0 }, unsupported: true},
		"unknown set": {edit: func(in *intent.Intent) { in.Filters[0].Rules[4].Src = "nope" }},
		"icmp type out of range": {edit: func(in *intent.Intent) {
			in.Filters[0].Rules[3].ICMP = []int{-1}
		}},
		"two input filters": {edit: func(in *intent.Intent) { in.Filters[1].Binding.Kind = intent.Input }},
		"duplicate set":     {edit: func(in *intent.Intent) { in.Sets = append(in.Sets, in.Sets[0]) }},
		"no filter":         {edit: func(in *intent.Intent) { in.Filters = nil }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := edgeIntent()
			tc.edit(in)
			_, err := New().Render(in)
			require.Error(t, err)
			require.NotContains(t, err.Error(), "edge-1", "the engine names the host, not the renderer")
			require.Equal(t, tc.unsupported, errors.Is(err, fault.ErrUnsupported), err.Error())
		})
	}
}

func TestPortMatches(t *testing.T) {
	r := func(lo, hi uint16) policy.PortRange { return policy.PortRange{Lo: lo, Hi: hi} }
	var fifteen, sixteen []policy.PortRange
	for p := uint16(1); p <= 16; p++ {
		if p <= 15 {
			fifteen = append(fifteen, r(p*10, p*10))
		}
		sixteen = append(sixteen, r(p*10, p*10))
	}
	tests := map[string]struct {
		in   []policy.PortRange
		want []string
	}{
		"one port":     {[]policy.PortRange{r(22, 22)}, []string{" -p tcp -m tcp --dport 22"}},
		"one range":    {[]policy.PortRange{r(8080, 8081)}, []string{" -p tcp -m tcp --dport 8080:8081"}},
		"several":      {[]policy.PortRange{r(80, 80), r(443, 443)}, []string{" -p tcp -m multiport --dports 80,443"}},
		"fifteen fit":  {fifteen, []string{" -p tcp -m multiport --dports 10,20,30,40,50,60,70,80,90,100,110,120,130,140,150"}},
		"sixteenth":    {sixteen, []string{" -p tcp -m multiport --dports 10,20,30,40,50,60,70,80,90,100,110,120,130,140,150", " -p tcp -m tcp --dport 160"}},
		"ranges count": {[]policy.PortRange{r(1, 2), r(4, 5), r(7, 8), r(10, 11), r(13, 14), r(16, 17), r(19, 20), r(22, 23)}, []string{" -p tcp -m multiport --dports 1:2,4:5,7:8,10:11,13:14,16:17,19:20", " -p tcp -m tcp --dport 22:23"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { require.Equal(t, tc.want, portMatches("tcp", tc.in)) })
	}
}

func TestQuote(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"bare":    {"web_1-a", " web_1-a"},
		"space":   {"a b", ` "a b"`},
		"empty":   {"", ` ""`},
		"escapes": {`it's "x" \ y`, ` "it\'s \"x\" \\ y"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { require.Equal(t, tc.want, quote(tc.in)) })
	}
}

func TestCapabilitiesAndOpen(t *testing.T) {
	c := New().Capabilities()
	require.True(t, c.IPv6 && c.HostFirewall && c.Logging)
	require.False(t, c.NetworkACL || c.AddressSets)
	_, err := New().Open(t.Context(), drivers.Target{})
	require.ErrorContains(t, err, "no host", "Open without a host is an error, not a panic")
}
