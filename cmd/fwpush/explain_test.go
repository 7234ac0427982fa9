package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExplainICMPTakesTypes: ICMP has types, not ports. --port with icmp
// used to print "icmp/13" and evaluate echo-request; it is refused now,
// --icmp-type names the type, and the printed query is what is evaluated.
func TestExplainICMPTakesTypes(t *testing.T) {
	explain := []string{"explain", "-i", cwInv, "-p", cwPB, "--from", "any", "--to", "homer"}
	cases := map[string]struct {
		args []string
		code int
		want string
	}{
		"icmp --port refused": {append(explain, "--proto", "icmp", "--port", "13"), exitError,
			"--port: icmp has no ports, it has types: give the type with --icmp-type (--icmp-type timestamp-request is type 13)"},
		"icmpv6 --port refused":  {append(explain, "--proto", "icmpv6", "--port", "128"), exitError, "--port: icmpv6 has no ports"},
		"icmp type by number":    {append(explain, "--proto", "icmp", "--icmp-type", "13"), exitDenied, "any → homer icmp/timestamp-request: DENIED"},
		"icmp type by name":      {append(explain, "--proto", "icmp", "--icmp-type", "timestamp-request"), exitDenied, "icmp/timestamp-request: DENIED"},
		"icmp default echo":      {append(explain, "--proto", "icmp"), exitOK, "any → homer icmp/echo-request: PERMITTED"},
		"icmp type out of range": {append(explain, "--proto", "icmp", "--icmp-type", "256"), exitError, "--icmp-type: unknown icmp type"},
		"tcp --icmp-type":        {append(explain, "--proto", "tcp", "--port", "22", "--icmp-type", "8"), exitError, "--icmp-type: only for icmp and icmpv6, not tcp"},
		"gre --port":             {append(explain, "--proto", "gre", "--port", "5"), exitError, "--port: gre has no ports"},
		"tcp prints its port":    {[]string{"explain", "-i", cwInv, "-p", cwPB, "--from", "bono", "--to", "sprout", "--proto", "tcp", "--port", "5054"}, exitOK, "bono → sprout tcp/5054: PERMITTED"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := fwpush(t, tc.args...)
			assert.Equal(t, tc.code, code, "%s\n%s", out, errOut)
			assert.Contains(t, out+errOut, tc.want)
		})
	}

	// JSON names the type evaluated, echo-reply (type 0) included.
	code, out, errOut := fwpush(t, append(explain, "--proto", "icmp", "--icmp-type", "echo-reply", "--format", "json")...)
	require.Contains(t, []int{exitOK, exitDenied}, code, errOut)
	var res struct {
		Query map[string]any `json:"query"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, map[string]any{"from": "any", "to": "homer", "proto": "icmp", "icmp_type": 0.0}, res.Query)
}
