package windows_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

// TestConformanceOpenSSH runs the suite over PowerShell over OpenSSH
// (windows_transport: ssh), the simulator's host key pinned in a
// known_hosts file, under each DefaultShell OpenSSH can run commands
// through: powershell.exe (fwpush's README sets it; it turns a program's
// exit code into 0 or 1) and cmd.exe (OpenSSH's default).
func TestConformanceOpenSSH(t *testing.T) {
	for name, cmdShell := range map[string]bool{"powershell": false, "cmd": true} {
		t.Run(name, func(t *testing.T) {
			driverstest.Conformance(t, driverstest.Suite{
				Platform: windows.Platform(),
				Registry: all.Registry(),
				Root:     "../..",
				Device:   func(t *testing.T) driverstest.Target { return target(t, startSSHSim(t, "testdata/a.yml", cmdShell)) },
			})
		})
	}
}

// sim is a simulated Windows host served on the loopback address.
type sim struct {
	dev   *winsim.Device
	clock *netsim.FakeClock
	p     *project.Project
	open  plan.Opener
	// origin is the address the host sees connections come from.
	origin netip.Addr
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
	return &sim{dev: dev, clock: clock, p: p, open: open, origin: netip.MustParseAddr("127.0.0.1")}
}

// startSSHSim serves the simulator over OpenSSH on the loopback address,
// its host key in a known_hosts file the inventory names, dialled from
// 127.0.0.2 (a lab controller's address is not the host's).
func startSSHSim(t *testing.T, playbook string, cmdShell bool) *sim {
	return startSSHSimWith(t, playbook, winsim.SSHConfig{CmdShell: cmdShell})
}

func startSSHSimWith(t *testing.T, playbook string, c winsim.SSHConfig) *sim {
	t.Helper()
	clock := netsim.NewFakeClock(time.Now())
	dev, err := winsim.New(winsim.Options{Hostname: "WIN-1", Users: []winsim.User{{Name: "fwpush", Password: simPassword}},
		Clock: clock, Rules: []winsim.Rule{winrmRule}})
	require.NoError(t, err)
	srv, err := winsim.NewSSHServer(dev, c)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p, err := project.Load(project.Options{Inventory: "testdata/inventory", Playbook: playbook, Registry: all.Registry()})
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	kh := filepath.Join(t.TempDir(), "known_hosts")
	for _, h := range p.Inv.Hosts {
		h.Port, h.Password = port, inventory.Secret(simPassword)
		h.Data[windows.DataTransport] = "ssh"
		h.Data[drivers.DataKnownHosts] = kh
		require.NoError(t, os.WriteFile(kh, []byte(winsim.KnownHostsLine(h, srv.HostKey())), 0o644))
	}
	from := netip.MustParseAddr("127.0.0.2")
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from.AsSlice()}}
		return d.DialContext(ctx, network, addr)
	}
	open := plan.DriverOpener(p.Registry, p.Inv, drivers.TransportOptions{ConnectTimeout: 5 * time.Second,
		CommandTimeout: 30 * time.Second, ConnectRetries: 1, SSHConfigFile: "none"}, dial)
	return &sim{dev: dev, clock: clock, p: p, open: open, origin: from}
}

func simTarget(t *testing.T) driverstest.Target { return target(t, startSim(t, "testdata/a.yml")) }

// target is the suite's view of s, with policy B of testdata/b.yml.
func target(t *testing.T, s *sim) driverstest.Target {
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

// TestOrigin: the address the lock-out guard checks is the one the host
// saw the connection come from: WinRM's ClientIP; over OpenSSH the
// session's SSH_CONNECTION under either default shell, else the
// connection's local address.
func TestOrigin(t *testing.T) {
	tests := map[string]func(t *testing.T) *sim{
		"winrm":          func(t *testing.T) *sim { return startSim(t, "testdata/a.yml") },
		"ssh powershell": func(t *testing.T) *sim { return startSSHSim(t, "testdata/a.yml", false) },
		"ssh cmd":        func(t *testing.T) *sim { return startSSHSim(t, "testdata/a.yml", true) },
		"ssh, no SSH_CONNECTION": func(t *testing.T) *sim {
			return startSSHSimWith(t, "testdata/a.yml", winsim.SSHConfig{NoConnectionEnv: true})
		},
	}
	for name, start := range tests {
		t.Run(name, func(t *testing.T) {
			s := start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sess, err := s.open(ctx, "win-1")
			require.NoError(t, err)
			defer sess.Close()
			got, err := sess.(drivers.OriginReporter).Origin(ctx)
			require.NoError(t, err)
			assert.Equal(t, s.origin, got)
		})
	}
}
