package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/inventory"
)

// TestBadInputOpensNothing is RELIABILITY.md A10: malformed inventories
// and playbooks, and a policy that would cut management access, are
// refused by plan and apply at validation, naming file:line and the
// field, before any connection is opened or any run recorded.
func TestBadInputOpensNothing(t *testing.T) {
	var opens atomic.Int32
	testOpener = func(*inventory.Inventory) plan.Opener {
		return func(context.Context, string) (drivers.Session, error) {
			opens.Add(1)
			return nil, errors.New("no connection may be opened")
		}
	}
	t.Cleanup(func() { testOpener = nil })

	const (
		hosts  = "a:\n  hostname: 198.18.0.5\n  platform: linux\n  groups: [web]\nb:\n  hostname: 198.18.0.6\n  platform: linux\n  groups: [web]\n"
		groups = "web: {}\n"
		nets   = "management: [198.18.0.0/24]\n"
		pb     = "name: x\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    ports: [tcp/443]\n    why: users\n"
	)
	cases := map[string]struct {
		hosts, networks, playbook string
		want                      []string
	}{
		"duplicate host": {
			hosts: hosts + "a:\n  hostname: 198.18.0.7\n  platform: linux\n",
			want:  []string{"hosts.yaml:9", "duplicate"},
		},
		"unknown role": {
			playbook: "name: x\nroles: {web: {}}\nflows:\n  - from: any\n    to: wbe\n    ports: [tcp/443]\n    why: typo\n",
			want:     []string{"pb.yml:5", "flows[0].to", `"wbe"`},
		},
		"bad CIDR": {
			networks: "management: [198.18.0.0/33]\n",
			want:     []string{"networks.yaml:1", "management", "198.18.0.0/33"},
		},
		"port 70000": {
			playbook: "name: x\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    ports: [tcp/70000]\n    why: x\n",
			want:     []string{"pb.yml:6", "flows[0].ports[0]", "outside 1-65535"},
		},
		"host without address": {
			hosts: hosts + "c:\n  hostname: c.example.com\n  platform: linux\n  groups: [web]\n",
			want:  []string{"hosts.yaml:9:1", "c: host has no address"},
		},
		"second document": {
			playbook: pb + "---\nflows: []\n",
			want:     []string{"pb.yml:8:1", "a second YAML document"},
		},
		"policy cuts management": {
			playbook: "name: x\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    ports: [tcp/22]\n    action: deny\n    why: no ssh\n",
			want:     []string{"pb.yml:4", "would cut management access"},
		},
	}
	for name, tc := range cases {
		for _, verb := range [][]string{{"plan"}, {"apply", "--yes"}} {
			t.Run(name+"/"+verb[0], func(t *testing.T) {
				dir := t.TempDir()
				inv := filepath.Join(dir, "inv")
				require.NoError(t, os.MkdirAll(inv, 0o755))
				files := map[string]string{"inv/hosts.yaml": or(tc.hosts, hosts), "inv/groups.yaml": groups,
					"inv/networks.yaml": or(tc.networks, nets), "pb.yml": or(tc.playbook, pb)}
				for n, text := range files {
					require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(text), 0o644))
				}
				state := filepath.Join(dir, "state", "runs.db")
				args := append(verb, "-i", inv, "-p", filepath.Join(dir, "pb.yml"))
				if verb[0] == "apply" {
					args = append(args, "--state", state)
				}
				code, out, errOut := fwpush(t, args...)
				assert.Equal(t, exitError, code, "%s\n%s", out, errOut)
				for _, w := range tc.want {
					assert.Contains(t, errOut, w)
				}
				assert.Zero(t, opens.Load(), "no connection opened")
				assert.NoFileExists(t, state, "no run recorded")
			})
		}
	}
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
