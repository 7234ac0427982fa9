package e2e

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/driverstest/routerlab"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/verify"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
)

// routerEnv is a seed system's router variant pushed to a routed lab whose
// IOS-XE, NX-OS and EOS routers are simulators enforcing their ACLs.
func routerEnv(t *testing.T, system string, opts ...routerlab.RouterLabOption) (*env, *routerlab.RouterLab) {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: "../../inventory/examples/" + system + "-routers",
		Playbook: "../../playbooks/" + system + ".yml", Registry: all.Registry()})
	require.NoError(t, err)
	rl := routerlab.StartRouterLab(t, p, opts...)
	return &env{p: p, lab: rl.Lab, reg: p.Registry, opts: rl.Options}, rl
}

// TestSeedSystemsWithRouters pushes every seed system's router variant
// (one IOS-XE, one NX-OS and one EOS router protecting some roles, the
// Linux hosts as in the seed): plan shows changes on every device and
// changes none, apply confirms, each router namespace enforces what its
// simulator holds, real TCP/UDP probes through the routers prove the
// flows connect and unlisted ports are blocked, and a second plan reports
// no changes.
func TestSeedSystemsWithRouters(t *testing.T) {
	for _, system := range []string{"clearwater", "dmcm", "satellite", "wdm", "portaswitch"} {
		t.Run(system, func(t *testing.T) {
			t.Parallel()
			e, rl := routerEnv(t, system)
			require.Len(t, rl.Routers, 3)
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()

			running := map[string]string{}
			for name, r := range rl.Routers {
				running[name] = configBody(r.Device.RunningConfig())
			}
			pl, sum, err := plan.Live(ctx, e.p, e.opener(), eo())
			require.NoError(t, err)
			assert.Equal(t, len(e.p.Selected), sum.Counts[engine.Changed], "every device starts without fwpush's policy")
			for _, d := range pl.Devices {
				require.NotNil(t, d.Diff, d.Host)
				assert.True(t, d.Diff.Summary.Created, d.Host)
				assert.NotEmpty(t, d.Diff.Summary.Permitted, d.Host)
			}
			for name, r := range rl.Routers {
				assert.Equal(t, running[name], configBody(r.Device.RunningConfig()), "%s: a dry run leaves the router's config as it was", name)
				assert.Zero(t, r.Device.ConfigModeCommands(), "%s: a dry run sends no configuration command", name)
				assert.Zero(t, r.Device.MutatingCommands(), "%s: a dry run saves, arms, commits nothing", name)
			}

			rep, err := apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: 2 * time.Minute, Engine: eo()})
			require.NoError(t, err)
			planned := map[string]string{}
			for _, d := range pl.Devices {
				planned[d.Host] = d.Diff.Unified
			}
			for _, d := range rep.Devices {
				assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
				if assert.NotNil(t, d.Diff, d.Host) {
					assert.Equal(t, planned[d.Host], d.Diff.Unified, "%s: the dry run's diff is the one applied", d.Host)
				}
			}
			for name, r := range rl.Routers {
				require.NoError(t, r.Enforced(ctx), name)
				assert.Empty(t, r.Device.PendingTimers(), "%s: confirmed: no revert left pending", name)
				assert.Equal(t, configBody(r.Device.RunningConfig()), configBody(r.Device.StartupConfig()), "%s: confirmed and saved", name)
			}

			probes, err := verify.Generate(e.p, verify.Options{PerFlow: 3, Negatives: 2})
			require.NoError(t, err)
			vr, err := verify.Run(ctx, probes, e.runner(), 2*time.Second, eo())
			require.NoError(t, err)
			positives, negatives, routed := 0, 0, 0
			for _, r := range vr.Results {
				if r.Expect {
					positives++
				} else {
					negatives++
				}
				if crossesRouter(rl, r.Probe.Src, r.Probe.Dst) {
					routed++
				}
				assert.True(t, r.Pass, "%s: got %s %s", r.Probe, r.Got, r.Note)
			}
			assert.Positive(t, positives)
			assert.Positive(t, negatives)
			assert.Positive(t, routed, "some probes cross a router")
			t.Logf("%s: %d devices, %d probes (%d must connect, %d must be blocked, %d through a router)",
				system, len(e.p.Selected), len(vr.Results), positives, negatives, routed)

			again, _, err := plan.Live(ctx, e.p, e.opener(), eo())
			require.NoError(t, err)
			assert.False(t, again.Changes(), "second plan after apply reports no changes")
			typed := map[string]int{}
			for name, r := range rl.Routers {
				typed[name] = r.Device.ConfigModeCommands()
			}
			rep, err = apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: 2 * time.Minute, Engine: eo()})
			require.NoError(t, err)
			for _, d := range rep.Devices {
				assert.Equal(t, apply.Unchanged, d.Outcome, "%s: the second apply changes nothing", d.Host)
			}
			for name, r := range rl.Routers {
				assert.Equal(t, typed[name], r.Device.ConfigModeCommands(), "%s: the second apply types no configuration command", name)
			}

			for name := range rl.Routers {
				routerDropsAlone(t, ctx, e, name)
			}
		})
	}
}

// routerDropsAlone proves a router's ACL filters on its own: with the
// firewall of a host behind it flushed, the controller still reaches the
// host's SSH (the ACL's management rule) but not an unlisted port, which
// the router drops (a timeout) while the router itself, whose own packets
// its outbound ACL does not filter, is refused by the host (the port is
// closed, not filtered, there).
func routerDropsAlone(t *testing.T, ctx context.Context, e *env, router string) {
	t.Helper()
	h := e.p.Inv.Hosts[router]
	require.NotEmpty(t, h.ACLs, router)
	var target *inventory.Host
	for _, role := range h.ACLs[0].Protects {
		if hs := e.p.Inv.HostsWithRole(role); len(hs) > 0 {
			target = hs[0]
			break
		}
	}
	require.NotNil(t, target, "%s protects no host", router)
	e.sh(t, target.Name, "nft flush ruleset")
	addr := target.Addresses[0]
	dial := func(from string, port uint16) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		c, err := e.lab.DialFrom(ctx, from, "tcp", netip.AddrPortFrom(addr, port).String())
		if err == nil {
			c.Close()
		}
		return err
	}
	require.NoError(t, dial(testbed.Controller, 22), "%s: management reaches %s through %s", router, target.Name, router)
	err := dial(testbed.Controller, 2323)
	require.Error(t, err, "%s: an unlisted port of %s must be blocked by %s alone", router, target.Name, router)
	var ne net.Error
	assert.True(t, errors.As(err, &ne) && ne.Timeout(), "%s: dropped by the router's ACL (a timeout), not refused by %s: %v", router, target.Name, err)
	assert.ErrorIs(t, dial(router, 2323), syscall.ECONNREFUSED, "%s: %s's own firewall is off: the port is closed, not filtered", router, target.Name)
}

// configBody is a device's configuration without the header lines that
// tell the time or the command (NX-OS prints them).
func configBody(c string) string {
	var keep []string
	for _, l := range strings.Split(c, "\n") {
		if strings.HasPrefix(l, "!Time:") || strings.HasPrefix(l, "!Running configuration last done") || strings.HasPrefix(l, "!Command:") || strings.HasPrefix(l, "! Command:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// crossesRouter says whether traffic between two addresses leaves a
// segment: they are not both on the same one.
func crossesRouter(rl *routerlab.RouterLab, a, b netip.Addr) bool {
	for _, s := range rl.Lab.Segments() {
		if (s.IPv4.Contains(a) || s.IPv6.Contains(a)) && (s.IPv4.Contains(b) || s.IPv6.Contains(b)) {
			return false
		}
	}
	return true
}

// TestRouterFleetOneRejects pushes a seed system's router variant (15
// devices) with one router refusing a line of its change (RELIABILITY.md
// A8): every other device is confirmed, the refusing one fails with its
// config as it was, the report lists each, and the run fails.
func TestRouterFleetOneRejects(t *testing.T) {
	t.Parallel()
	e, rl := routerEnv(t, "clearwater")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bad := rl.Routers["core-nxos-1"]
	require.NotNil(t, bad)
	before := configBody(bad.Device.RunningConfig())
	bad.Device.RejectLine(5)
	rep, err := apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: 2 * time.Minute, Engine: eo()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "core-nxos-1: apply:")
	require.Len(t, rep.Devices, len(e.p.Selected))
	for _, d := range rep.Devices {
		if d.Host == "core-nxos-1" {
			assert.Equal(t, apply.Failed, d.Outcome, d.Error)
			continue
		}
		assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
	}
	assert.Equal(t, before, configBody(bad.Device.RunningConfig()), "the refusing router is as it was")
	assert.Empty(t, bad.Device.PendingTimers())
	assert.Equal(t, len(e.p.Selected)-1, rep.Summary.Counts[engine.Changed])
	assert.Equal(t, 1, rep.Summary.Counts[engine.Failed])
}
