package routerlab

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/internal/project"
)

// RouterTarget is the session-check device of a network platform: the
// router of that platform in the routed lab of testdata/router (one
// simulated IOS-XE, NX-OS and EOS router, each in front of a web host),
// under policies a.yml and b.yml, its clock moved by the test. foreign is
// config, in the device's syntax, that fwpush does not own (an ACL bound
// where fwpush's are not); show are the commands whose output must not
// change.
func RouterTarget(root, host, foreign string, show ...string) func(t *testing.T) driverstest.Target {
	return func(t *testing.T) driverstest.Target {
		dir := filepath.Join(root, "drivers", "driverstest", "testdata", "router")
		load := func(pb string) *project.Project {
			p, err := project.Load(project.Options{Inventory: filepath.Join(dir, "inventory"), Playbook: filepath.Join(dir, pb),
				Limit: host, Registry: all.Registry()})
			require.NoError(t, err)
			return p
		}
		a, b := load("a.yml"), load("b.yml")
		rl := StartRouterLab(t, a, WithFakeClock(), WithDeviceConfig(host, foreign))
		r := rl.Routers[host]
		require.NotNil(t, r, "%s is not a simulated router of the lab", host)
		open := rl.Opener(a.Registry)
		return driverstest.Target{
			Open: func(ctx context.Context) (drivers.Session, error) { return open(ctx, host) },
			A:    a.Intents[host],
			B:    b.Intents[host],
			Foreign: func(t *testing.T) func() bool {
				read := func() string {
					var out string
					for _, c := range show {
						out += r.Device.Exec(c)
					}
					return out
				}
				want := read()
				require.NotEmpty(t, want)
				return func() bool { return read() == want }
			},
			// The device's clock is the test's: move it past the deadline.
			Expire: func(t *testing.T, armed drivers.Armed) {
				r.Clock.Advance(armed.Within + time.Second)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				require.NoError(t, r.Enforced(ctx))
			},
		}
	}
}

// RouterSystems are the seed systems' router variants
// (inventory/examples/<system>-routers), rendered as goldens by every
// network platform's conformance test.
func RouterSystems(root string) []driverstest.System {
	var out []driverstest.System
	for _, s := range []string{"clearwater", "dmcm", "portaswitch", "satellite", "wdm"} {
		out = append(out, driverstest.System{Name: s + "-routers", Playbook: filepath.Join(root, "playbooks", s+".yml"),
			Inventory: filepath.Join(root, "inventory", "examples", s+"-routers")})
	}
	return out
}
