package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/hostiletest"
	"github.com/fwpush/fwpush/internal/journal"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/internal/verify"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// hostileLab writes an inventory of one nftables and one iptables host
// whose free text (network descriptions, data values) is the hostile
// corpus, and two playbooks over it: a plain baseline, and one whose every
// free-text field (description, source, role and service descriptions,
// each flow's why) is a hostile string, one flow and service per string.
func hostileLab(t *testing.T, corpus []hostiletest.Payload) (inv, baseline, hostile string) {
	t.Helper()
	dir := t.TempDir()
	y := hostiletest.YAML
	var notes, nets strings.Builder
	for i, p := range corpus {
		fmt.Fprintf(&notes, "    note-%d: %s\n", i, y(p.Text))
		fmt.Fprintf(&nets, "  n-%d:\n    description: %s\n    prefixes: [198.19.%d.0/24]\n", i, y(p.Text), 100+i)
	}
	files := map[string]string{
		"inventory/hosts.yaml": "nft-1:\n  hostname: 198.18.41.11\n  platform: linux-nftables\n  groups: [web]\n  data:\n" +
			"    addresses: [198.18.41.11, \"2001:db8:41::11\"]\n" + notes.String() +
			"ipt-1:\n  hostname: 198.18.41.12\n  platform: linux-iptables\n  groups: [web]\n  data:\n" +
			"    addresses: [198.18.41.12, \"2001:db8:41::12\"]\n" + notes.String(),
		"inventory/groups.yaml":   "web:\n  data:\n    team: " + y(corpus[0].Text) + "\n",
		"inventory/defaults.yaml": "username: root\nport: 22\n",
		// The lab controller (198.18.0.1, 2001:db8::1) manages the hosts.
		"inventory/networks.yaml": "management:\n  - 198.18.0.0/24\n  - \"2001:db8::/64\"\nnetworks:\n" + nets.String(),
		"baseline.yml": "name: baseline\nroles: {web: {}}\nflows:\n" +
			"  - {from: any, to: web, ports: [tcp/80], why: Users reach the site}\n",
	}
	var all []string
	var pb strings.Builder
	for _, p := range corpus {
		all = append(all, p.Text)
	}
	fmt.Fprintf(&pb, "name: hostile\ndescription: %s\nsource: %s\nroles:\n  web: {description: %s}\nservices:\n",
		y(strings.Join(all, " | ")), y(corpus[1].Text), y(corpus[2].Text))
	for i, p := range corpus {
		fmt.Fprintf(&pb, "  s-%d: {description: %s, ports: [tcp/%d]}\n", i, y(p.Text), 20000+i)
	}
	pb.WriteString("flows:\n  - {from: any, to: web, ports: [tcp/80], why: Users reach the site}\n")
	for i, p := range corpus {
		// Host to host, so verify probes every one of them; from the
		// payload's network too, so its description is in play.
		fmt.Fprintf(&pb, "  - {from: [web, n-%d], to: web, services: [s-%d], why: %s}\n", i, i, y(p.Text))
	}
	files["hostile.yml"] = pb.String()
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return filepath.Join(dir, "inventory"), filepath.Join(dir, "baseline.yml"), filepath.Join(dir, "hostile.yml")
}

// TestHostileFreeTextOnLab pushes a playbook whose every free-text field is
// a hostile string (quotes, $(), backticks, newlines, NUL, 100 KB, bidi
// overrides, ANSI escapes, nft and iptables breakouts), over an inventory
// whose free text is hostile too, through everything that talks to a
// device: plan, apply (commit-confirmed), verify and a recorded rollback,
// on an nftables and an iptables host with real sshd. Each payload, if
// any shell ever ran it, creates its canary in /tmp, which the lab hosts
// share: none may exist afterwards. And every device stays consistent:
// after apply its owned config is exactly the render, after rollback its
// whole firewall is exactly what it was before.
func TestHostileFreeTextOnLab(t *testing.T) {
	canaries := hostiletest.NewCanaries(t)
	corpus := canaries.Corpus()
	invDir, baselinePB, hostilePB := hostileLab(t, corpus)
	base, err := project.Load(project.Options{Inventory: invDir, Playbook: baselinePB})
	require.NoError(t, err)
	hostile, err := project.Load(project.Options{Inventory: invDir, Playbook: hostilePB})
	require.NoError(t, err)
	require.Equal(t, corpus[3].Text, hostile.Inv.Hosts["ipt-1"].Data["note-3"], "free text loads unchanged")
	require.Equal(t, corpus[4].Text, hostile.Inv.Networks["n-4"].Description)

	lab := testbed.StartT(t, labinv.Specs(hostile), testbed.WithReadyTimeout(time.Minute))
	e := labEnv(base, lab)
	h := labEnv(hostile, lab)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	require.NoError(t, err)
	o := apply.Options{ConfirmWithin: okTimer, Engine: eo()}
	confirmed := func(res *journal.Result, err error) {
		t.Helper()
		require.NoError(t, err)
		for _, d := range res.Devices {
			require.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
		}
	}
	fetch := func(host string) string {
		t.Helper()
		s, err := h.opener()(ctx, host)
		require.NoError(t, err)
		defer s.Close()
		c, err := s.Fetch(ctx)
		require.NoError(t, err)
		return c.String()
	}

	run := func(kind, pb string) store.Run {
		r, err := journal.NewRun(kind, "fwpush "+kind, pb, invDir)
		require.NoError(t, err)
		return r
	}
	confirmed(journal.Apply(ctx, st, run("apply", baselinePB), base, nil, e.opener(), o))
	before := map[string]string{}
	beforeCfg := map[string]string{}
	for _, host := range e.hostNames() {
		before[host], beforeCfg[host] = e.hash(t, host), fetch(host)
	}

	// plan: every device has the change pending, and its diff is the
	// render's (sanitized) text, never the raw payload.
	pl, _, err := plan.Live(ctx, hostile, h.opener(), eo())
	require.NoError(t, err)
	for _, d := range pl.Devices {
		require.Equal(t, engine.Changed, d.Status, "%s: %s", d.Host, d.Error)
		assert.NotContains(t, d.Diff.Unified, "\x1b", d.Host)
		assert.NotContains(t, d.Diff.Unified, "\u202e", d.Host)
	}

	// apply: confirmed, and each device holds exactly the render.
	confirmed(journal.Apply(ctx, st, run("apply", hostilePB), hostile, nil, h.opener(), o))
	for _, host := range h.hostNames() {
		want, err := plan.Render(hostile, host)
		require.NoError(t, err)
		assert.Equal(t, want.Desired.String(), fetch(host), "%s holds the render", host)
	}
	pl, _, err = plan.Live(ctx, hostile, h.opener(), eo())
	require.NoError(t, err)
	for _, d := range pl.Devices {
		assert.Equal(t, engine.Unchanged, d.Status, "%s: nothing left to push", d.Host)
	}

	// verify: real probes between the hosts for every hostile flow.
	probes, err := verify.Generate(hostile, verify.Options{PerFlow: 2, Negatives: 2})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(probes), 2*len(corpus))
	vr, err := verify.Run(ctx, probes, h.runner(), 2*time.Second, eo())
	t.Logf("verify: %d probes, %d passed", len(vr.Results), vr.Passed)
	require.NoError(t, err)
	for _, r := range vr.Results {
		assert.True(t, r.Pass, "%s: got %s (%s)", r.Probe, r.Got, r.Note)
	}

	// rollback, as `fwpush rollback` does it: to before the latest run.
	targets, err := journal.Targets(st, h.hostNames(), "")
	require.NoError(t, err)
	require.NoError(t, journal.CheckTargets(hostile.Inv, targets))
	confirmed(journal.Rollback(ctx, st, run("rollback", ""), targets, h.opener(), o))
	for _, host := range h.hostNames() {
		assert.Equal(t, beforeCfg[host], fetch(host), "%s: owned config restored", host)
		assert.Equal(t, before[host], h.hash(t, host), "%s: whole firewall as before", host)
	}

	// The injection this test was written for: an address whose IPv6 zone
	// holds shell code. The inventory refuses it, naming the line...
	zoned := "2001:db8:41::11%$(touch " + canaries.Prefix + "-zone-e2e)"
	hosts, err := os.ReadFile(filepath.Join(invDir, "hosts.yaml"))
	require.NoError(t, err)
	bad := filepath.Join(t.TempDir(), "inventory")
	require.NoError(t, os.CopyFS(bad, os.DirFS(invDir)))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "hosts.yaml"),
		[]byte(strings.Replace(string(hosts), `"2001:db8:41::11"`, hostiletest.YAML(zoned), 1)), 0o644))
	_, err = project.Load(project.Options{Inventory: bad, Playbook: hostilePB})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hosts.yaml:6:")
	assert.Contains(t, err.Error(), "IPv6 zone")
	// ...and a probe that carries one anyway is never sent to the host.
	addr, err := netip.ParseAddr(zoned)
	require.NoError(t, err)
	vr, err = verify.Run(ctx, []verify.Probe{{From: "nft-1", To: "ipt-1", Dst: addr, Proto: policy.TCP, Port: 80, Expect: true}},
		h.runner(), 2*time.Second, eo())
	require.NoError(t, err)
	assert.Equal(t, verify.Error, vr.Results[0].Got)
	assert.Contains(t, vr.Results[0].Note, "not sent")

	assert.Empty(t, canaries.Fired(), "a payload ran")
}
