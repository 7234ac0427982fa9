package explain

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
)

// oracle is playbooks/testdata/<system>.explain.yaml: queries derived from
// the seed document itself, not from the playbook, so a transcription slip
// shows up as a failing query.
type oracle struct {
	Permit []oracleQuery `yaml:"permit"`
	Deny   []oracleQuery `yaml:"deny"`
}

type oracleQuery struct {
	From     string `yaml:"from"`
	To       string `yaml:"to"`
	Proto    string `yaml:"proto"`
	Port     int    `yaml:"port"`
	ICMPType any    `yaml:"icmp_type"`
}

func (o oracleQuery) query(t *testing.T) Query {
	p, err := policy.ParseProto(o.Proto)
	require.NoError(t, err)
	q := Query{From: o.From, To: o.To, Proto: p, Port: o.Port}
	if p.IsICMP() {
		name := "echo-request"
		if o.ICMPType != nil {
			name = fmt.Sprint(o.ICMPType)
		}
		q.ICMPType, err = policy.ParseICMPType(p, name)
		require.NoError(t, err)
	}
	return q
}

func (o oracleQuery) String() string {
	if o.Port > 0 {
		return fmt.Sprintf("%s→%s %s/%d", o.From, o.To, o.Proto, o.Port)
	}
	return fmt.Sprintf("%s→%s %s/%v", o.From, o.To, o.Proto, o.ICMPType)
}

func TestSeedOracles(t *testing.T) {
	files, err := filepath.Glob("../../playbooks/testdata/*.explain.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 5, "one oracle per seed system")
	for _, file := range files {
		system := strings.TrimSuffix(filepath.Base(file), ".explain.yaml")
		t.Run(system, func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			var o oracle
			require.NoError(t, yaml.Unmarshal(data, &o))
			require.NotEmpty(t, o.Permit)
			require.GreaterOrEqual(t, len(o.Deny), 15, "a sample of unlisted flows")
			p, err := project.Load(project.Options{
				Inventory: "../../inventory/examples/" + system,
				Playbook:  "../../playbooks/" + system + ".yml",
			})
			require.NoError(t, err)
			for _, q := range o.Permit {
				res, err := Run(p, q.query(t))
				if err != nil {
					t.Errorf("permit %s: %v", q, err)
					continue
				}
				if !res.Permitted {
					t.Errorf("permit %s: denied: %s", q, firstDenial(res))
				}
			}
			for _, q := range o.Deny {
				res, err := Run(p, q.query(t))
				if err != nil {
					t.Errorf("deny %s: %v", q, err)
					continue
				}
				if res.Permitted {
					t.Errorf("deny %s: permitted (%d paths)", q, len(res.Paths))
				}
			}
		})
	}
}

func firstDenial(r *Result) string {
	for _, p := range r.Paths {
		for _, c := range p.Checks {
			if !c.Permit {
				return fmt.Sprintf("%s→%s on %s/%s by %s", p.From.Addr, p.To.Addr, c.Device, c.Filter, c.Rule)
			}
		}
	}
	return "?"
}
