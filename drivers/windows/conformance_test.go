package windows_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed/netsim"
	"github.com/fwpush/fwpush/testbed/winsim"
)

// TestConformance runs the suite every driver passes against the lab
// simulator of a Windows host (testbed/winsim) over real WinRM (HTTPS,
// NTLM) on the loopback address; its scheduled tasks run on a fake clock,
// so the revert check takes no wall time. The foreign rule is the one a
// WinRM HTTPS setup adds.
func TestConformance(t *testing.T) {
	driverstest.Conformance(t, driverstest.Suite{
		Platform: windows.Platform(),
		Registry: all.Registry(),
		Root:     "../..",
		Device:   simTarget,
	})
}

// sim is a simulated Windows host served on the loopback address.
type sim struct {
	dev   *winsim.Device
	clock *netsim.FakeClock
	p     *project.Project
	open  plan.Opener
}

const simPassword = "conformance-Pa55"

// winrmRule is the rule a WinRM HTTPS listener's setup adds, outside
// fwpush's group.
var winrmRule = winsim.Rule{Name: "WINRM-HTTPS-In-TCP", DisplayName: "Windows Remote Management (HTTPS-In)",
	Group: "Windows Remote Management", Protocol: "TCP", LocalPort: []string{"5986"}, Enabled: true}

func startSim(t *testing.T, playbook string) *sim {
	t.Helper()
	clock := netsim.NewFakeClock(time.Now())
	dev, err := winsim.New(winsim.Options{Hostname: "WIN-1", Users: []winsim.User{{Name: "fwpush", Password: simPassword}},
		Clock: clock, Rules: []winsim.Rule{winrmRule}})
	require.NoError(t, err)
	certs, err := winsim.NewCerts("127.0.0.1")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := winsim.NewServer(dev, winsim.Auth{Negotiate: true})
	go srv.Serve(certs.Listener(ln))
	t.Cleanup(func() { srv.Close() })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, certs.CAPEM, 0o644))
	p, err := project.Load(project.Options{Inventory: "testdata/inventory", Playbook: playbook, Registry: all.Registry()})
	require.NoError(t, err)
	port, _ := strconv.Atoi(ln.Addr().(*net.TCPAddr).AddrPort().String()[len("127.0.0.1:"):])
	for _, h := range p.Inv.Hosts {
		h.Port, h.Password = port, inventory.Secret(simPassword)
		h.Data[windows.DataWinRMCAFile] = ca
	}
	open := plan.DriverOpener(p.Registry, p.Inv, drivers.TransportOptions{ConnectTimeout: 5 * time.Second,
		CommandTimeout: 30 * time.Second, ConnectRetries: 1}, nil)
	return &sim{dev: dev, clock: clock, p: p, open: open}
}

func simTarget(t *testing.T) driverstest.Target {
	s := startSim(t, "testdata/a.yml")
	b, err := project.Load(project.Options{Inventory: "testdata/inventory", Playbook: "testdata/b.yml", Registry: all.Registry()})
	require.NoError(t, err)
	return driverstest.Target{
		Open: func(ctx context.Context) (drivers.Session, error) { return s.open(ctx, "win-1") },
		A:    s.p.Intents["win-1"],
		B:    b.Intents["win-1"],
		Foreign: func(t *testing.T) func() bool {
			return func() bool {
				for _, r := range s.dev.Rules() {
					if r.Name == winrmRule.Name {
						return r.Group == winrmRule.Group && len(r.LocalPort) == 1 && r.LocalPort[0] == "5986" && r.Enabled
					}
				}
				return false
			}
		},
		// The host's clock, not the test's: move it past the deadline.
		Expire: func(t *testing.T, armed drivers.Armed) { s.clock.Advance(armed.Within + time.Second) },
	}
}
