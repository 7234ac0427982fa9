package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/verify"
)

// TestForeignRulesUntouchedAndReported: a table fwpush does not own that
// drops a permitted port survives plan and apply byte for byte, and plan
// names it as able to block the policy.
func TestForeignRulesUntouchedAndReported(t *testing.T) {
	e := newEnv(t, "../../inventory/examples/webapp", "../../playbooks/examples/webapp.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	foreign := "table inet legacy {\n\tchain in {\n\t\ttype filter hook input priority filter + 10; policy accept;\n\t\ttcp dport 8080 drop\n\t}\n}\n"
	for _, h := range []string{"app-1", "web-2"} {
		_, err := e.lab.Exec(ctx, h, "sh", "-c", "printf '"+strings.ReplaceAll(foreign, "\n", "\\n")+"' | nft -f -")
		require.NoError(t, err)
	}
	listForeign := func(h string) string {
		out, err := e.lab.Exec(ctx, h, "nft", "-s", "list", "table", "inet", "legacy")
		require.NoError(t, err)
		return string(out)
	}
	before := listForeign("app-1")

	pl, _, err := plan.Live(ctx, e.p, e.opener(), eo())
	require.NoError(t, err)
	warned := map[string]bool{}
	for _, d := range pl.Devices {
		for _, w := range d.Warnings {
			if strings.Contains(w, "inet legacy in") {
				warned[d.Host] = true
			}
		}
	}
	assert.Equal(t, map[string]bool{"app-1": true, "web-2": true}, warned)

	_, err = apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: 20 * time.Second, Engine: eo()})
	require.NoError(t, err)
	assert.Equal(t, before, listForeign("app-1"), "foreign table untouched by apply")
	assert.Contains(t, listForeign("web-2"), "tcp dport 8080 drop", "iptables host keeps it too")
}

// TestVerifyPostCheckRollsBack: a foreign table on app-1 drops the app
// port the policy opens. Reading the config back cannot see that; the
// verify post-check (apply --verify) can: app-1 is rolled back at once,
// before its timer, with the failing probes named; every other host is
// confirmed.
func TestVerifyPostCheckRollsBack(t *testing.T) {
	e := newEnv(t, "../../inventory/examples/webapp", "../../playbooks/examples/webapp.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	foreign := "table inet legacy {\n\tchain in {\n\t\ttype filter hook input priority filter + 10; policy accept;\n\t\ttcp dport 8080 drop\n\t}\n}\n"
	_, err := e.lab.Exec(ctx, "app-1", "sh", "-c", "printf '"+strings.ReplaceAll(foreign, "\n", "\\n")+"' | nft -f -")
	require.NoError(t, err)
	before := e.hash(t, "app-1")

	probes, err := verify.Generate(e.p, verify.Options{})
	require.NoError(t, err)
	t0 := time.Now()
	const within = 60 * time.Second
	rep, err := apply.Run(ctx, e.p, e.opener(), apply.Options{ConfirmWithin: within, Engine: eo(),
		PostCheck: verify.PostCheck(probes, e.runner(), 2*time.Second)})
	require.Error(t, err)
	for _, d := range rep.Devices {
		if d.Host != "app-1" {
			assert.Equal(t, apply.Confirmed, d.Outcome, "%s: %s", d.Host, d.Error)
			continue
		}
		assert.Equal(t, apply.RolledBack, d.Outcome, d.Error)
		assert.Equal(t, "check", d.Phase)
		assert.Contains(t, d.Error, "probes to app-1 did not match the policy")
		assert.Regexp(t, `web-\d → app-1 tcp/8080 .* want permit: got blocked`, d.Error)
	}
	assert.Less(t, time.Since(t0), within, "rolled back at once, not at the deadline")
	assert.Equal(t, before, e.hash(t, "app-1"), "app-1 back to its previous state")
}
