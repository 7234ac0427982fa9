package netsim

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/scrapli/scrapligo/driver/network"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/platform"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fwpush/fwpush/testbed/enforce"
)

// sim is one simulated device served on a loopback port for a test.
type sim struct {
	dev    *Device
	srv    *Server
	port   int
	known  string
	clock  *FakeClock
	states []enforce.State
}

var t0 = time.Date(2026, 3, 4, 10, 20, 30, 0, time.UTC)

const (
	adminUser = "admin"
	adminPass = "admin-pw"
	operUser  = "oper"
	operPass  = "oper-pw"
	enablePw  = "enable-pw"
)

func startSim(t *testing.T, opts Options) *sim {
	t.Helper()
	clock := NewFakeClock(t0)
	opts.Clock = clock
	if opts.Users == nil {
		opts.Users = []User{{Name: adminUser, Password: adminPass, Privilege: 15}, {Name: operUser, Password: operPass, Privilege: 1}}
	}
	if opts.EnableSecret == "" {
		opts.EnableSecret = enablePw
	}
	dev, err := NewDevice(opts)
	require.NoError(t, err)
	srv, err := NewServer(dev, nil)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	known := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize("127.0.0.1:" + strconv.Itoa(port))}, srv.HostKey())
	require.NoError(t, os.WriteFile(known, []byte(line+"\n"), 0o600))
	s := &sim{dev: dev, srv: srv, port: port, known: known, clock: clock}
	dev.OnChange(func(st enforce.State) { s.states = append(s.states, st) })
	return s
}

// driver opens a scrapligo network driver on the simulator with the
// standard transport and the pinned host key, as fwpush's drivers will.
func (s *sim) driver(t *testing.T, user, pass string) *network.Driver {
	t.Helper()
	p, err := platform.NewPlatform(string(s.dev.Platform()), "127.0.0.1",
		options.WithPort(s.port),
		options.WithAuthUsername(user),
		options.WithAuthPassword(pass),
		options.WithAuthSecondary(enablePw),
		options.WithTransportType("standard"),
		options.WithSSHKnownHostsFile(s.known),
		options.WithTimeoutOps(10*time.Second),
		options.WithTimeoutSocket(10*time.Second),
	)
	require.NoError(t, err)
	d, err := p.GetNetworkDriver()
	require.NoError(t, err)
	require.NoError(t, d.Open())
	t.Cleanup(func() { d.Close() })
	return d
}

// send runs one command and fails the test on a transport error.
func send(t *testing.T, d *network.Driver, cmd string) (string, error) {
	t.Helper()
	r, err := d.SendCommand(cmd)
	require.NoError(t, err, cmd)
	return r.Result, r.Failed
}

// sendAll runs commands in order (in whatever mode they lead to), as a
// driver does for configuration sessions, and returns the failures.
func sendAll(t *testing.T, d *network.Driver, cmds ...string) []error {
	t.Helper()
	var errs []error
	for _, c := range cmds {
		_, f := send(t, d, c)
		errs = append(errs, f)
	}
	return errs
}

// prompts runs lines in an internal session and returns the prompt after
// each one.
func prompts(dev *Device, user string, priv int, lines ...string) []string {
	s := dev.newSession(user, priv, "test", nil)
	defer dev.closeSession(s)
	var out []string
	for _, l := range lines {
		s.input(l)
		out = append(out, s.prompt())
	}
	return out
}

// boundFilter is the filter on a Linux interface's side, "" when none.
func boundFilter(st enforce.State, ifname string, dir enforce.Direction) string {
	for _, b := range st.Bindings {
		if b.Interface == ifname && b.Direction == dir && b.Filter != nil {
			return b.Filter.Name
		}
	}
	return ""
}
