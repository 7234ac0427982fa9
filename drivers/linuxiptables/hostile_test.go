package linuxiptables

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/compile"
	"github.com/fwpush/fwpush/internal/hostiletest"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// withWhy renders host of the webapp example with every flow's why set to
// why.
func withWhy(t *testing.T, host, why string) drivers.Config {
	t.Helper()
	reg := linuxRegistry(t)
	inv, err := inventory.Load("../../inventory/examples/webapp", inventory.WithPlatforms(reg))
	require.NoError(t, err)
	pb, err := policy.Load("../../playbooks/examples/webapp.yml")
	require.NoError(t, err)
	for _, f := range pb.Flows {
		f.Why = why
	}
	intents, err := compile.Compile(pb, inv, nil, reg)
	require.NoError(t, err)
	cfg, err := New().Render(intents[host])
	require.NoError(t, err)
	return cfg
}

// commentRE is a rendered comment as iptables-save prints it: quoted, with
// double quotes, single quotes and backslashes escaped.
var commentRE = regexp.MustCompile(` -m comment --comment "((?:[^"\\]|\\.)*)"`)

// TestHostileComments renders every hostile why: each stays inside its
// comment (the render without comments is the render of a plain why), is
// one readable line within the comment match's limit, passes Check, and
// iptables-restore loads it and iptables-save prints it back byte for
// byte.
func TestHostileComments(t *testing.T) {
	ns := labNamespace(t)
	c := hostiletest.NewCanaries(t)
	plain := withWhy(t, "web-1", "a plain why")
	unescape := regexp.MustCompile(`\\(.)`)
	for _, p := range c.Corpus() {
		t.Run(p.Name, func(t *testing.T) {
			cfg := withWhy(t, "web-1", p.Text)
			for _, part := range []string{PartIPv4, PartIPv6} {
				assert.Equal(t, commentRE.ReplaceAllString(plain.Part(part), ""), commentRE.ReplaceAllString(cfg.Part(part), ""),
					"%s: the why changed more than comments", part)
				ms := commentRE.FindAllStringSubmatch(cfg.Part(part), -1)
				require.NotEmpty(t, ms, part)
				for _, m := range ms {
					v := unescape.ReplaceAllString(m[1], "$1")
					assert.LessOrEqual(t, len(v), maxComment)
					assert.NotRegexp(t, "[\x00-\x1f\x7f\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", v)
				}
			}
			saves := labApply(t, ns, cfg)
			for _, part := range []string{PartIPv4, PartIPv6} {
				if d := cmp.Diff(cfg.Part(part), Canonicalize(saves[part])); d != "" {
					t.Errorf("%s: iptables-save prints something else than the render (-render +saved):\n%s", part, d)
				}
			}
		})
	}
	assert.Empty(t, c.Fired())
}
