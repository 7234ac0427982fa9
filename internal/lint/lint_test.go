package lint_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/lint"
	"github.com/fwpush/fwpush/internal/project"
)

const playbook = `name: p
options: {features: {extra: false}}
roles: {web: {}, app: {}, db: {}, empty: {}}
flows:
  - {from: web, to: app, ports: [tcp/8080-8081], why: proxy}
  - {from: web, to: app, ports: [tcp/8080], why: a part of flow 1}
  - {from: host:web-1, to: app, ports: [tcp/8081], action: deny, why: too late}
  - {from: web, to: app, ports: [tcp/8080-8081], why: proxy again}
  - {from: empty, to: app, ports: [tcp/1], why: nobody}
  - {from: any, to: db, ports: [tcp/5432], action: deny, why: nobody reaches the db}
  - {name: app-db, from: app, to: db, ports: [tcp/5432], why: the app reads its data}
  - {from: app, to: db, ports: [tcp/5433], action: reject, why: not shadowed}
  - {from: web, to: app, ports: [tcp/8080], feature: extra, why: switched off}
  - {from: [web, app], to: app, ports: [tcp/8080], why: wider than flow 1: not covered}
`

func TestRun(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "p.yml")
	require.NoError(t, os.WriteFile(pb, []byte(playbook), 0o644))
	p, err := project.Load(project.Options{Inventory: "../../inventory/examples/webapp", Playbook: pb})
	require.NoError(t, err)
	var got []string
	for _, f := range lint.Run(p.Playbook, p.Inv) {
		got = append(got, string(f.Kind)+" "+f.String())
	}
	assert.Equal(t, []string{
		`empty-role ` + pb + `:3:35: roles.empty: role "empty" has no host and no network in inventory ../../inventory/examples/webapp`,
		`redundant ` + pb + `:6:6: flows[1]: flow 2 adds nothing: flow 1 (line 5) already permits all of its traffic`,
		`shadowed ` + pb + `:7:6: flows[2]: flow 3 never takes effect: flow 1 (line 5) permits all of its traffic first`,
		`duplicate ` + pb + `:8:6: flows[3]: flow 4 repeats flow 1 (line 5): same endpoints, same ports, same action`,
		`never-matches ` + pb + `:9:12: flows[4].from: flow 5 can never match: from [empty] selects no address in inventory ../../inventory/examples/webapp`,
		`shadowed ` + pb + `:11:6: flows[6]: flow 7 (app-db) never takes effect: flow 6 (line 10) denies all of its traffic first`,
	}, got)
}
