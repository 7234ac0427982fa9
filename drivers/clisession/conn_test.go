package clisession_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/clisession"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed/netsim"
)

const (
	adminPW  = "s3cret-admin-pw"
	operPW   = "s3cret-oper-pw"
	enablePW = "s3cret-enable"
)

var iosTable = clisession.MustTable([]byte(`
cli:
  scrapli-platform: cisco_iosxe
  failed-when-contains: ["%No Rollback Confirmed Change pending"]
  commands:
    confirm: "configure confirm"
    arm: "configure terminal revert timer {minutes}"
`))

// sim serves a labelled IOS-XE simulator on a loopback port.
type sim struct {
	dev  *netsim.Device
	srv  *netsim.Server
	port int
}

func startSim(t *testing.T) *sim {
	t.Helper()
	dev, err := netsim.NewDevice(netsim.Options{Platform: netsim.PlatformIOSXE, Hostname: "R1",
		Users:        []netsim.User{{Name: "admin", Password: adminPW, Privilege: 15}, {Name: "oper", Password: operPW, Privilege: 1}},
		EnableSecret: enablePW, Clock: netsim.NewFakeClock(time.Now())})
	require.NoError(t, err)
	srv, err := netsim.NewServer(dev, nil)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &sim{dev: dev, srv: srv, port: ln.Addr().(*net.TCPAddr).Port}
}

// knownHosts writes a known_hosts file pinning key for the simulator.
func (s *sim) knownHosts(t *testing.T, key ssh.PublicKey) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	text := ""
	if key != nil {
		text = knownhosts.Line([]string{knownhosts.Normalize("127.0.0.1:" + strconv.Itoa(s.port))}, key) + "\n"
	}
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func (s *sim) target(user, pw, known string) drivers.Target {
	h := &inventory.Host{Name: "r1", Hostname: "127.0.0.1", Port: s.port, Username: user, Password: inventory.Secret(pw),
		Data: map[string]any{clisession.DataEnableSecret: inventory.Secret(enablePW)}}
	return drivers.Target{Host: h, Options: drivers.TransportOptions{KnownHostsFiles: []string{known}, SSHConfigFile: "none",
		ConnectTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second}}
}

func otherKey(t *testing.T) ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	k, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	return k
}

// TestHostKeyRefusedBeforeCredentials: the CLI engine dials through
// fwpush's SSH client, so an unknown or changed host key ends the
// connection before any password is offered (the simulator counts the
// authentication attempts it saw), never falling back to accepting the
// key as scrapligo's own transport can.
func TestHostKeyRefusedBeforeCredentials(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()
	for name, key := range map[string]ssh.PublicKey{"unknown host": nil, "changed key": otherKey(t)} {
		t.Run(name, func(t *testing.T) {
			before := s.srv.AuthAttempts()
			_, err := clisession.Dial(ctx, s.target("admin", adminPW, s.knownHosts(t, key)), iosTable)
			require.Error(t, err)
			assert.ErrorIs(t, err, fault.ErrHostKey)
			assert.Equal(t, before, s.srv.AuthAttempts(), "no credential reached the device")
			assert.NotContains(t, err.Error(), adminPW)
		})
	}
	t.Run("pinned key", func(t *testing.T) {
		c, err := clisession.Dial(ctx, s.target("admin", adminPW, s.knownHosts(t, s.srv.HostKey())), iosTable)
		require.NoError(t, err)
		defer c.Close()
		out, err := c.Show(ctx, "show version")
		require.NoError(t, err)
		assert.Contains(t, out, "fwpush lab simulator")
	})
}

// TestEnableAndSecrets: a login that lands in user exec reaches
// privileged exec with the inventory's enable secret; a wrong password
// fails as an auth error; no secret appears in any error.
func TestEnableAndSecrets(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()
	known := s.knownHosts(t, s.srv.HostKey())
	c, err := clisession.Dial(ctx, s.target("oper", operPW, known), iosTable)
	require.NoError(t, err)
	defer c.Close()
	out, err := c.Show(ctx, "show running-config")
	require.NoError(t, err, "show running-config needs privileged exec")
	assert.Contains(t, out, "hostname R1")

	_, err = clisession.Dial(ctx, s.target("admin", "wrong-"+adminPW, known), iosTable)
	require.Error(t, err)
	assert.ErrorIs(t, err, fault.ErrAuth)
	for _, secret := range []string{adminPW, operPW, enablePW} {
		assert.NotContains(t, err.Error(), secret)
	}
}

// TestRunStopsAtTheRefusedLine: a refusal (scrapligo's list or the
// table's) names the line and what the device said, and nothing after it
// is typed; Query does not count the table's markers, which after a show
// command are news, not refusals.
func TestRunStopsAtTheRefusedLine(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()
	c, err := clisession.Dial(ctx, s.target("admin", adminPW, s.knownHosts(t, s.srv.HostKey())), iosTable)
	require.NoError(t, err)
	defer c.Close()
	before := s.dev.ConfigModeCommands()
	out, err := c.Run(ctx, "configure terminal", "ip access-list extended T", "10 permit tcp any any eq 80", "10 bogus", "20 permit ip any any", "end")
	var refused *clisession.RefusedError
	require.ErrorAs(t, err, &refused)
	assert.ErrorIs(t, err, fault.ErrRejected)
	assert.Equal(t, 4, refused.Line)
	assert.Equal(t, "10 bogus", refused.Command)
	assert.Contains(t, refused.Output, "% Invalid input detected")
	assert.Len(t, out, 4)
	assert.Equal(t, before+4, s.dev.ConfigModeCommands(), "the lines after the refusal are never typed")

	_, err = c.Run(ctx, "end", "configure confirm")
	require.ErrorAs(t, err, &refused, "the table's marker fails a change")
	assert.Contains(t, refused.Output, "%No Rollback Confirmed Change pending")
	got, err := c.Show(ctx, "show archive config rollback timer")
	require.NoError(t, err, "the same words are news after a show command")
	assert.Contains(t, got, "No Rollback Confirmed Change pending")
}

// TestContextEndsACommand: a cancelled context closes the connection
// under a command instead of waiting for its timeout.
func TestContextEndsACommand(t *testing.T) {
	s := startSim(t)
	c, err := clisession.Dial(context.Background(), s.target("admin", adminPW, s.knownHosts(t, s.srv.HostKey())), iosTable)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err = c.Run(ctx, "show version")
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestTable(t *testing.T) {
	assert.Equal(t, "configure terminal revert timer 2", iosTable.Command("arm", "minutes", "2"))
	assert.Panics(t, func() { iosTable.Command("arm") }, "a placeholder left unfilled")
	assert.Panics(t, func() { iosTable.Command("nope") })
	for name, doc := range map[string]string{
		"no cli section":  "acl: {}\n",
		"no platform":     "cli: {commands: {a: b}}\n",
		"not yaml at all": "cli: [\n",
	} {
		_, err := clisession.ParseTable([]byte(doc))
		assert.Error(t, err, name)
	}
	assert.True(t, strings.HasPrefix(iosTable.Scrapli, "cisco_"))
}
