package clab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/verify"
)

// TestInventoryFromGenerated turns an inventory as containerlab generates
// it (testdata, made by its nornir template) into fwpush's, and loads it
// with the wdm playbook: the vJunos node is juniper-junos by its
// containerlab kind, its password an environment reference.
func TestInventoryFromGenerated(t *testing.T) {
	dst := t.TempDir()
	env, err := Inventory("testdata/nornir-simple-inventory.yml", "wdm-junos", dst)
	require.NoError(t, err)
	require.Len(t, env, 1)
	hosts, err := os.ReadFile(filepath.Join(dst, "hosts.yaml"))
	require.NoError(t, err)
	assert.NotContains(t, string(hosts), "admin@123", "no password on disk")
	for k, v := range env {
		t.Setenv(k, v)
	}
	p, err := project.Load(project.Options{Inventory: dst, Playbook: "../../playbooks/wdm.yml"})
	require.NoError(t, err)
	rtr := p.Inv.Hosts["wdm-rtr-1"]
	require.NotNil(t, rtr)
	assert.Equal(t, "juniper-junos", rtr.Platform)
	assert.Equal(t, 830, rtr.Port)
	assert.Equal(t, "admin@123", rtr.Password.Reveal())
	assert.Len(t, p.Intents["wdm-rtr-1"].Filters, 4)
	assert.Equal(t, "linux-nftables", p.Inv.Hosts["gui-1"].Platform)

	_, err = Inventory("testdata/nornir-simple-inventory.yml", t.TempDir(), t.TempDir())
	assert.Error(t, err, "an overlay without data.yaml")
}

// TestDeployWDM deploys wdm-junos.clab.yml (a vJunos-router and four
// Linux hosts) with containerlab and pushes the wdm playbook through
// containerlab's generated inventory: plan, apply, verify across the
// router, plan again. Opt-in: FWPUSH_CLAB=1, on a machine with
// containerlab, Docker and the images (README.md).
func TestDeployWDM(t *testing.T) {
	if os.Getenv("FWPUSH_CLAB") != "1" {
		t.Skip("containerlab test: set FWPUSH_CLAB=1 on a machine with containerlab, Docker and the vJunos-router image (testbed/clab/README.md)")
	}
	for _, bin := range []string{"containerlab", "docker"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("FWPUSH_CLAB=1 but %s is not installed: %v", bin, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	lab, err := Deploy(ctx, "wdm-junos.clab.yml")
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := lab.Destroy(context.Background()); err != nil {
			t.Error(err)
		}
	})
	dir := t.TempDir()
	env, err := Inventory(lab.NornirInventory(), "wdm-junos", dir)
	require.NoError(t, err)
	for k, v := range env {
		t.Setenv(k, v)
	}
	p, err := project.Load(project.Options{Inventory: dir, Playbook: "../../playbooks/wdm.yml"})
	require.NoError(t, err)
	key := os.Getenv("FWPUSH_CLAB_KEY")
	if key == "" {
		key = filepath.Join(os.Getenv("HOME"), ".ssh", "id_ed25519")
	}
	opts := drivers.TransportOptions{KnownHostsFiles: []string{filepath.Join(dir, "known_hosts")}, TrustOnFirstUse: true,
		IdentityFiles: []string{key}, SSHConfigFile: "none", ConnectTimeout: 20 * time.Second, CommandTimeout: time.Minute,
		Keepalive: 5 * time.Second, ConnectRetries: 3}
	open := plan.DriverOpener(p.Registry, p.Inv, opts, nil)
	eo := engine.Options{Forks: 8, MaxFailPercentage: -1}

	// vJunos takes minutes to boot: plan until every device answers.
	var pl *plan.Plan
	for i := 0; i < 60; i++ {
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
	runner := func(ctx context.Context, host, script string, stdin []byte) (string, error) {
		c, err := linuxhost.Dial(ctx, drivers.Target{Host: p.Inv.Hosts[host], Options: opts})
		if err != nil {
			return "", err
		}
		defer c.Close()
		return c.Run(ctx, script, stdin)
	}
	vr, err := verify.Run(ctx, probes, runner, 3*time.Second, eo)
	require.NoError(t, err)
	for _, r := range vr.Results {
		assert.True(t, r.Pass, "%s: got %s %s", r.Probe, r.Got, r.Note)
	}
	again, _, err := plan.Live(ctx, p, open, eo)
	require.NoError(t, err)
	assert.False(t, again.Changes(), "plan after apply: no changes")
}
