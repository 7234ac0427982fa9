package compile

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/hostiletest"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/inventory"
)

// hostilePlaybook is a valid playbook over the webapp example inventory,
// by top-level section; each section is one line of flow-style YAML.
var hostilePlaybook = map[string]string{
	"name":     "name: hostile",
	"desc":     "description: D\nsource: S",
	"options":  "options: {features: {metrics: true}}",
	"roles":    "roles: {web: {description: R}, app: {}, db: {}}",
	"services": "services: {https: {description: SD, ports: [tcp/443]}}",
	"flows":    "flows: [{from: any, to: web, services: [https], why: W}, {from: web, to: app, ports: [tcp/8080], why: W2, feature: metrics}]",
}

// playbookWith returns hostilePlaybook with section replaced by line, which
// lands on line 7.
func playbookWith(section, line string) string {
	var b strings.Builder
	b.WriteString(strings.Repeat("# hostile\n", 6) + line + "\n")
	for _, s := range []string{"name", "desc", "options", "roles", "services", "flows"} {
		if s != section {
			b.WriteString(hostilePlaybook[s] + "\n")
		}
	}
	return b.String()
}

// grammarFields put a hostile value where a grammar applies.
var grammarFields = map[string]func(v string) string{
	"playbook name": func(v string) string { return playbookWith("name", "name: "+v) },
	"role name":     func(v string) string { return playbookWith("roles", "roles: {web: {}, app: {}, db: {}, "+v+": {}}") },
	"service name": func(v string) string {
		return playbookWith("services", "services: {https: {ports: [tcp/443]}, "+v+": {ports: [tcp/1]}}")
	},
	"feature name": func(v string) string {
		return playbookWith("options", "options: {features: {metrics: true, "+v+": true}}")
	},
	"flow from":    func(v string) string { return flowWith("{from: [" + v + "], to: web, ports: [tcp/1], why: W}") },
	"flow to":      func(v string) string { return flowWith("{from: web, to: [" + v + "], ports: [tcp/1], why: W}") },
	"flow service": func(v string) string { return flowWith("{from: web, to: app, services: [" + v + "], why: W}") },
	"flow ports":   func(v string) string { return flowWith("{from: web, to: app, ports: [" + v + "], why: W}") },
	"flow action": func(v string) string {
		return flowWith("{from: web, to: app, ports: [tcp/1], action: " + v + ", why: W}")
	},
	"flow feature": func(v string) string {
		return flowWith("{from: web, to: app, ports: [tcp/1], feature: " + v + ", why: W}")
	},
	"service port": func(v string) string { return playbookWith("services", "services: {https: {ports: [tcp/443, "+v+"]}}") },
}

func flowWith(flow string) string {
	return playbookWith("flows", "flows: ["+flow+", {from: any, to: web, services: [https], why: W}]")
}

func loadWebapp(t *testing.T) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load("../../inventory/examples/webapp")
	require.NoError(t, err)
	return inv
}

// TestHostilePlaybook feeds every hostile string to every playbook field:
// a field with a grammar rejects it with file:line, the message escaped and
// cut; free text (descriptions, source, why) is kept byte for byte all the
// way into the Intents' rules.
func TestHostilePlaybook(t *testing.T) {
	inv := loadWebapp(t)
	c := hostiletest.NewCanaries(t)
	for _, p := range c.Corpus() {
		v := hostiletest.YAML(p.Text)
		for field, build := range grammarFields {
			t.Run(p.Name+"/"+field, func(t *testing.T) {
				src := build(v)
				pb, err := policy.Parse("pb.yml", []byte(src))
				if err == nil {
					err = Validate(pb, inv)
				}
				require.Error(t, err, "accepted:\n%s", clip(src))
				assert.Regexp(t, regexp.MustCompile(`(^|\n)pb\.yml:7:\d+: `), err.Error())
				assert.Less(t, len(err.Error()), 4096, "the message quotes a cut value")
				assert.NotRegexp(t, "[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u202e\u2028]", err.Error(), "control characters are escaped")
			})
		}
		t.Run(p.Name+"/free text", func(t *testing.T) {
			src := strings.NewReplacer("description: D\n", "description: "+v+"\n", "source: S", "source: "+v,
				"description: R}", "description: "+v+"}", "description: SD,", "description: "+v+",",
				"why: W}", "why: "+v+"}").Replace(playbookWith("", ""))
			pb, err := policy.Parse("pb.yml", []byte(src))
			require.NoError(t, err)
			assert.Equal(t, p.Text, pb.Description)
			assert.Equal(t, p.Text, pb.Source)
			assert.Equal(t, p.Text, pb.Roles["web"].Description)
			assert.Equal(t, p.Text, pb.Services["https"].Description)
			assert.Equal(t, p.Text, pb.Flows[0].Why)
			require.NoError(t, Validate(pb, inv))
			intents, err := Compile(pb, inv, nil, platforms{})
			require.NoError(t, err)
			found := false
			for _, f := range intents["web-1"].Filters {
				for _, r := range f.Rules {
					for _, why := range r.Why {
						found = found || why == p.Text
					}
				}
			}
			assert.True(t, found, "the why reaches the Intent unchanged")
		})
	}
	assert.Empty(t, c.Fired())
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
