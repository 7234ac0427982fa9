package clab_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xeipuuv/gojsonschema"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/verify"
	"github.com/fwpush/fwpush/testbed/clab"
)

// topology is the part of a containerlab topology the tests read.
type topology struct {
	Name     string `yaml:"name"`
	Topology struct {
		Nodes map[string]struct {
			Kind string `yaml:"kind"`
			Mgmt string `yaml:"mgmt-ipv4"`
		} `yaml:"nodes"`
	} `yaml:"topology"`
}

// scrapliPlatform is the platform containerlab writes into its Nornir
// inventory for a kind under CLAB_NORNIR_PLATFORM_NAME_SCHEMA=scrapli.
var scrapliPlatform = map[string]string{"cisco_iol": "cisco_iosxe", "cisco_n9kv": "cisco_nxos", "arista_ceos": "arista_eos", "linux": "linux"}

func topologies(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.clab.yml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestTopologiesMatchSchema validates every topology file against
// containerlab's JSON schema (FWPUSH_SHARED_DIR's
// vendor-fixtures/containerlab/clab.schema.json).
func TestTopologiesMatchSchema(t *testing.T) {
	dir := os.Getenv("FWPUSH_SHARED_DIR")
	schemaPath := filepath.Join(dir, "vendor-fixtures", "containerlab", "clab.schema.json")
	schema, err := os.ReadFile(schemaPath)
	if dir == "" || err != nil {
		msg := "needs vendor-fixtures/containerlab/clab.schema.json under FWPUSH_SHARED_DIR (unset or missing)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	loader := gojsonschema.NewBytesLoader(schema)
	s, err := gojsonschema.NewSchema(loader)
	require.NoError(t, err)
	for _, f := range topologies(t) {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			var doc any
			require.NoError(t, yaml.Unmarshal(b, &doc))
			js, err := json.Marshal(doc)
			require.NoError(t, err)
			res, err := s.Validate(gojsonschema.NewBytesLoader(js))
			require.NoError(t, err)
			for _, e := range res.Errors() {
				t.Errorf("%s: %s", f, e)
			}
			assert.True(t, res.Valid())
			// A document the schema must refuse proves it is checked.
			bad, _ := json.Marshal(map[string]any{"name": "x", "topology": map[string]any{"nodes": map[string]any{"r": map[string]any{"kind": "no_such_kind"}}}})
			res, err = s.Validate(gojsonschema.NewBytesLoader(bad))
			require.NoError(t, err)
			assert.False(t, res.Valid())
		})
	}
}

// nornirFor writes the Nornir inventory containerlab would generate for
// a topology (management addresses, scrapli platform names, the kinds'
// default credentials) without deploying it.
func nornirFor(t *testing.T, topo topology) string {
	t.Helper()
	hosts := map[string]map[string]any{}
	for name, n := range topo.Topology.Nodes {
		p, ok := scrapliPlatform[n.Kind]
		if !ok {
			continue // bridges
		}
		h := map[string]any{"hostname": n.Mgmt, "platform": p}
		if n.Kind != "linux" {
			h["username"], h["password"] = "admin", "admin"
		}
		hosts[name] = h
	}
	b, err := yaml.Marshal(hosts)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "nornir-simple-inventory.yml")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

func readTopology(t *testing.T, file string) topology {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var topo topology
	require.NoError(t, yaml.Unmarshal(b, &topo))
	return topo
}

// TestOverlayCompiles: each topology's fwpush overlay, completed with the
// inventory containerlab generates, compiles with its seed playbook and
// renders every device, the routers through the IOS-XE, NX-OS and EOS
// drivers (containerlab's kinds resolve through their scrapli names).
func TestOverlayCompiles(t *testing.T) {
	for _, f := range topologies(t) {
		system := strings.TrimSuffix(f, ".clab.yml")
		topo := readTopology(t, f)
		inv := filepath.Join(t.TempDir(), "inventory")
		require.NoError(t, clab.Inventory(nornirFor(t, topo), system, inv))
		p, err := project.Load(project.Options{Inventory: inv, Playbook: "../../playbooks/" + system + ".yml", Registry: all.Registry()})
		require.NoError(t, err)
		platforms := map[string]bool{}
		for _, h := range p.Selected {
			d, err := plan.Render(p, h.Name)
			require.NoError(t, err, h.Name)
			platforms[d.Platform] = true
		}
		assert.True(t, platforms["cisco-ios"] && platforms["cisco-nxos"] && platforms["arista-eos"], "%v", platforms)
	}
}

// TestContainerlabPush (FWPUSH_CLAB=1; needs Docker, containerlab and the
// images wdm.clab.yml names) deploys the topology, builds the inventory
// from containerlab's generated one, and runs plan, apply, verify and plan
// again against the real devices.
func TestContainerlabPush(t *testing.T) {
	if os.Getenv("FWPUSH_CLAB") != "1" {
		t.Skip("opt-in: FWPUSH_CLAB=1 deploys wdm.clab.yml with containerlab (Docker and the vendor images needed)")
	}
	for _, bin := range []string{"containerlab", "docker"} {
		_, err := exec.LookPath(bin)
		require.NoError(t, err, "FWPUSH_CLAB=1 needs %s", bin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	run := func(name string, args ...string) {
		cmd := exec.CommandContext(ctx, name, args...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %v: %s", name, args, out)
	}
	for _, img := range []string{"FWPUSH_CLAB_LINUX_IMAGE", "FWPUSH_CLAB_IOL_IMAGE", "FWPUSH_CLAB_N9KV_IMAGE", "FWPUSH_CLAB_CEOS_IMAGE"} {
		if v := os.Getenv(img); v != "" {
			run("docker", "image", "inspect", v)
		}
	}
	key := filepath.Join(t.TempDir(), "id_ed25519")
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
	t.Setenv("FWPUSH_CLAB_AUTHORIZED_KEYS", key+".pub")
	t.Setenv("CLAB_NORNIR_PLATFORM_NAME_SCHEMA", "scrapli")
	for _, br := range []string{"br-fwpush-core", "br-fwpush-eos"} {
		run("ip", "link", "add", br, "type", "bridge")
		run("ip", "link", "set", br, "up")
		t.Cleanup(func() { exec.Command("ip", "link", "del", br).Run() })
	}
	run("containerlab", "deploy", "-t", "wdm.clab.yml", "--reconfigure")
	t.Cleanup(func() { exec.Command("containerlab", "destroy", "-t", "wdm.clab.yml", "--cleanup").Run() })

	inv := filepath.Join(t.TempDir(), "inventory")
	require.NoError(t, clab.Inventory(filepath.Join("clab-fwpush-wdm", "nornir-simple-inventory.yml"), "wdm", inv))
	p, err := project.Load(project.Options{Inventory: inv, Playbook: "../../playbooks/wdm.yml", Registry: all.Registry()})
	require.NoError(t, err)
	known := filepath.Join(t.TempDir(), "known_hosts")
	opts := drivers.TransportOptions{KnownHostsFiles: []string{known}, TrustOnFirstUse: true, IdentityFiles: []string{key},
		SSHConfigFile: "none", ConnectTimeout: 30 * time.Second, CommandTimeout: time.Minute, Keepalive: 5 * time.Second, ConnectRetries: 5}
	open := plan.DriverOpener(p.Registry, p.Inv, opts, nil)
	eo := engine.Options{Forks: 8, MaxFailPercentage: -1}
	pl, _, err := plan.Live(ctx, p, open, eo)
	require.NoError(t, err)
	require.True(t, pl.Changes())
	rep, err := apply.Run(ctx, p, open, apply.Options{ConfirmWithin: 5 * time.Minute, Engine: eo})
	require.NoError(t, err)
	for _, d := range rep.Devices {
		assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
	}
	probes, err := verify.Generate(p, verify.Options{PerFlow: 3, Negatives: 2})
	require.NoError(t, err)
	runner := func(ctx context.Context, host, script string, stdin []byte) (string, error) {
		c, err := linuxhost.Dial(ctx, drivers.Target{Host: p.Inv.Hosts[host], Options: opts})
		if err != nil {
			return "", err
		}
		defer c.Close()
		return c.Run(ctx, script, stdin)
	}
	vr, err := verify.Run(ctx, probes, runner, 5*time.Second, eo)
	require.NoError(t, err)
	for _, r := range vr.Results {
		assert.True(t, r.Pass, "%s: got %s %s", r.Probe, r.Got, r.Note)
	}
	again, _, err := plan.Live(ctx, p, open, eo)
	require.NoError(t, err)
	assert.False(t, again.Changes(), "plan after apply shows no change")
}
