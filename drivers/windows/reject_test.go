package windows_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// TestRenderRefusesReject: Windows Firewall cannot answer a blocked
// packet, so a rule asking for an answer is refused, never rendered as a
// silent Block (compile turns it into a deny first, with a warning).
func TestRenderRefusesReject(t *testing.T) {
	in := &intent.Intent{Host: "win-1", Platform: "windows", Filters: []*intent.Filter{{Name: "input", Binding: intent.Binding{Kind: intent.Input},
		Rules: []*intent.Rule{{ID: "flow-2", Kind: intent.FlowRule, Deny: true, Reject: true, Proto: policy.TCP,
			Ports: []policy.PortRange{{Lo: 23, Hi: 23}}, Flows: []int{2}, Why: []string{"telnet is answered"}}}}}}
	_, err := windows.New().Render(in)
	require.Error(t, err)
	assert.ErrorIs(t, err, fault.ErrUnsupported)
	assert.Contains(t, err.Error(), "rule flow-2: a reject")

	in.Filters[0].Rules[0].Reject = false
	_, err = windows.New().Render(in)
	require.NoError(t, err, "the same deny without reject is a Block")
}
