package main

import (
	"encoding/json"
	"strings"
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

// TestExplainThroughARouter: the text names each router ACL with its
// interface and direction, and marks the check that decides.
func TestExplainThroughARouter(t *testing.T) {
	inv, pb := "../../inventory/examples/satellite-junos", "../../playbooks/satellite.yml"
	code, out, errOut := fwpush(t, "explain", "-i", inv, "-p", pb, "--from", "client-1", "--to", "capsule-1", "--port", "9")
	assert.Equal(t, exitDenied, code, errOut)
	assert.Contains(t, out, "sat-rtr-1/FWPUSH-GE-0-0-2-0-IN (ge-0/0/2.0 in): deny by protect — default deny for the protected addresses  ← decides")
	assert.Contains(t, out, "sat-rtr-1/FWPUSH-GE-0-0-1-0-OUT (ge-0/0/1.0 out): deny by protect")
	assert.Contains(t, out, "capsule-1/input: deny by default-deny\n")
	assert.Equal(t, 2, strings.Count(out, "← decides"), "one per path (IPv4, IPv6)")

	code, out, errOut = fwpush(t, "explain", "-i", inv, "-p", pb, "--from", "client-1", "--to", "capsule-1", "--port", "9", "--format", "json")
	assert.Equal(t, exitDenied, code, errOut)
	var res struct {
		Paths []struct {
			DecidedBy string `json:"decided_by"`
			Checks    []struct {
				Interface string `json:"interface"`
				Direction string `json:"direction"`
				Decides   bool   `json:"decides"`
			} `json:"checks"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.NotEmpty(t, res.Paths)
	assert.Equal(t, "sat-rtr-1/FWPUSH-GE-0-0-2-0-IN", res.Paths[0].DecidedBy)
	assert.Equal(t, "ge-0/0/2.0", res.Paths[0].Checks[0].Interface)
	assert.Equal(t, "in", res.Paths[0].Checks[0].Direction)
	assert.True(t, res.Paths[0].Checks[0].Decides)
	assert.False(t, res.Paths[0].Checks[1].Decides)
}

// TestExplainSpace: a question over the world is answered for all of it:
// partly permitted, one part per treatment with an example each, in text
// and JSON; --port takes a range or any.
func TestExplainSpace(t *testing.T) {
	inv, pb := "../../internal/explain/testdata/space/inventory", "../../internal/explain/testdata/space/playbook.yml"
	explain := []string{"explain", "-i", inv, "-p", pb, "--to", "web"}
	code, out, errOut := fwpush(t, append(explain, "--from", "any", "--port", "443")...)
	assert.Equal(t, exitDenied, code, errOut)
	assert.Contains(t, out, "any → web tcp/443: PARTLY PERMITTED\n")
	assert.Contains(t, out, "  permit from any IPv4 except ")
	assert.Contains(t, out, "  DENY   from blocked (203.0.113.0/25) to web IPv4 port 443\n")
	assert.Contains(t, out, "      e.g. blocked (203.0.113.10) → web-1 (198.18.9.11) port 443\n")
	assert.Contains(t, out, "      web-1/input: deny by flow-1 — the blocked network never reaches the site  ← decides\n")

	code, out, errOut = fwpush(t, append(explain, "--from", "partners", "--port", "7990-8200", "--format", "json")...)
	assert.Equal(t, exitDenied, code, errOut)
	var res struct {
		Query   map[string]any `json:"query"`
		Verdict string         `json:"verdict"`
		Paths   []struct {
			Port int `json:"port"`
		} `json:"paths"`
		Parts []struct {
			Permitted bool   `json:"permitted"`
			DecidedBy string `json:"decided_by"`
			Regions   []struct {
				Sources      []string `json:"sources"`
				Destinations []string `json:"destinations"`
				Ports        []struct {
					Lo, Hi int
				} `json:"ports"`
			} `json:"regions"`
			Example struct {
				From struct {
					Addr string `json:"addr"`
					Name string `json:"name"`
				} `json:"from"`
				Port int `json:"port"`
			} `json:"example"`
		} `json:"parts"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, map[string]any{"from": "partners", "to": "web", "proto": "tcp", "port": 7990.0, "port_to": 8200.0}, res.Query)
	assert.Equal(t, "partly", res.Verdict)
	require.Len(t, res.Parts, 2)
	assert.True(t, res.Parts[0].Permitted)
	assert.Equal(t, []string{"198.51.100.0/24"}, res.Parts[0].Regions[0].Sources)
	assert.Equal(t, []string{"198.18.9.11/32", "198.18.9.12/32"}, res.Parts[0].Regions[0].Destinations)
	assert.Equal(t, 8000, res.Parts[0].Regions[0].Ports[0].Lo)
	assert.Equal(t, 8099, res.Parts[0].Regions[0].Ports[0].Hi)
	assert.Equal(t, 8000, res.Parts[0].Example.Port)
	assert.Equal(t, "partners", res.Parts[0].Example.From.Name)
	assert.False(t, res.Parts[1].Permitted)
	assert.Equal(t, "web-1/input", res.Parts[1].DecidedBy)
	require.Len(t, res.Paths, 2, "each part's example")

	for arg, want := range map[string]string{
		"8200-7990": "--port: range 8200-7990: want low-high within 1-65535",
		"http":      "--port http: want a port, low-high or any",
		"1-70000":   "--port: range 1-70000",
	} {
		code, out, errOut := fwpush(t, append(explain, "--from", "any", "--port", arg)...)
		assert.Equal(t, exitError, code, out)
		assert.Contains(t, errOut, want)
	}
	code, out, errOut = fwpush(t, append(explain, "--from", "203.0.113.10", "--port", "any")...)
	assert.Equal(t, exitDenied, code, errOut)
	assert.Contains(t, out, "203.0.113.10 → web tcp/1-65535: DENIED\n")
}
