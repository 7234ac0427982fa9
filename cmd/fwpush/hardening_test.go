package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/verify"
)

// copyInventory copies the webapp example into a temp dir, appending
// extra text to each named file, and returns the directory.
func copyInventory(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "inv")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, name := range []string{"hosts.yaml", "groups.yaml", "defaults.yaml", "networks.yaml"} {
		data, err := os.ReadFile(filepath.Join(waInv, name))
		require.NoError(t, err)
		data = append(data, extra[name]...)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	return dir
}

// TestSecretsNowhere plants a distinct secret in every place an inventory
// can hold one, at every depth, and looks for any of them in everything
// fwpush prints and in the run store's bytes.
func TestSecretsNowhere(t *testing.T) {
	fakeFleet(t)
	secrets := []string{"S3-host-pw", "S3-conn-pw", "S3-conn-secret", "S3-conn-pp", "S3-snmp", "S3-nested-pw", "S3-token",
		"S3-key", "S3-group-enable", "S3-group-conn", "S3-default-pw", "S3-default-community", "S3-default-conn"}
	inv := copyInventory(t, map[string]string{
		"hosts.yaml": `web-3:
  hostname: 198.18.9.13
  groups: [web]
  password: S3-host-pw
  data:
    addresses: [198.18.9.13]
    snmp: {community: S3-snmp, location: rack 3}
    users: [{name: ops, auth: {password: S3-nested-pw}}]
    api_token: S3-token
    private_key: S3-key
  connection_options:
    netmiko:
      password: S3-conn-pw
      extras: {secret: S3-conn-secret, auth_private_key_passphrase: S3-conn-pp}
`,
		"groups.yaml": `monitored:
  data:
    enable_password: S3-group-enable
  connection_options:
    napalm: {extras: {enable_secret: S3-group-conn}}
`,
		"defaults.yaml": `password: S3-default-pw
data:
  snmpCommunity: S3-default-community
connection_options:
  scrapli: {auth_secondary: S3-default-conn}
`,
	})
	state := filepath.Join(t.TempDir(), "runs.db")
	var outputs []string
	runOK := func(args ...string) string {
		t.Helper()
		code, out, errOut := fwpush(t, args...)
		require.Equal(t, 0, code, "%v\n%s\n%s", args, out, errOut)
		outputs = append(outputs, strings.Join(args, " ")+"\n"+out+errOut)
		return out
	}
	listed := runOK("inventory", "list", "-i", inv, "--format", "json")
	assert.Contains(t, listed, `"community": "[redacted]"`, "the key stays, its value is hidden")
	assert.Contains(t, listed, `"location": "rack 3"`, "other data is shown")
	for _, format := range []string{"text", "json"} {
		runOK("inventory", "list", "-i", inv, "--format", format)
		runOK("validate", "-i", inv, "-p", waPB, "--format", format)
		runOK("render", "-i", inv, "-p", waPB, "web-3", "--format", format)
		runOK("plan", "--offline", "-i", inv, "-p", waPB, "--format", format)
		runOK("explain", "-i", inv, "-p", waPB, "--from", "web-3", "--to", "app-1", "--proto", "tcp", "--port", "8080", "--format", format)
	}
	out := runOK("apply", "-i", inv, "-p", waPB, "--limit", "not web-3", "--state", state, "--confirm-timeout", "10s", "--format", "json")
	var applied struct{ Run string }
	require.NoError(t, json.Unmarshal([]byte(out), &applied), out)
	runOK("history", "--state", state, "--show", applied.Run)
	runOK("history", "--state", state, "--format", "json")
	store, err := os.ReadFile(state)
	require.NoError(t, err)
	outputs = append(outputs, "run store\n"+string(store))

	for _, o := range outputs {
		for _, s := range secrets {
			if !assert.NotContains(t, o, s) {
				t.Logf("secret %s in the output of %s", s, strings.SplitN(o, "\n", 2)[0])
			}
		}
	}
}

// TestWarningsPrinted: a warning (here a misspelt data key) reaches the
// user from every command that loads the inventory: on stderr in text,
// as "warnings" in JSON.
func TestWarningsPrinted(t *testing.T) {
	fakeFleet(t)
	inv := copyInventory(t, map[string]string{"groups.yaml": "monitored:\n  data:\n    proxyjump: bastion\n"})
	const want = `groups.yaml:12:16: monitored.data.proxyjump: unknown data key "proxyjump" is not read by fwpush: did you mean "proxy_jump"?`
	state := filepath.Join(t.TempDir(), "runs.db")
	text := map[string][]string{
		"validate":       {"validate", "-i", inv, "-p", waPB},
		"plan offline":   {"plan", "--offline", "-i", inv, "-p", waPB},
		"apply":          {"apply", "-i", inv, "-p", waPB, "--state", state, "--confirm-timeout", "10s"},
		"inventory list": {"inventory", "list", "-i", inv},
		"render":         {"render", "-i", inv, "-p", waPB, "web-1"},
	}
	for name, args := range text {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := fwpush(t, args...)
			assert.Contains(t, []int{0, 2}, code, "%s\n%s", out, errOut)
			assert.Contains(t, errOut, "warning: "+inv+"/"+want)
			assert.NotContains(t, out, want, "warnings go to stderr")
		})
	}
	for name, args := range map[string][]string{
		"validate":       {"validate", "-i", inv, "-p", waPB},
		"plan offline":   {"plan", "--offline", "-i", inv, "-p", waPB},
		"apply":          {"apply", "-i", inv, "-p", waPB, "--state", state, "--confirm-timeout", "10s"},
		"inventory list": {"inventory", "list", "-i", inv},
	} {
		t.Run(name+" json", func(t *testing.T) {
			code, out, errOut := fwpush(t, append(args, "--format", "json")...)
			assert.Contains(t, []int{0, 2}, code, "%s\n%s", out, errOut)
			var doc struct{ Warnings []string }
			require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
			assert.Contains(t, doc.Warnings, inv+"/"+want)
			assert.NotContains(t, errOut, want, "said once, in the document")
		})
	}

	// A failed validation still shows the warning that explains it.
	bad := copyInventory(t, map[string]string{"hosts.yaml": "web-3:\n  hostname: web-3\n  groups: [web]\n  data:\n    adresses: [198.18.9.13]\n"})
	code, out, _ := fwpush(t, "validate", "-i", bad, "-p", waPB, "--format", "json")
	assert.Equal(t, 1, code)
	var res struct{ Errors, Warnings []string }
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Contains(t, strings.Join(res.Errors, "\n"), "hosts.yaml:27:1: web-3: host has no address")
	assert.Contains(t, strings.Join(res.Warnings, "\n"), `hosts.yaml:31:5: web-3.data.adresses: unknown data key "adresses" is not read by fwpush: did you mean "addresses"?`)
	code, _, errOut := fwpush(t, "plan", "--offline", "-i", bad, "-p", waPB, "--format", "json")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "did you mean \"addresses\"")
	assert.Contains(t, errOut, "host has no address")
}

// TestToAnyAgreesWithExplainAndVerify: a flow `to: any` opens every
// managed host; explain says so and verify expects it.
func TestToAnyAgreesWithExplainAndVerify(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "pb.yml")
	require.NoError(t, os.WriteFile(pb, []byte("name: p\nroles: {web: {}, app: {}}\nflows:\n  - {from: web, to: any, ports: [tcp/8443], why: web serves anyone}\n"), 0o644))
	code, out, errOut := fwpush(t, "explain", "-i", waInv, "-p", pb, "--from", "web", "--to", "db-1", "--proto", "tcp", "--port", "8443")
	assert.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "PERMITTED")
	code, out, _ = fwpush(t, "render", "-i", waInv, "-p", pb, "app-1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "tcp dport 8443 accept")

	p, err := project.Load(project.Options{Inventory: waInv, Playbook: pb})
	require.NoError(t, err)
	probes, err := verify.Generate(p, verify.Options{})
	require.NoError(t, err)
	n := 0
	for _, pr := range probes {
		if pr.Flow == 1 {
			n++
			assert.True(t, pr.Expect, "probe %s", pr)
		}
	}
	assert.NotZero(t, n, "the flow is probed")
}
