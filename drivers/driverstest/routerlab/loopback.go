package routerlab

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed/netsim"
)

// Loopback is a simulated network device served on a loopback port, for
// tests of a driver's session that need no lab (no root): no packets are
// enforced, the device's clock is the test's.
type Loopback struct {
	Device *netsim.Device
	Clock  *netsim.FakeClock
	target drivers.Target
	drv    drivers.Driver
}

// StartLoopback serves a simulator of platform p (a registry id mapped
// to its netsim dialect) with config as its initial configuration, one
// interface named iface, and a privileged user.
func StartLoopback(t *testing.T, p drivers.Platform, iface, config string) *Loopback {
	t.Helper()
	return startLoopback(t, t, p, map[string]string{iface: "eth1"}, config)
}

// startLoopback serves the simulator until owner ends (t's parent test,
// for a device that outlives subtests); failures are t's.
func startLoopback(t, owner *testing.T, p drivers.Platform, ifaces map[string]string, config string) *Loopback {
	t.Helper()
	sim, ok := simulated[p.ID]
	require.True(t, ok, "%s: no simulator", p.ID)
	clock := netsim.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	dev, err := netsim.NewDevice(netsim.Options{Platform: sim, Hostname: "sim-1", Config: config, Clock: clock,
		Interfaces: ifaces,
		Users:      []netsim.User{{Name: "admin", Password: "loopback-pw", Privilege: 15}}})
	require.NoError(t, err)
	srv, err := netsim.NewServer(dev, nil)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	owner.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	known := filepath.Join(owner.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize("127.0.0.1:" + strconv.Itoa(port))}, srv.HostKey())
	require.NoError(t, os.WriteFile(known, []byte(line+"\n"), 0o600))
	h := &inventory.Host{Name: "sim-1", Hostname: "127.0.0.1", Port: port, Username: "admin", Password: "loopback-pw", Platform: p.ID}
	return &Loopback{Device: dev, Clock: clock, drv: p.Driver, target: drivers.Target{Host: h, Options: drivers.TransportOptions{
		KnownHostsFiles: []string{known}, SSHConfigFile: "none", ConnectTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second}}}
}

// Open opens a new session to the device.
func (l *Loopback) Open(t *testing.T) drivers.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return l.open(t, ctx)
}

func (l *Loopback) open(t *testing.T, ctx context.Context) drivers.Session {
	t.Helper()
	s, err := l.drv.Open(ctx, l.target)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}
