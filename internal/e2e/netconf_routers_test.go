package e2e

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/explain"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/verify"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
	"github.com/fwpush/fwpush/testbed/netconflab"
)

// routedEnv is a project on a routed lab whose NETCONF routers run
// netconfd with their platform's YANG (behind the lab's native-dialect
// front when the inventory reaches them on another port than sshd's 22),
// each with an agent enforcing what it committed.
type routedEnv struct {
	*env
	segment map[string]string // host → lab segment
	agents  map[string]*netconflab.Agent
	nds     map[string]*testbed.Netconfd
}

// routerModels are the YANG models of the NETCONF router platforms.
var routerModels = map[string]netconflab.Model{"juniper-junos": netconflab.Junos, "openconfig": netconflab.OpenConfig}

func newRoutedEnv(t *testing.T, inventoryDir, playbook string) *routedEnv {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: inventoryDir, Playbook: playbook})
	require.NoError(t, err)
	dirs := map[string]string{}
	for _, h := range p.Inv.Select(nil) {
		if m, ok := routerModels[h.Platform]; ok && dirs[h.Platform] == "" {
			dirs[h.Platform] = netconflab.YANGDir(t, m)
		}
	}
	topo, err := labinv.Build(p)
	require.NoError(t, err)
	opts := append(topo.Options(), testbed.WithNetconfSubsystem(), testbed.WithReadyTimeout(time.Minute))
	lab := testbed.StartT(t, topo.Hosts, opts...)
	e := &routedEnv{env: labEnv(p, lab), segment: map[string]string{}, agents: map[string]*netconflab.Agent{},
		nds: map[string]*testbed.Netconfd{}}
	for _, h := range topo.Hosts {
		e.segment[h.Name] = h.Segment
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var known []byte
	for _, h := range p.Inv.Select(nil) {
		m, ok := routerModels[h.Platform]
		if !ok {
			continue
		}
		nd, err := netconflab.Start(ctx, lab, h.Name, m, dirs[h.Platform])
		require.NoError(t, err)
		e.nds[h.Name] = nd
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s netconfd log:\n%s", h.Name, nd.LogTail())
			}
		})
		if h.Port != 22 {
			addr := netip.MustParseAddr(h.Hostname)
			f, err := netconflab.StartFront(ctx, lab, h.Name, netip.AddrPortFrom(addr, uint16(h.Port)), h.Hostname)
			require.NoError(t, err)
			t.Cleanup(f.Close)
			known = append(known, f.KnownHostsLine()...)
		}
		a, err := netconflab.StartAgent(ctx, lab, h.Name, m)
		require.NoError(t, err)
		t.Cleanup(a.Close)
		e.agents[h.Name] = a
		e.segment[h.Name] = ""
	}
	if len(known) > 0 {
		path := filepath.Join(t.TempDir(), "known_hosts")
		require.NoError(t, os.WriteFile(path, known, 0o600))
		e.opts.KnownHostsFiles = append(e.opts.KnownHostsFiles, path)
	}
	return e
}

// opener syncs every router's enforcement with what its netconfd holds
// before each new session, so a session (fwpush's check over a new
// connection, a probe run) meets the filters the last commit made.
func (e *routedEnv) opener(t *testing.T) plan.Opener {
	open := plan.DriverOpener(e.reg, e.p.Inv, e.opts, e.lab.DialContext)
	return func(ctx context.Context, host string) (drivers.Session, error) {
		e.sync(t, ctx)
		return open(ctx, host)
	}
}

func (e *routedEnv) sync(t *testing.T, ctx context.Context) {
	for name, a := range e.agents {
		if err := a.Sync(ctx); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// with is the same lab under another project (a --limit, say).
func (e *routedEnv) with(t *testing.T, limit string) *routedEnv {
	t.Helper()
	return e.under(t, e.p.Options.Playbook, limit)
}

// under is the same lab under another playbook and --limit.
func (e *routedEnv) under(t *testing.T, playbook, limit string) *routedEnv {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: e.p.Inv.Dir, Playbook: playbook, Limit: limit, Registry: e.reg})
	require.NoError(t, err)
	cp := *e
	cp.env = &env{p: p, lab: e.lab, reg: e.reg, opts: e.opts}
	return &cp
}

// routerProbes are the probes whose path crosses a router between two
// lab segments, with what the routers alone decide for each.
func (e *routedEnv) routerProbes(t *testing.T, probes []verify.Probe) (out []verify.Probe) {
	t.Helper()
	for _, pr := range probes {
		if e.segment[pr.From] == e.segment[pr.To] {
			continue
		}
		res, err := explain.Run(e.p, explain.Query{From: pr.Src.String(), To: pr.Dst.String(), Proto: pr.Proto, Port: int(pr.Port)})
		require.NoError(t, err)
		crossed, permit := false, true
		for _, c := range res.Paths[0].Checks {
			if _, router := e.agents[c.Device]; router {
				crossed = true
				permit = permit && c.Permit
			}
		}
		if crossed {
			pr.Expect = permit
			out = append(out, pr)
		}
	}
	return out
}

// TestSeedSystemsBehindRouters pushes seed systems whose hosts sit on
// segments joined by a Junos router (one in each XML dialect) or an
// OpenConfig switch: first the
// router alone, when real probes across it must connect or be dropped as
// its filters alone say (no host has a firewall yet, so what is dropped
// is dropped at the router); then every device, when every probe must
// match the whole policy; then a second plan must report no changes.
func TestSeedSystemsBehindRouters(t *testing.T) {
	for _, sys := range []struct{ name, inventory, playbook, router string }{
		{"wdm-junos", "wdm-junos", "wdm", "wdm-rtr-1"},
		{"satellite-junos", "satellite-junos", "satellite", "sat-rtr-1"},
		{"portaswitch-openconfig", "portaswitch-openconfig", "portaswitch", "core-sw-1"},
	} {
		t.Run(sys.name, func(t *testing.T) {
			t.Parallel()
			e := newRoutedEnv(t, "../../inventory/examples/"+sys.inventory, "../../playbooks/"+sys.playbook+".yml")
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()

			rtr := e.with(t, sys.router)
			rep, err := apply.Run(ctx, rtr.p, e.opener(t), apply.Options{ConfirmWithin: 2 * time.Minute, Engine: eo()})
			require.NoError(t, err)
			require.Len(t, rep.Devices, 1)
			require.Equal(t, apply.Confirmed, rep.Devices[0].Outcome, rep.Devices[0].Error)
			e.sync(t, ctx)
			if os.Getenv("FWPUSH_DEBUG_ROUTER") != "" {
				out, _ := e.lab.NetExec(ctx, sys.router, nil, "nft", "list", "ruleset")
				t.Logf("router ruleset:\n%s", out)
			}

			all, err := verify.Generate(e.p, verify.Options{PerFlow: 4, Negatives: 3})
			require.NoError(t, err)
			probes := e.routerProbes(t, all)
			vr, err := verify.Run(ctx, probes, e.runner(), 2*time.Second, eo())
			require.NoError(t, err)
			crossing, dropped := 0, 0
			for _, r := range vr.Results {
				assert.True(t, r.Pass, "router only: %s: got %s %s", r.Probe, r.Got, r.Note)
				if r.Expect {
					crossing++
				} else {
					dropped++
				}
			}
			assert.Positive(t, crossing, "probes the router lets through")
			assert.Positive(t, dropped, "probes the router drops")
			t.Logf("%s, router only: %d probes across it, %d connect, %d dropped at the router", sys.name, len(vr.Results), crossing, dropped)

			rep, err = apply.Run(ctx, e.p, e.opener(t), apply.Options{ConfirmWithin: 2 * time.Minute, Engine: eo()})
			require.NoError(t, err)
			for _, d := range rep.Devices {
				want := apply.Confirmed
				if d.Host == sys.router {
					want = apply.Unchanged
				}
				assert.Equal(t, want, d.Outcome, "%s: %s", d.Host, d.Error)
			}
			e.sync(t, ctx)
			vr, err = verify.Run(ctx, all, e.runner(), 2*time.Second, eo())
			require.NoError(t, err)
			for _, r := range vr.Results {
				assert.True(t, r.Pass, "everything: %s: got %s %s", r.Probe, r.Got, r.Note)
			}
			t.Logf("%s, everything: %d probes", sys.name, len(vr.Results))

			again, _, err := plan.Live(ctx, e.p, e.opener(t), eo())
			require.NoError(t, err)
			assert.False(t, again.Changes(), "second plan after apply reports no changes")
			for _, d := range again.Devices {
				assert.Empty(t, d.Error, d.Host)
			}
		})
	}
}
