package explain

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
)

// TestQueryValidateAndString: what a query prints is what it evaluates;
// a query that could print one thing and evaluate another is refused.
func TestQueryValidateAndString(t *testing.T) {
	good := map[string]Query{
		"tcp/5054":               {From: "a", To: "b", Proto: policy.TCP, Port: 5054},
		"icmp/echo-request":      {From: "a", To: "b", Proto: policy.ICMP, ICMPType: 8},
		"icmp/echo-reply":        {From: "a", To: "b", Proto: policy.ICMP, ICMPType: 0},
		"icmp/timestamp-request": {From: "a", To: "b", Proto: policy.ICMP, ICMPType: 13},
		"icmpv6/echo-request":    {From: "a", To: "b", Proto: policy.ICMPv6, ICMPType: 128},
		"icmp/200":               {From: "a", To: "b", Proto: policy.ICMP, ICMPType: 200},
		"gre":                    {From: "a", To: "b", Proto: policy.GRE},
	}
	for want, q := range good {
		assert.NoError(t, q.Validate(), want)
		assert.Equal(t, want, q.String())
	}
	bad := map[string]Query{
		"--from and --to are required":             {To: "b", Proto: policy.TCP, Port: 1},
		"--port: 0 is outside 1-65535":             {From: "a", To: "b", Proto: policy.UDP},
		"--port: icmp has no ports, it has types":  {From: "a", To: "b", Proto: policy.ICMP, Port: 13, ICMPType: 8},
		"--icmp-type timestamp-request is type 13": {From: "a", To: "b", Proto: policy.ICMP, Port: 13},
		"--icmp-type: 300 is outside 0-255":        {From: "a", To: "b", Proto: policy.ICMP, ICMPType: 300},
		"--port: gre has no ports":                 {From: "a", To: "b", Proto: policy.GRE, Port: 5},
		"--icmp-type: only for icmp and icmpv6":    {From: "a", To: "b", Proto: policy.TCP, Port: 22, ICMPType: 8},
	}
	for want, q := range bad {
		err := q.Validate()
		if assert.Error(t, err, want) {
			assert.Contains(t, err.Error(), want)
		}
	}
}

// TestRunContextStops: a cancelled context stops the evaluation.
func TestRunContextStops(t *testing.T) {
	p, err := project.Load(project.Options{Inventory: "../../inventory/examples/clearwater", Playbook: "../../playbooks/clearwater.yml"})
	require.NoError(t, err)
	q := Query{From: "any", To: "sprout", Proto: policy.TCP, Port: 5054}
	_, err = RunContext(context.Background(), p, q)
	require.NoError(t, err)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(context.Canceled)
	_, err = RunContext(ctx, p, q)
	assert.ErrorIs(t, err, context.Canceled)
}
