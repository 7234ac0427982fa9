package policy

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEndpoint(t *testing.T) {
	tests := map[string]struct {
		in      string
		kind    EndpointKind
		name    string
		wantErr string
	}{
		"any":                  {in: "any", kind: EndpointAny, name: "any"},
		"management":           {in: "management", kind: EndpointManagement, name: "management"},
		"host":                 {in: "host:web-1", kind: EndpointHost, name: "web-1"},
		"host without a name":  {in: "host:", wantErr: "names no host"},
		"ipv4 prefix":          {in: "198.18.5.0/24", kind: EndpointPrefix, name: "198.18.5.0/24"},
		"ipv4 address is /32":  {in: "198.18.5.7", kind: EndpointPrefix, name: "198.18.5.7/32"},
		"ipv6 prefix":          {in: "2001:db8::/48", kind: EndpointPrefix, name: "2001:db8::/48"},
		"ipv6 address is /128": {in: "2001:db8::7", kind: EndpointPrefix, name: "2001:db8::7/128"},
		"host bits set":        {in: "198.18.5.7/24", wantErr: "write the network 198.18.5.0/24, or the single address 198.18.5.7"},
		"zone":                 {in: "fe80::1%eth0", wantErr: "has a zone"},
		"ipv4-mapped":          {in: "::ffff:198.18.5.7", wantErr: "write the IPv4 form"},
		"not a prefix":         {in: "198.18.5.0/33", wantErr: "is not a prefix"},
		"not an address":       {in: "198.18.5", wantErr: "is not an address"},
		"role with digits":     {in: "5g-core", kind: EndpointName, name: "5g-core"},
		"role all digits":      {in: "10", kind: EndpointName, name: "10"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := ParseEndpoint(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.kind, e.Kind)
			assert.Equal(t, tt.name, e.Name)
			if tt.kind == EndpointPrefix {
				assert.Equal(t, netip.MustParsePrefix(tt.name), e.Prefix)
			}
		})
	}
}

// language is a playbook using every flow-level key the language has.
const language = `name: t
options:
  egress: [app]
  dns: [198.19.9.53, host:dns-1]
  ntp: [ntp]
  features: {debug: false}
roles:
  web: {}
  app: {}
  ntp: {}
flows:
  - name: web-to-app
    from: web
    to: app
    ports: [tcp/8080, udp/8080]
    why: proxy
  - from: [host:web-1, 198.18.7.0/24, management]
    to: app
    ports: [tcp/23]
    action: reject
    why: telnet is answered, not silently dropped
  - from: any
    to: app
    ports: [tcp/9999]
    action: drop
    feature: debug
    why: debug port
`

func TestFlowLanguage(t *testing.T) {
	pb, err := Parse("t.yml", []byte(language))
	require.NoError(t, err)
	require.Len(t, pb.Flows, 3)
	f1, f2, f3 := pb.Flows[0], pb.Flows[1], pb.Flows[2]
	assert.Equal(t, []int{1, 2, 3}, []int{f1.ID, f2.ID, f3.ID}, "flows are numbered from 1, as the file reads")
	assert.Equal(t, "flow 1 (web-to-app)", f1.Label())
	assert.Equal(t, "flow 2", f2.Label())
	assert.Same(t, f2, pb.Flow(2))
	assert.Nil(t, pb.Flow(0))
	assert.Nil(t, pb.Flow(4))
	assert.True(t, f2.Deny && f2.Reject, "reject is a deny that answers")
	assert.True(t, f3.Deny && !f3.Reject, "drop stays silent")
	assert.Equal(t, Egress{Roles: []string{"app"}}, pb.Options.Egress)
	assert.True(t, pb.Options.Egress.On())
	assert.Equal(t, []string{"198.19.9.53", "host:dns-1"}, pb.Options.DNS)
	assert.Equal(t, []string{"ntp"}, pb.Options.NTP)
	assert.Empty(t, pb.Warnings)
}

func TestFlowLanguageErrors(t *testing.T) {
	flow := func(extra string) string {
		return "name: t\nroles: {web: {}}\nflows:\n  - {from: web, to: web, ports: [tcp/1], why: x" + extra + "}\n"
	}
	tests := map[string]struct {
		pb   string
		want []string
	}{
		"duplicate flow name": {"name: t\nroles: {web: {}}\nflows:\n  - {name: a, from: web, to: web, ports: [tcp/1], why: x}\n  - {name: a, from: web, to: web, ports: [tcp/2], why: y}\n",
			[]string{"t.yml:5", "flows[1].name", `flow name "a" is already flow 1 (a)'s (line 4)`}},
		"bad flow name":  {flow(", name: Web_App"), []string{"t.yml:4", "flows[0].name", `flow name "Web_App"`}},
		"unknown action": {flow(", action: refuse"), []string{"flows[0].action", "permit, deny or reject"}},
		"bad prefix":     {"name: t\nroles: {web: {}}\nflows:\n  - {from: 198.18.5.7/24, to: web, ports: [tcp/1], why: x}\n", []string{"t.yml:4", "flows[0].from[0]", "address bits set past /24"}},
		"egress role":    {"name: t\noptions: {egress: [wbe]}\nroles: {web: {}}\nflows:\n  - {from: web, to: web, ports: [tcp/1], why: x}\n", []string{"t.yml:2", "options.egress[0]", `"wbe" is not a declared role`}},
		"egress shape":   {"name: t\noptions: {egress: {a: b}}\nroles: {web: {}}\nflows:\n  - {from: web, to: web, ports: [tcp/1], why: x}\n", []string{"t.yml:2:19", "not a map"}},
		"bad dns":        {"name: t\noptions: {egress: true, dns: ['host:']}\nroles: {web: {}}\nflows:\n  - {from: web, to: web, ports: [tcp/1], why: x}\n", []string{"options.dns[0]", "names no host"}},
		"host:NAME read as a map": {"name: t\noptions: {egress: true, dns: [host:dns-1]}\nroles: {web: {}}\nflows:\n  - {from: web, to: web, ports: [tcp/1], why: x}\n",
			[]string{"t.yml:2", "quote it ('host:NAME')"}},
		"role management": {"name: t\nroles: {management: {}}\nflows:\n  - {from: any, to: any, ports: [tcp/1], why: x}\n", []string{"roles.management", "'management', which are built in"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("t.yml", []byte(tt.pb))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// DNS or NTP servers declared while no host filters its output change
// nothing: a warning says so.
func TestEssentialEgressWithoutEgressWarns(t *testing.T) {
	pb, err := Parse("t.yml", []byte("name: t\noptions: {dns: [198.19.9.53]}\nroles: {web: {}}\nflows:\n  - {from: web, to: web, ports: [tcp/1], why: x}\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"t.yml:2:11: options.dns: options.dns changes nothing: no host filters its output (options.egress is off)"}, pb.Warnings)
}

func TestSetFeatures(t *testing.T) {
	pb, err := Parse("t.yml", []byte(language))
	require.NoError(t, err)
	debug := pb.Flows[2]
	require.False(t, pb.Enabled(debug))
	require.NoError(t, pb.SetFeatures(map[string]bool{"debug": true}))
	assert.True(t, pb.Enabled(debug), "--feature debug turns it on")
	require.NoError(t, pb.SetFeatures(map[string]bool{"debug": false}))
	assert.False(t, pb.Enabled(debug), "--no-feature debug turns it off")
	err = pb.SetFeatures(map[string]bool{"debgu": true, "hss": false})
	require.Error(t, err)
	assert.Equal(t, `t.yml: feature "debgu", "hss" is not declared in options.features (declared: debug)`, err.Error())
	assert.False(t, pb.Enabled(debug), "a refused set changes nothing")
	assert.True(t, strings.HasPrefix(err.Error(), pb.File))
}
