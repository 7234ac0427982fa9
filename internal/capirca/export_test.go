package capirca

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExportGolden(t *testing.T) {
	p := loadSeed(t, filepath.Join("..", "..", "inventory", "examples", "clearwater"), filepath.Join("..", "..", "playbooks", "clearwater.yml"))
	ex, err := ExportProject(p, ExportOptions{})
	require.NoError(t, err)
	golden(t, "export/clearwater/pol/clearwater.pol", ex.Policy)
	golden(t, "export/clearwater/def/NETWORK.net", ex.Networks)
	golden(t, "export/clearwater/def/SERVICES.svc", ex.Services)
	require.Equal(t, []string{"flow 2 (line 95): feature snmp is off", "flow 10 (line 144): feature hss is off",
		"flow 11 (line 149): feature memento is off", "flow 19 (line 190): feature memento is off",
		"flow 21 (line 201): feature memento is off"}, ex.Left)
}

func TestExportRefusesTargetWithoutMixed(t *testing.T) {
	p := loadSeed(t, filepath.Join("..", "..", "inventory", "examples", "clearwater"), filepath.Join("..", "..", "playbooks", "clearwater.yml"))
	_, err := ExportProject(p, ExportOptions{Targets: []string{"iptables"}})
	require.ErrorContains(t, err, "--target iptables: fwpush writes dual-stack (mixed) filters for")
}

// TestExportLanguage: a reject flow is a Capirca reject term; host:NAME,
// management and a prefix each get a token of their own; per-role egress,
// which a Capirca header cannot say, is listed as left out.
func TestExportLanguage(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "p.yml")
	require.NoError(t, os.WriteFile(pb, []byte(`name: p
options: {egress: [web]}
roles: {web: {}, app: {}, db: {}}
flows:
  - {from: ['host:web-1', management, 198.19.7.0/24], to: app, ports: [tcp/23], action: reject, why: telnet answered}
`), 0o644))
	p := loadSeed(t, filepath.Join("..", "..", "inventory", "examples", "webapp"), pb)
	ex, err := ExportProject(p, ExportOptions{})
	require.NoError(t, err)
	assert.Contains(t, ex.Policy, "source-address:: HOST_WEB_1 FWPUSH_MANAGEMENT NET_198_19_7_0_24")
	assert.Contains(t, ex.Policy, "action:: reject")
	assert.Contains(t, ex.Networks, "HOST_WEB_1 = 198.18.9.11/32")
	assert.Contains(t, ex.Networks, "FWPUSH_MANAGEMENT = 198.18.0.0/24")
	assert.Contains(t, ex.Networks, "NET_198_19_7_0_24 = 198.19.7.0/24")
	assert.Contains(t, ex.Left, "options.egress: output filtering of roles web only")
}
