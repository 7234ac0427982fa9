package capirca

import (
	"path/filepath"
	"testing"

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
