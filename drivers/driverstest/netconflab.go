package driverstest

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/transport/netconf"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/netconflab"
)

// NetconfDevice describes the session-check device of a NETCONF driver:
// netconfd serving Model on a lab host, and Host of Inventory (a
// directory) under the policies A and B (playbook files), all paths
// relative to the test's directory.
type NetconfDevice struct {
	Inventory, A, B, Host string
	Model                 netconflab.Model
	// Front puts the native Junos dialect's lab front on the host's port
	// (its inventory port) in front of netconfd.
	Front bool
	// Plant is an edit-config payload of config fwpush does not own;
	// Show the subtree filter that reads it back.
	Plant, Show string
	// Registry resolves the inventory's platforms (nil: fwpush's own).
	Registry *drivers.Registry
}

// NetconfTarget starts the device for the session checks.
func NetconfTarget(d NetconfDevice) func(t *testing.T) Target {
	return func(t *testing.T) Target {
		dir := netconflab.YANGDir(t, d.Model)
		load := func(pb string) *project.Project {
			p, err := project.Load(project.Options{Inventory: d.Inventory, Playbook: pb, Limit: d.Host, Registry: d.Registry})
			require.NoError(t, err)
			return p
		}
		a, b := load(d.A), load(d.B)
		h := a.Inv.Hosts[d.Host]
		addr, err := netip.ParseAddr(h.Hostname)
		require.NoError(t, err, "the device's hostname must be its address")
		pfx, err := testbed.LabPrefix(addr)
		require.NoError(t, err)
		lab := testbed.StartT(t, []testbed.HostSpec{{Name: "dev", Addrs: []netip.Prefix{pfx}}}, testbed.WithNetconfSubsystem())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		nd, err := netconflab.Start(ctx, lab, "dev", d.Model, dir)
		require.NoError(t, err)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("netconfd log:\n%s", nd.LogTail())
			}
		})
		known := []string{lab.KnownHostsPath()}
		if d.Front {
			f, err := netconflab.StartFront(ctx, lab, "dev", netip.AddrPortFrom(addr, uint16(h.Port)), addr.String())
			require.NoError(t, err)
			t.Cleanup(f.Close)
			path := filepath.Join(t.TempDir(), "known_hosts")
			require.NoError(t, os.WriteFile(path, f.KnownHostsLine(), 0o600))
			known = append(known, path)
		}
		open := plan.DriverOpener(a.Registry, a.Inv, drivers.TransportOptions{
			KnownHostsFiles: known, IdentityFiles: []string{lab.ClientKeyPath()},
			SSHConfigFile: "none", ConnectTimeout: 10 * time.Second, CommandTimeout: 30 * time.Second,
			Keepalive: 2 * time.Second, ConnectRetries: 3,
		}, lab.DialContext)
		direct := func(t *testing.T) *netconf.Session {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := netconflab.Dial(ctx, lab, testbed.Controller, addr.String())
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		}
		return Target{
			Open: func(ctx context.Context) (drivers.Session, error) { return open(ctx, d.Host) },
			A:    a.Intents[d.Host],
			B:    b.Intents[d.Host],
			Foreign: func(t *testing.T) func() bool {
				s := direct(t)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				require.NoError(t, s.Lock(ctx, netconf.Candidate))
				require.NoError(t, s.EditConfig(ctx, netconf.Candidate, d.Plant, netconf.Merge))
				require.NoError(t, s.Commit(ctx, netconf.CommitOptions{}))
				require.NoError(t, s.Unlock(ctx, netconf.Candidate))
				show := func() string {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					got, err := s.GetConfig(ctx, netconf.Running, d.Show)
					require.NoError(t, err)
					return got
				}
				want := show()
				require.NotEmpty(t, strings.TrimSpace(want), "the planted config reads back")
				return func() bool { return show() == want }
			},
			// A real netconfd: wait for its timer. It checks deadlines only
			// after a second without traffic; nothing talks to it here.
			Expire: func(t *testing.T, armed drivers.Armed) {
				time.Sleep(time.Until(armed.Deadline) + 4*time.Second)
			},
		}
	}
}
