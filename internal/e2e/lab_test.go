package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/linuxhost"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/verify"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// env is a project pushed to a lab.
type env struct {
	p    *project.Project
	lab  *testbed.Lab
	reg  *drivers.Registry
	opts drivers.TransportOptions
}

func newEnv(t *testing.T, inventoryDir, playbook string, labOpts ...testbed.Option) *env {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: inventoryDir, Playbook: playbook})
	require.NoError(t, err)
	lab := testbed.StartT(t, labinv.Specs(p), labOpts...)
	return &env{p: p, lab: lab, reg: all.Registry(), opts: drivers.TransportOptions{
		KnownHostsFiles: []string{lab.KnownHostsPath()}, IdentityFiles: []string{lab.ClientKeyPath()},
		SSHConfigFile: "none", ConnectTimeout: 5 * time.Second, CommandTimeout: 30 * time.Second,
		Keepalive: 2 * time.Second, ConnectRetries: 3,
	}}
}

func (e *env) opener() plan.Opener { return plan.DriverOpener(e.p, e.reg, e.opts, e.lab.DialContext) }

func (e *env) runner() verify.Runner {
	return func(ctx context.Context, host, script string) (string, error) {
		c, err := linuxhost.Dial(ctx, drivers.Target{Host: e.p.Inv.Hosts[host], Options: e.opts, Dial: e.lab.DialContext})
		if err != nil {
			return "", err
		}
		defer c.Close()
		return c.Run(ctx, script, nil)
	}
}

// rulesetHash reads every host's whole firewall state from inside its
// namespace (counters and timestamps stripped) and hashes it.
func (e *env) rulesetHash(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, h := range e.p.Selected {
		b, err := e.lab.Exec(context.Background(), h.Name, "sh", "-c",
			// -s and the sed drop counters: traffic, not config.
			"nft -s list ruleset; iptables-save | sed -e '/^#/d' -e 's/\\[[0-9]*:[0-9]*\\]//'; ip6tables-save | sed -e '/^#/d' -e 's/\\[[0-9]*:[0-9]*\\]//'")
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		out[h.Name] = hex.EncodeToString(sum[:])
	}
	return out
}

func eo() engine.Options { return engine.Options{Forks: 16, MaxFailPercentage: -1} }
