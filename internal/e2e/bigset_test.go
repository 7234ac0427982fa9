package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// bigSet is how many client addresses the big-set test permits.
const bigSet = 10000

// bigSetInventory writes an inventory of one nftables and one iptables
// host, and a network of bigSet separate /32s (every other address, so no
// two aggregate into a shorter prefix), and a playbook permitting that
// network to both hosts.
func bigSetInventory(t *testing.T) (inv, playbook string) {
	t.Helper()
	dir := t.TempDir()
	var nets strings.Builder
	nets.WriteString("management:\n  - 198.18.0.0/24\n  - \"2001:db8::/64\"\nnetworks:\n  clients:\n    prefixes:\n")
	for i := 0; i < bigSet; i++ {
		n := 2 * i
		fmt.Fprintf(&nets, "      - 198.19.%d.%d/32\n", n/256, n%256)
	}
	files := map[string]string{
		"inventory/hosts.yaml": "nft-1:\n  hostname: 198.18.42.11\n  platform: linux-nftables\n  groups: [web]\n" +
			"  data: {addresses: [198.18.42.11, \"2001:db8:42::11\"]}\n" +
			"ipt-1:\n  hostname: 198.18.42.12\n  platform: linux-iptables\n  groups: [web]\n" +
			"  data: {addresses: [198.18.42.12, \"2001:db8:42::12\"]}\n",
		"inventory/defaults.yaml": "username: root\nport: 22\n",
		"inventory/groups.yaml":   "web: {}\n",
		"inventory/networks.yaml": nets.String(),
		"big.yml": "name: big\nroles: {web: {}}\nflows:\n" +
			"  - {from: clients, to: web, ports: [tcp/443], why: Ten thousand clients reach the site}\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return filepath.Join(dir, "inventory"), filepath.Join(dir, "big.yml")
}

// TestBigSetPush pushes a set of 10,000 addresses to an nftables host (one
// named set, a config of ~150 KB) and an iptables host (one rule per
// address, ~900 KB): both are past the kernel's 128 KiB limit on a single
// argument, which staging a config inside the command line hit ("Argument
// list too long", then reported as rolled-back). Each platform is planned,
// applied commit-confirmed and confirmed on its own, timed, and read back
// equal to the render.
func TestBigSetPush(t *testing.T) {
	invDir, pb := bigSetInventory(t)
	all, err := project.Load(project.Options{Inventory: invDir, Playbook: pb})
	require.NoError(t, err)
	lab := testbed.StartT(t, labinv.Specs(all), testbed.WithReadyTimeout(time.Minute))
	for _, host := range []string{"nft-1", "ipt-1"} {
		t.Run(host, func(t *testing.T) {
			p, err := project.Load(project.Options{Inventory: invDir, Playbook: pb, Limit: host})
			require.NoError(t, err)
			e := labEnv(p, lab)
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			want, err := plan.Render(p, host)
			require.NoError(t, err)
			size := 0
			for _, part := range want.Desired.Parts {
				size += len(part.Text)
			}
			require.Greater(t, size, 128<<10, "the config must exceed one argument's limit")

			t0 := time.Now()
			pl, _, err := plan.Live(ctx, p, e.opener(), eo())
			require.NoError(t, err)
			tPlan := time.Since(t0)
			require.Equal(t, engine.Changed, pl.Devices[0].Status)

			t0 = time.Now()
			rep, err := apply.Run(ctx, p, e.opener(), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
			tApply := time.Since(t0)
			require.NotNil(t, rep)
			require.Equal(t, apply.Confirmed, rep.Devices[0].Outcome, "%s: %s", host, rep.Devices[0].Error)
			require.NoError(t, err)
			assert.False(t, e.armed(t, host), "confirmed: no timer left")

			t0 = time.Now()
			pl, _, err = plan.Live(ctx, p, e.opener(), eo())
			require.NoError(t, err)
			tReplan := time.Since(t0)
			require.Equal(t, engine.Unchanged, pl.Devices[0].Status, "read back equals the render")
			require.NotNil(t, pl.Devices[0].Current)
			assert.Equal(t, want.Desired.String(), pl.Devices[0].Current.String())
			if host == "ipt-1" {
				assert.GreaterOrEqual(t, strings.Count(pl.Devices[0].Current.String(), "\n-A FWPUSH-INPUT -s 198.19."), bigSet)
			}
			t.Logf("%s: config %d KB; plan %s, apply (commit-confirmed, confirmed) %s, plan again %s",
				host, size>>10, tPlan.Round(time.Millisecond), tApply.Round(time.Millisecond), tReplan.Round(time.Millisecond))
		})
	}
}

// TestStagingFailureIsFailedOnLab: when staging fails on the device (here
// every `cat` on the host fails, as on a full disk), nothing was armed or
// applied. The outcome is "failed" at once, with the device's whole
// firewall untouched and no timer armed; it used to be "rolled-back",
// read back after the fact, as if a change had been made and undone.
func TestStagingFailureIsFailedOnLab(t *testing.T) {
	e := newRelEnv(t, "baseline.yml", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := e.rulesetHash(t)
	for _, h := range e.hostNames() {
		e.sh(t, h, `set -e
mkdir -p /root/bin
printf '#!/bin/sh\necho "cat: write error: No space left on device" >&2\nexit 1\n' > /root/bin/cat
chmod +x /root/bin/cat
echo 'export PATH=/root/bin:$PATH' > /root/.bashrc`)
	}
	t0 := time.Now()
	rep, err := apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.Error(t, err)
	require.NotNil(t, rep)
	for _, d := range rep.Devices {
		assert.Equal(t, apply.Failed, d.Outcome, "%s: %s", d.Host, d.Error)
		assert.Equal(t, "apply", d.Phase, d.Host)
		assert.Contains(t, d.Error, "stage", d.Host)
		assert.False(t, e.armed(t, d.Host), "%s: nothing armed", d.Host)
	}
	assert.Less(t, time.Since(t0), okTimer, "nothing armed, nothing waited for")
	assert.Equal(t, before, e.rulesetHash(t), "every firewall untouched")
}
