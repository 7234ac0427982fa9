package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	cwInv = "../../inventory/examples/clearwater"
	cwPB  = "../../playbooks/clearwater.yml"
)

func fwpush(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	cases := map[string]struct {
		args []string
		code int
		want string
	}{
		"validate ok":        {[]string{"validate", "-i", cwInv, "-p", cwPB}, 0, "ok: "},
		"explain permitted":  {[]string{"explain", "-i", cwInv, "-p", cwPB, "--from", "bono", "--to", "sprout", "--proto", "tcp", "--port", "5054"}, 0, "PERMITTED"},
		"explain denied":     {[]string{"explain", "-i", cwInv, "-p", cwPB, "--from", "ellis", "--to", "sprout", "--proto", "tcp", "--port", "5054"}, 3, "DENIED"},
		"explain by address": {[]string{"explain", "-i", cwInv, "-p", cwPB, "--from", "203.0.113.5", "--to", "bono-1", "--proto", "udp", "--port", "5060"}, 0, "PERMITTED"},
		"explain icmp":       {[]string{"explain", "-i", cwInv, "-p", cwPB, "--from", "any", "--to", "homer", "--proto", "icmp", "--icmp-type", "echo-request"}, 0, "PERMITTED"},
		"explain bad port":   {[]string{"explain", "-i", cwInv, "-p", cwPB, "--from", "bono", "--to", "sprout", "--port", "70000"}, 1, "outside 1-65535"},
		"explain unknown":    {[]string{"explain", "-i", cwInv, "-p", cwPB, "--from", "nobody", "--to", "sprout", "--port", "1"}, 1, "not a role, host, network"},
		"render":             {[]string{"render", "-i", cwInv, "-p", cwPB, "sprout-1"}, 0, "table inet fwpush {"},
		"render unknown":     {[]string{"render", "-i", cwInv, "-p", cwPB, "nope"}, 1, `no host "nope"`},
		"offline plan":       {[]string{"plan", "--offline", "-i", cwInv, "-p", cwPB, "--limit", "bono"}, 0, "2 devices rendered offline"},
		"bad format":         {[]string{"validate", "-i", cwInv, "-p", cwPB, "--format", "yaml"}, 1, "--format"},
		"bad limit":          {[]string{"plan", "--offline", "-i", cwInv, "-p", cwPB, "--limit", "nosuch"}, 1, "--limit"},
		"missing inventory":  {[]string{"validate", "-p", cwPB}, 1, "no inventory"},
		"inventory list":     {[]string{"inventory", "list", "-i", cwInv, "--limit", "platform:linux-iptables"}, 0, "linux-iptables"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := fwpush(t, tc.args...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			assert.Contains(t, out+errOut, tc.want)
		})
	}
}

// TestBadInputNamesFileAndLine: every validation error points at the file,
// line and field, and nothing is contacted (these run with no lab at all).
func TestBadInputNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv")
	require.NoError(t, os.MkdirAll(inv, 0o755))
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("inv/hosts.yaml", "a:\n  hostname: 198.18.0.5\n  platform: linux\n  groups: [web]\n")
	write("inv/groups.yaml", "web: {}\n")
	write("inv/networks.yaml", "management: [198.18.0.0/24]\n")
	write("pb.yml", "name: x\nroles: {web: {}}\nflows:\n  - from: any\n    to: wbe\n    ports: [tcp/70000]\n    why: typo\n")
	code, out, errOut := fwpush(t, "validate", "-i", inv, "-p", filepath.Join(dir, "pb.yml"), "--format", "json")
	assert.Equal(t, 1, code)
	var res validateResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), errOut)
	assert.False(t, res.Valid)
	require.NotEmpty(t, res.Errors)
	assert.Contains(t, strings.Join(res.Errors, "\n"), `pb.yml:6:13: flows[0].ports[0]: "tcp/70000": port 70000 is outside 1-65535`)
}

func TestJSONOutputs(t *testing.T) {
	code, out, _ := fwpush(t, "explain", "-i", cwInv, "-p", cwPB, "--from", "ellis", "--to", "dime", "--proto", "tcp", "--port", "8889", "--format", "json")
	require.Equal(t, 0, code)
	var ex struct {
		Permitted bool `json:"permitted"`
		Paths     []struct {
			Checks []struct {
				Device, Filter, Rule string
				Why                  []string
			} `json:"checks"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &ex))
	assert.True(t, ex.Permitted)
	require.NotEmpty(t, ex.Paths)
	assert.NotEmpty(t, ex.Paths[0].Checks[0].Why)

	code, out, _ = fwpush(t, "plan", "--offline", "-i", cwInv, "-p", cwPB, "--limit", "sprout-1", "--format", "json")
	require.Equal(t, 0, code)
	var pl struct {
		Offline bool `json:"offline"`
		Devices []struct {
			Host    string `json:"host"`
			Desired struct {
				Parts []struct{ Name, Text string } `json:"parts"`
			} `json:"desired"`
		} `json:"devices"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &pl))
	assert.True(t, pl.Offline)
	require.Len(t, pl.Devices, 1)
	assert.Equal(t, "sprout-1", pl.Devices[0].Host)
	assert.Contains(t, pl.Devices[0].Desired.Parts[0].Text, "chain input")
}

func TestSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"hosts.yaml":    "a:\n  hostname: 198.18.0.5\n  platform: linux\n  password: s3cr3t-value\n  groups: [web]\n",
		"groups.yaml":   "web: {}\n",
		"networks.yaml": "management: [198.18.0.0/24]\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	for _, format := range []string{"text", "json"} {
		code, out, errOut := fwpush(t, "inventory", "list", "-i", dir, "--format", format)
		require.Equal(t, 0, code, errOut)
		assert.NotContains(t, out+errOut, "s3cr3t-value")
	}
}
