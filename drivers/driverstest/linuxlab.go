package driverstest

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/testbed"
)

// LinuxTarget is the session-check device of a Linux driver: a lab host
// (network namespace, real sshd, real kernel firewall) of the platform,
// from the inventory in testdata/linux, with policies a.yml and b.yml.
// plant adds config fwpush does not own, inside the host's namespaces
// (argv run by testbed.Lab.Exec); show prints it, for the intact check.
func LinuxTarget(root, host string, plant [][]string, show []string) func(t *testing.T) Target {
	return func(t *testing.T) Target {
		dir := filepath.Join(root, "drivers", "driverstest", "testdata", "linux")
		load := func(pb string) *project.Project {
			p, err := project.Load(project.Options{Inventory: filepath.Join(dir, "inventory"), Playbook: filepath.Join(dir, pb), Limit: host})
			require.NoError(t, err)
			return p
		}
		a, b := load("a.yml"), load("b.yml")
		spec := testbed.HostSpec{Name: host}
		for _, addr := range a.Inv.Hosts[host].Addresses {
			pfx, err := testbed.LabPrefix(addr)
			require.NoError(t, err)
			spec.Addrs = append(spec.Addrs, pfx)
		}
		lab := testbed.StartT(t, []testbed.HostSpec{spec})
		open := plan.DriverOpener(a.Registry, a.Inv, drivers.TransportOptions{
			KnownHostsFiles: []string{lab.KnownHostsPath()}, IdentityFiles: []string{lab.ClientKeyPath()},
			SSHConfigFile: "none", ConnectTimeout: 10 * time.Second, CommandTimeout: 30 * time.Second,
			Keepalive: 2 * time.Second, ConnectRetries: 3,
		}, lab.DialContext)
		exec := func(argv []string) []byte {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := lab.Exec(ctx, host, argv...)
			require.NoError(t, err, "%v: %s", argv, out)
			return out
		}
		return Target{
			Open: func(ctx context.Context) (drivers.Session, error) { return open(ctx, host) },
			A:    a.Intents[host],
			B:    b.Intents[host],
			Foreign: func(t *testing.T) func() bool {
				for _, argv := range plant {
					exec(argv)
				}
				want := exec(show)
				return func() bool { return bytes.Equal(want, exec(show)) }
			},
			// A real host: wait for its timer, and a little more.
			Expire: func(t *testing.T, armed drivers.Armed) {
				time.Sleep(time.Until(armed.Deadline) + 3*time.Second)
			},
		}
	}
}
