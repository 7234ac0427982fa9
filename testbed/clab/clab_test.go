package clab_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xeipuuv/gojsonschema"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/verify"
	"github.com/fwpush/fwpush/testbed/clab"
)

// labs are the topologies: each with its overlay, its seed playbook, the
// platforms its routers render for, and what its deploy test needs.
var labs = []struct {
	topology, overlay, playbook string
	routers                     []string
	// images are the environment variables naming vendor images the
	// deploy test checks before deploying (unset: the topology's default).
	images []string
	// bridges are Linux bridges the topology links to (kind: bridge),
	// created on the Docker host for the deploy.
	bridges []string
	// nornirSchema is CLAB_NORNIR_PLATFORM_NAME_SCHEMA for the deploy.
	nornirSchema string
}{
	{topology: "wdm.clab.yml", overlay: "wdm", playbook: "wdm", routers: []string{"cisco-ios", "cisco-nxos", "arista-eos"},
		images:  []string{"FWPUSH_CLAB_LINUX_IMAGE", "FWPUSH_CLAB_IOL_IMAGE", "FWPUSH_CLAB_N9KV_IMAGE", "FWPUSH_CLAB_CEOS_IMAGE"},
		bridges: []string{"br-fwpush-core", "br-fwpush-eos"}, nornirSchema: "scrapli"},
	{topology: "wdm-junos.clab.yml", overlay: "wdm-junos", playbook: "wdm", routers: []string{"juniper-junos"},
		images: []string{"FWPUSH_CLAB_LINUX_IMAGE", "FWPUSH_CLAB_JUNOS_IMAGE"}},
}

// topology is the part of a containerlab topology the tests read.
type topology struct {
	Name     string `yaml:"name"`
	Topology struct {
		Nodes map[string]struct {
			Kind   string            `yaml:"kind"`
			Mgmt   string            `yaml:"mgmt-ipv4"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"nodes"`
	} `yaml:"topology"`
}

// scrapliPlatform is the platform containerlab writes into its Nornir
// inventory for a kind under CLAB_NORNIR_PLATFORM_NAME_SCHEMA=scrapli;
// without it the platform is the kind itself.
var scrapliPlatform = map[string]string{"cisco_iol": "cisco_iosxe", "cisco_n9kv": "cisco_nxos", "arista_ceos": "arista_eos", "linux": "linux"}

func readTopology(t *testing.T, file string) topology {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var topo topology
	require.NoError(t, yaml.Unmarshal(b, &topo))
	return topo
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
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(schema))
	require.NoError(t, err)
	files, err := filepath.Glob("*.clab.yml")
	require.NoError(t, err)
	require.Len(t, files, len(labs), "every topology is in the labs table")
	for _, f := range files {
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
		})
	}
	// A document the schema must refuse proves it is checked.
	bad, _ := json.Marshal(map[string]any{"name": "x", "topology": map[string]any{"nodes": map[string]any{"r": map[string]any{"kind": "no_such_kind"}}}})
	res, err := s.Validate(gojsonschema.NewBytesLoader(bad))
	require.NoError(t, err)
	assert.False(t, res.Valid())
}

// nornirFor writes the Nornir inventory containerlab would generate for
// a topology (management addresses, platform names, the kinds' default
// credentials, the nornir-group label) without deploying it.
func nornirFor(t *testing.T, topo topology, schema string) string {
	t.Helper()
	hosts := map[string]map[string]any{}
	for name, n := range topo.Topology.Nodes {
		if n.Kind == "bridge" {
			continue
		}
		p := n.Kind
		if schema == "scrapli" {
			p = scrapliPlatform[n.Kind]
		}
		h := map[string]any{"hostname": n.Mgmt, "platform": p}
		if n.Kind != "linux" {
			h["username"], h["password"] = "admin", "admin"
		}
		if g := n.Labels["nornir-group"]; g != "" {
			h["groups"] = []string{g}
		}
		hosts[name] = h
	}
	b, err := yaml.Marshal(hosts)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "nornir-simple-inventory.yml")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// TestOverlayCompiles: each topology's overlay, merged with the inventory
// containerlab would generate for it, compiles with its seed playbook and
// renders every device, the routers through their drivers (containerlab's
// kinds and scrapli names resolve as aliases). No password reaches disk.
func TestOverlayCompiles(t *testing.T) {
	for _, lab := range labs {
		t.Run(lab.topology, func(t *testing.T) {
			dst := t.TempDir()
			env, err := clab.Inventory(nornirFor(t, readTopology(t, lab.topology), lab.nornirSchema), lab.overlay, dst)
			require.NoError(t, err)
			hosts, err := os.ReadFile(filepath.Join(dst, "hosts.yaml"))
			require.NoError(t, err)
			assert.NotContains(t, string(hosts), "password: admin", "no password on disk")
			for k, v := range env {
				t.Setenv(k, v)
			}
			p, err := project.Load(project.Options{Inventory: dst, Playbook: "../../playbooks/" + lab.playbook + ".yml", Registry: all.Registry()})
			require.NoError(t, err)
			platforms := map[string]bool{}
			for _, h := range p.Selected {
				d, err := plan.Render(p, h.Name)
				require.NoError(t, err, h.Name)
				platforms[d.Platform] = true
				if h.Platform != "linux-nftables" && h.Platform != "linux-iptables" {
					assert.Equal(t, "admin", h.Password.Reveal(), "%s: the password comes from the environment", h.Name)
				}
			}
			for _, r := range lab.routers {
				assert.True(t, platforms[r], "%s renders a %s router: %v", lab.topology, r, platforms)
			}
		})
	}
}

// TestInventoryFromGenerated: an inventory as containerlab generates it
// (testdata, made by its nornir template) becomes fwpush's: the vJunos
// node is juniper-junos by its kind, on the overlay's port, its password
// an environment reference; an overlay without data.yaml is refused.
func TestInventoryFromGenerated(t *testing.T) {
	dst := t.TempDir()
	env, err := clab.Inventory("testdata/nornir-simple-inventory.yml", "wdm-junos", dst)
	require.NoError(t, err)
	require.Len(t, env, 1)
	hosts, err := os.ReadFile(filepath.Join(dst, "hosts.yaml"))
	require.NoError(t, err)
	assert.NotContains(t, string(hosts), "admin@123", "no password on disk")
	for k, v := range env {
		t.Setenv(k, v)
	}
	p, err := project.Load(project.Options{Inventory: dst, Playbook: "../../playbooks/wdm.yml", Registry: all.Registry()})
	require.NoError(t, err)
	rtr := p.Inv.Hosts["wdm-rtr-1"]
	require.NotNil(t, rtr)
	assert.Equal(t, "juniper-junos", rtr.Platform)
	assert.Equal(t, 830, rtr.Port)
	assert.Equal(t, "admin@123", rtr.Password.Reveal())
	assert.Len(t, p.Intents["wdm-rtr-1"].Filters, 4)
	assert.Equal(t, "linux-nftables", p.Inv.Hosts["gui-1"].Platform)

	_, err = clab.Inventory("testdata/nornir-simple-inventory.yml", t.TempDir(), t.TempDir())
	assert.Error(t, err, "an overlay without data.yaml")
}

// TestDeploy (opt-in: FWPUSH_CLAB=1, as root, on a machine with Docker,
// containerlab and the images; see README.md) deploys each topology,
// merges containerlab's generated inventory with the overlay, and runs
// plan, apply (commit-confirmed), verify (real probes through the
// routers) and plan again (no change) against the real devices.
func TestDeploy(t *testing.T) {
	if os.Getenv("FWPUSH_CLAB") != "1" {
		t.Skip("opt-in: FWPUSH_CLAB=1 deploys the topologies with containerlab (Docker and the vendor images needed; README.md)")
	}
	for _, bin := range []string{"containerlab", "docker"} {
		_, err := exec.LookPath(bin)
		require.NoError(t, err, "FWPUSH_CLAB=1 needs %s", bin)
	}
	key := os.Getenv("FWPUSH_CLAB_KEY")
	if key == "" {
		key = filepath.Join(t.TempDir(), "id_ed25519")
		out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput()
		require.NoError(t, err, "ssh-keygen: %s", out)
	}
	t.Setenv("FWPUSH_CLAB_AUTHORIZED_KEYS", key+".pub")
	for _, lab := range labs {
		t.Run(lab.topology, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			for _, img := range lab.images {
				if v := os.Getenv(img); v != "" {
					out, err := exec.CommandContext(ctx, "docker", "image", "inspect", v).CombinedOutput()
					require.NoError(t, err, "%s=%s: %s", img, v, out)
				}
			}
			for _, br := range lab.bridges {
				out, err := exec.Command("ip", "link", "add", br, "type", "bridge").CombinedOutput()
				require.NoError(t, err, "%s: %s", br, out)
				t.Cleanup(func() { exec.Command("ip", "link", "del", br).Run() })
				require.NoError(t, exec.Command("ip", "link", "set", br, "up").Run())
			}
			if lab.nornirSchema != "" {
				t.Setenv("CLAB_NORNIR_PLATFORM_NAME_SCHEMA", lab.nornirSchema)
			}
			deployed, err := clab.Deploy(ctx, lab.topology)
			require.NoError(t, err)
			t.Cleanup(func() {
				if err := deployed.Destroy(context.Background()); err != nil {
					t.Error(err)
				}
			})
			dir := t.TempDir()
			env, err := clab.Inventory(deployed.NornirInventory(), lab.overlay, dir)
			require.NoError(t, err)
			for k, v := range env {
				t.Setenv(k, v)
			}
			p, err := project.Load(project.Options{Inventory: dir, Playbook: "../../playbooks/" + lab.playbook + ".yml", Registry: all.Registry()})
			require.NoError(t, err)
			pushThrough(ctx, t, p, drivers.TransportOptions{KnownHostsFiles: []string{filepath.Join(dir, "known_hosts")}, TrustOnFirstUse: true,
				IdentityFiles: []string{key}, SSHConfigFile: "none", ConnectTimeout: 30 * time.Second, CommandTimeout: time.Minute,
				Keepalive: 5 * time.Second, ConnectRetries: 5})
		})
	}
}

// pushThrough waits for every device to answer (vendor images take
// minutes to boot), then plans, applies, verifies and plans again.
func pushThrough(ctx context.Context, t *testing.T, p *project.Project, opts drivers.TransportOptions) {
	open := plan.DriverOpener(p.Registry, p.Inv, opts, nil)
	eo := engine.Options{Forks: 8, MaxFailPercentage: -1}
	var pl *plan.Plan
	var err error
	for range 60 {
		if pl, _, err = plan.Live(ctx, p, open, eo); err == nil {
			break
		}
		t.Logf("waiting for the devices: %v", err)
		time.Sleep(10 * time.Second)
	}
	require.NoError(t, err)
	require.True(t, pl.Changes())

	rep, err := apply.Run(ctx, p, open, apply.Options{ConfirmWithin: 5 * time.Minute, Engine: eo})
	require.NoError(t, err)
	for _, d := range rep.Devices {
		assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
	}
	probes, err := verify.Generate(p, verify.Options{PerFlow: 3, Negatives: 2})
	require.NoError(t, err)
	vr, err := verify.Run(ctx, probes, verify.SSHRunner(p.Inv, opts, nil), 5*time.Second, eo)
	require.NoError(t, err)
	for _, r := range vr.Results {
		assert.True(t, r.Pass, "%s: got %s %s", r.Probe, r.Got, r.Note)
	}
	again, _, err := plan.Live(ctx, p, open, eo)
	require.NoError(t, err)
	assert.False(t, again.Changes(), "plan after apply shows no change")
}
