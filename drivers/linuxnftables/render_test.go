package linuxnftables

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
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
		"unknown set": {edit: func(in *intent.Intent) { in.Filters[0].Rules[4].Src = "nope" }},
		"icmp type out of range": {edit: func(in *intent.Intent) {
			in.Filters[0].Rules[3].ICMP = []int{256}
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

func TestIdentifiers(t *testing.T) {
	got := identifiers([]string{"web", "5g-core", "a.b", "a_b", "app_db", string(make([]byte, 300))})
	require.Equal(t, "web", got["web"])
	require.Equal(t, "_5g-core", got["5g-core"])
	require.Equal(t, "app_db", got["app_db"])
	require.NotEqual(t, got["a.b"], got["a_b"], "collisions are told apart")
	require.Regexp(t, `^a_b_[0-9a-f]{8}$`, got["a.b"])
	require.LessOrEqual(t, len(got[string(make([]byte, 300))]), maxIdent)
}

func TestComment(t *testing.T) {
	long := strings.Repeat("word ", 30)
	tests := map[string]struct {
		flows []int
		why   []string
		want  string
	}{
		"quotes":        {nil, []string{`say "hi"`}, `say 'hi'`},
		"controls":      {nil, []string{"a\tb\nc"}, "a b c"},
		"always-on":     {nil, []string{"fwpush management access (always on)"}, "fwpush management access (always on)"},
		"numbered":      {[]int{3}, []string{"Bono forwards SIP"}, "flow 3: Bono forwards SIP"},
		"merged":        {[]int{3, 5}, []string{"one", "two"}, "flow 3: one; flow 5: two"},
		"cut at a word": {[]int{1}, []string{long}, "flow 1: " + strings.TrimSpace(strings.Repeat("word ", 23)) + "…"},
		// 128 bytes hold both numbers and a share of both reasons.
		"merged and cut": {[]int{3, 5}, []string{long, long}, "flow 3: " + strings.TrimSpace(strings.Repeat("word ", 10)) + "…; flow 5: " +
			strings.TrimSpace(strings.Repeat("word ", 10)) + "…"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := comment(&intent.Rule{Flows: tc.flows, Why: tc.why})
			require.Equal(t, tc.want, got)
			require.LessOrEqual(t, len(got), maxComment)
		})
	}
	require.Equal(t, "fwpush input flow-1: ", logPrefix("fwpush input flow-1: ", 127), "a log prefix keeps its space")
}

func TestCapabilitiesAndOpen(t *testing.T) {
	c := New().Capabilities()
	require.True(t, c.IPv6 && c.HostFirewall && c.AddressSets && c.Logging)
	require.False(t, c.NetworkACL)
	_, err := New().Open(t.Context(), drivers.Target{})
	require.ErrorContains(t, err, "no host", "Open without a host is an error, not a panic")
}

func TestApplyScript(t *testing.T) {
	cfg, err := New().Render(edgeIntent())
	require.NoError(t, err)
	s := ApplyScript(cfg)
	require.Equal(t, "table inet fwpush\ndelete table inet fwpush\n"+cfg.Part(PartName), s)
	require.Equal(t, "table inet fwpush\ndelete table inet fwpush\n", ApplyScript(drivers.Config{}))
}
