package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const minimal = `name: t
roles:
  web: {description: Web}
services:
  https: {ports: [tcp/443, tcp/80]}
flows:
  - from: any
    to: web
    services: [https]
    why: users
`

func TestParseMinimal(t *testing.T) {
	pb, err := Parse("t.yml", []byte(minimal))
	require.NoError(t, err)
	require.Len(t, pb.Flows, 1)
	f := pb.Flows[0]
	assert.Equal(t, []string{"any"}, f.From)
	assert.Equal(t, []string{"web"}, f.To)
	assert.Equal(t, 7, f.Line)
	assert.Equal(t, []Match{{Proto: TCP, Ports: []PortRange{{443, 443}}}, {Proto: TCP, Ports: []PortRange{{80, 80}}}}, f.Matches)
	assert.Equal(t, DefaultICMP, pb.Options.ICMP)
}

func TestParseMatch(t *testing.T) {
	cases := map[string]Match{
		"tcp/22":                {Proto: TCP, Ports: []PortRange{{22, 22}}},
		"udp/161-162":           {Proto: UDP, Ports: []PortRange{{161, 162}}},
		"tcp/80,443":            {Proto: TCP, Ports: []PortRange{{80, 80}, {443, 443}}},
		"tcp/any":               {Proto: TCP},
		"icmp":                  {Proto: ICMP},
		"icmp/echo-request":     {Proto: ICMP, ICMP: []int{8}},
		"icmpv6/echo-request,1": {Proto: ICMPv6, ICMP: []int{128, 1}},
		"gre":                   {Proto: GRE},
		"vrrp":                  {Proto: VRRP},
		"ip/47":                 {Proto: GRE},
		"sctp/3868":             {Proto: SCTP, Ports: []PortRange{{3868, 3868}}},
		"UDP/32768-65535":       {Proto: UDP, Ports: []PortRange{{32768, 65535}}},
	}
	for in, want := range cases {
		got, err := ParseMatch(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for _, bad := range []string{"tcp/70000", "tcp/0", "udp/10-5", "tcp/x", "gre/5", "icmp/nosuch", "22", "443", "ip", "foo/1", "ip/300"} {
		_, err := ParseMatch(bad)
		assert.Error(t, err, bad)
	}
}

func TestParsePush(t *testing.T) {
	pb, err := Parse("t.yml", []byte(minimal+`push:
  confirm_timeout: 5m
  forks: 20
  canary: 1
  serial: [2, "25%"]
  max_fail_percentage: 0
  rollback_wave_on_failure: true
`))
	require.NoError(t, err)
	zero := 0.0
	assert.Equal(t, Push{ConfirmTimeout: 5 * time.Minute, Forks: 20, Canary: 1, Serial: []string{"2", "25%"},
		MaxFailPercentage: &zero, RollbackWaveOnFailure: true}, pb.Push)
	pb, err = Parse("t.yml", []byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, Push{}, pb.Push, "no push section: fwpush's defaults")
}

func TestParseErrors(t *testing.T) {
	cases := map[string]struct {
		src  string
		want []string
	}{
		"port out of range": {
			src:  "name: t\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    ports: [tcp/70000]\n    why: x\n",
			want: []string{"t.yml:6", "flows[0].ports[0]", "outside 1-65535"},
		},
		"unknown service": {
			src:  "name: t\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    services: [nope]\n    why: x\n",
			want: []string{"t.yml:6", "flows[0].services[0]", `unknown service "nope"`},
		},
		"missing why": {
			src:  "name: t\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    ports: [tcp/1]\n",
			want: []string{"t.yml:4", "flows[0]", "needs a why"},
		},
		"bad action": {
			src:  "name: t\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    ports: [tcp/1]\n    why: x\n    action: maybe\n",
			want: []string{"t.yml:8", "flows[0].action"},
		},
		"undeclared feature": {
			src:  "name: t\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    ports: [tcp/1]\n    why: x\n    feature: snmp\n",
			want: []string{"t.yml:8", `feature "snmp" is not declared`},
		},
		"role named any": {
			src:  "name: t\nroles: {any: {}}\nflows:\n  - from: any\n    to: any\n    ports: [tcp/1]\n    why: x\n",
			want: []string{"t.yml:2", "roles.any"},
		},
		"unknown field": {
			src:  "name: t\nroles: {web: {}}\nflows:\n  - from: any\n    too: web\n    ports: [tcp/1]\n    why: x\n",
			want: []string{"t.yml:5", "too"},
		},
		"bare number from YAML list": {
			src:  "name: t\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    ports: [tcp/80,443]\n    why: x\n",
			want: []string{"t.yml:6", "flows[0].ports[1]", "ambiguous"},
		},
		"push: bad confirm_timeout": {
			src:  "name: t\nroles: {web: {}}\npush:\n  confirm_timeout: 2\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.confirm_timeout", "want a duration"},
		},
		"push: confirm_timeout too short": {
			src:  "name: t\nroles: {web: {}}\npush:\n  confirm_timeout: 2s\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.confirm_timeout", "10s to 1h"},
		},
		"push: bad serial": {
			src:  "name: t\nroles: {web: {}}\npush:\n  serial: [1, 150%]\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.serial[1]", `serial "150%"`},
		},
		"push: max_fail_percentage out of range": {
			src:  "name: t\nroles: {web: {}}\npush:\n  max_fail_percentage: 101\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.max_fail_percentage"},
		},
		"push: wave rollback without max_fail_percentage": {
			src:  "name: t\nroles: {web: {}}\npush:\n  rollback_wave_on_failure: true\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.rollback_wave_on_failure", "needs max_fail_percentage"},
		},
		"push: max_fail_percentage NaN": {
			src:  "name: t\nroles: {web: {}}\npush:\n  max_fail_percentage: .nan\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.max_fail_percentage", "max_fail_percentage NaN: want 0 to 100"},
		},
		"push: max_fail_percentage negative": {
			src:  "name: t\nroles: {web: {}}\npush:\n  max_fail_percentage: -1\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.max_fail_percentage", "want 0 to 100"},
		},
		"push: forks 0": {
			src:  "name: t\nroles: {web: {}}\npush:\n  forks: 0\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.forks", "forks 0: want 1 or more"},
		},
		"push: canary negative": {
			src:  "name: t\nroles: {web: {}}\npush:\n  canary: -1\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.canary", "canary -1"},
		},
		"push: confirm_timeout 0s": {
			src:  "name: t\nroles: {web: {}}\npush:\n  confirm_timeout: 0s\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.confirm_timeout", "confirm_timeout 0s: want 10s to 1h", "--no-confirm"},
		},
		"push: serial fraction": {
			src:  "name: t\nroles: {web: {}}\npush:\n  serial: [\"2.5%\"]\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "push.serial[0]", `serial "2.5%"`},
		},
		"push: unknown field": {
			src:  "name: t\nroles: {web: {}}\npush:\n  serail: [1]\nflows: [{from: any, to: web, ports: [tcp/1], why: x}]\n",
			want: []string{"t.yml:4", "serail"},
		},
		"empty flow": {
			src:  "name: t\nroles: {web: {}}\nflows:\n  - from: any\n    to: web\n    why: x\n",
			want: []string{"t.yml:4", "opens nothing"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("t.yml", []byte(tc.src))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// FuzzParse: any input gives a playbook or an error, never a panic, and a
// parsed playbook's ports are always within 1-65535.
func FuzzParse(f *testing.F) {
	f.Add(minimal)
	f.Add("name: x\nflows: [{from: [a, b], to: c, ports: ['tcp/1-2,3', icmp, gre], why: y, log: true}]\n")
	f.Add("name: x\nservices: {s: {ports: [udp/0]}}\n")
	f.Add("options: {icmp: [echo-request, 300], features: {a: true}}\n")
	f.Add("flows: [{from: 1, to: {x: y}}]\n")
	f.Add("- 1\n- 2\n")
	f.Fuzz(func(t *testing.T, src string) {
		pb, err := Parse("f.yml", []byte(src))
		if err != nil {
			return
		}
		for _, fl := range pb.Flows {
			for _, m := range fl.Matches {
				for _, r := range m.Ports {
					if r.Lo < 1 || r.Hi < r.Lo {
						t.Fatalf("bad range %v accepted", r)
					}
				}
			}
		}
	})
}
