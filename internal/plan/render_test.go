package plan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/project"
)

// TestACLNotes: a router's plan says, per ACL, what it filters and that
// the rest passes; a host's says nothing.
func TestACLNotes(t *testing.T) {
	p, err := project.Load(project.Options{Inventory: "../../inventory/examples/satellite-junos", Playbook: "../../playbooks/satellite.yml"})
	require.NoError(t, err)
	d, err := Render(p, "sat-rtr-1")
	require.NoError(t, err)
	require.Len(t, d.Notes, 2)
	assert.Contains(t, d.Notes[0], "ACL FWPUSH-GE-0-0-1-0-OUT (ge-0/0/1.0 out) filters what goes to satellite, capsule")
	assert.Contains(t, d.Notes[1], "filters what comes from client")
	assert.Contains(t, d.Notes[1], "passes all other traffic, which it does not protect")
	h, err := Render(p, "capsule-1")
	require.NoError(t, err)
	assert.Empty(t, h.Notes)
}
