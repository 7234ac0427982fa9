package linuxnftables

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/compile"
	"github.com/fwpush/fwpush/internal/hostiletest"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// withWhy renders host of the webapp example with every flow's why set to
// why.
func withWhy(t *testing.T, host, why string) string {
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
	return cfg.Part(PartName)
}

// commentRE is a rendered comment: no '"' can be inside one.
var commentRE = regexp.MustCompile(` comment "([^"]*)"`)

// TestHostileComments renders every hostile why: each stays inside its
// comment (the render without comments is the render of a plain why), is
// one readable line within nft's limit, and nft loads the table and lists
// it back byte for byte.
func TestHostileComments(t *testing.T) {
	ns := labNamespace(t)
	dir := t.TempDir()
	c := hostiletest.NewCanaries(t)
	plain := withWhy(t, "web-1", "a plain why")
	for _, p := range c.Corpus() {
		t.Run(p.Name, func(t *testing.T) {
			text := withWhy(t, "web-1", p.Text)
			assert.Equal(t, commentRE.ReplaceAllString(plain, ""), commentRE.ReplaceAllString(text, ""),
				"the why changed more than comments")
			ms := commentRE.FindAllStringSubmatch(text, -1)
			require.NotEmpty(t, ms)
			for _, m := range ms {
				assert.LessOrEqual(t, len(m[1]), maxComment)
				assert.NotRegexp(t, "[\x00-\x1f\x7f\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", m[1])
			}
			f := filepath.Join(dir, "apply.nft")
			require.NoError(t, os.WriteFile(f, []byte("table "+Table+"\ndelete table "+Table+"\n"+text), 0o600))
			_, err := inNS(ns, nil, "nft", "-c", "-f", f)
			require.NoError(t, err)
			_, err = inNS(ns, nil, "nft", "-f", f)
			require.NoError(t, err)
			got, err := inNS(ns, nil, "nft", "list", "table", "inet", "fwpush")
			require.NoError(t, err)
			if d := cmp.Diff(text, got); d != "" {
				t.Errorf("nft lists something else than the render (-render +listed):\n%s", d)
			}
		})
	}
	assert.Empty(t, c.Fired())
}
