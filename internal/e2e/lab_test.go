package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/verify"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
	"github.com/fwpush/fwpush/testbed/winsim"
)

// env is a project pushed to a lab.
type env struct {
	p    *project.Project
	lab  *testbed.Lab
	reg  *drivers.Registry
	opts drivers.TransportOptions
	// win serves the Windows hosts (the winsim lab simulator), on clock
	// when the test controls it; acc is how they are reached.
	win   *winsim.LabServer
	clock *winsim.JumpClock
	acc   *winAccess
}

// winAccess is how a lab's Windows hosts (the winsim simulator) are
// reached: its account, its CA (WinRM) and its known_hosts (OpenSSH).
type winAccess struct {
	User       string `json:"user"`
	Password   string `json:"password"`
	CAFile     string `json:"ca_file"`
	KnownHosts string `json:"known_hosts"`
}

// point points p's Windows hosts at the simulator.
func (a *winAccess) point(p *project.Project) {
	if a == nil {
		return
	}
	for _, h := range p.Inv.Hosts {
		if h.Platform == windows.ID {
			h.Username, h.Password = a.User, inventory.Secret(a.Password)
			h.Data[windows.DataWinRMCAFile] = a.CAFile
			h.Data[drivers.DataKnownHosts] = a.KnownHosts
		}
	}
}

// windowsServers makes the simulator that serves p's Windows hosts in the
// lab and points those hosts at it.
func windowsServers(t *testing.T, p *project.Project) (*winsim.LabServer, labinv.Servers, *winAccess) {
	t.Helper()
	const user, password = "fwpush", "lab-Winsim-1"
	win, err := winsim.NewLabServer(t.TempDir(), user, password)
	require.NoError(t, err)
	acc := &winAccess{User: user, Password: password, CAFile: win.CAFile, KnownHosts: win.KnownHostsFile}
	acc.point(p)
	return win, labinv.Servers{windows.ID: win}, acc
}

func newEnv(t *testing.T, inventoryDir, playbook string, labOpts ...testbed.Option) *env {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: inventoryDir, Playbook: playbook})
	require.NoError(t, err)
	win, servers, acc := windowsServers(t, p)
	lab := testbed.StartT(t, labinv.SpecsWith(p, servers), labOpts...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, labinv.StartServers(ctx, lab, p, servers))
	t.Cleanup(func() { win.Close() })
	return &env{p: p, lab: lab, reg: all.Registry(), win: win, acc: acc, opts: drivers.TransportOptions{
		KnownHostsFiles: []string{lab.KnownHostsPath()}, IdentityFiles: []string{lab.ClientKeyPath()},
		SSHConfigFile: "none", ConnectTimeout: 5 * time.Second, CommandTimeout: 30 * time.Second,
		Keepalive: 2 * time.Second, ConnectRetries: 3,
	}}
}

func (e *env) opener() plan.Opener {
	return plan.DriverOpener(e.reg, e.p.Inv, e.opts, e.lab.DialContext)
}

func (e *env) runner() verify.Runner {
	return verify.SSHRunner(e.p.Inv, e.opts, e.lab.DialContext)
}

// rulesetHash hashes every selected host's whole firewall state (see
// hostHash).
func (e *env) rulesetHash(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, h := range e.p.Selected {
		out[h.Name] = e.hash(t, h.Name)
	}
	return out
}

func eo() engine.Options { return engine.Options{Forks: 16, MaxFailPercentage: -1} }

// testTrial is the trial of tests that drive a session by hand.
var testTrial = drivers.Trial{Run: "e2e-test", Controller: "ctl", User: "test", Since: time.Unix(0, 0).UTC()}
