package capirca

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportRefuses: what fwpush cannot express is refused, naming the
// file, the line and the construct.
func TestImportRefuses(t *testing.T) {
	const head = "header {\n  target:: juniper f mixed\n}\n"
	for _, tc := range []struct {
		name, pol, want string
	}{
		{"next", head + "term a {\n  protocol:: tcp\n  action:: next\n}\n",
			"p.pol:6: term a: action:: next cannot be expressed: a fwpush flow decides"},
		{"source port", head + "term a {\n  protocol:: tcp\n  source-port:: HTTP\n  action:: accept\n}\n",
			"p.pol:6: term a: source-port:: cannot be expressed: a fwpush flow matches destination ports only"},
		{"no protocol", head + "term a {\n  source-address:: INTERNAL\n  action:: accept\n}\n",
			"p.pol:4: term a matches every protocol: a fwpush flow names its protocols"},
		{"verbatim", head + "term a {\n  verbatim:: juniper \"term x { then accept; }\"\n}\n",
			"p.pol:5: term a: verbatim:: device text fwpush cannot read as a flow"},
		{"undefined token", head + "term a {\n  source-address:: NOWHERE\n  protocol:: tcp\n  action:: accept\n}\n",
			"p.pol:5: term a: network NOWHERE is not defined in any *.net file"},
		{"undefined service", head + "term a {\n  protocol:: tcp\n  destination-port:: NOPE\n  action:: accept\n}\n",
			"p.pol:6: term a: service NOPE is not defined in any *.svc file"},
		{"some targets", "header {\n  target:: juniper f mixed\n  target:: cisco f mixed\n}\nterm a {\n  protocol:: tcp\n  platform:: juniper\n  action:: accept\n}\n",
			"p.pol:5: term a applies to some of the filter's targets (juniper, cisco) only"},
		{"standard acl", "header {\n  target:: cisco f standard\n}\nterm a {\n  protocol:: tcp\n  action:: accept\n}\n",
			"p.pol:2: target cisco f standard: a standard ACL matches sources only"},
		{"unknown target", "header {\n  target:: gce f\n}\nterm a {\n  protocol:: tcp\n  action:: accept\n}\n",
			"p.pol:2: target gce: fwpush reads the policies of"},
		{"deny all then more", head + "term a {\n  action:: deny\n}\nterm b {\n  protocol:: tcp\n  action:: accept\n}\n",
			"p.pol:4: term a denies everything, yet terms follow it"},
		{"icmp code", head + "term a {\n  protocol:: icmp\n  icmp-code:: 3\n  action:: accept\n}\n",
			"p.pol:6: term a: icmp-code:: cannot be expressed: a fwpush flow matches ICMP types, not codes"},
		{"bad expiry", head + "term a {\n  protocol:: tcp\n  expiration:: soon\n  action:: accept\n}\n",
			"p.pol:6: term a: expiration:: want YYYY-MM-DD"},
		{"term before header", "term a {\n  action:: accept\n}\n", "p.pol:1: term a comes before any header"},
		{"lone colon", head + "term a {\n  protocol: tcp\n}\n", "p.pol:5: a lone ':'"},
		{"unclosed", head + "term a {\n  protocol:: tcp\n", "p.pol:5: block never closed"},
		{"unended string", head + "term a {\n  comment:: \"open\n}\n", "p.pol:5: a string that never ends"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defs, err := LoadDefs(filepath.Join(sampleDir, "def"))
			require.NoError(t, err)
			pol, err := ParsePolicy("p.pol", tc.pol)
			if err == nil {
				_, err = Import(pol, defs, ImportOptions{Today: today})
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestDefsRefuse: definitions name file and line too.
func TestDefsRefuse(t *testing.T) {
	for _, tc := range []struct {
		name, kind, text, want string
	}{
		{"twice", "net", "A = 198.18.0.0/24\nA = 198.18.1.0/24\n", "x.net:2: A is defined twice (also at x.net:1)"},
		{"bad token", "net", "A.B = 198.18.0.0/24\n", `x.net:1: token "A.B"`},
		{"value first", "net", "  198.18.0.0/24\n", "x.net:1: a value before any TOKEN = line"},
		{"bad port", "svc", "WEB = 80:tcp\n", `x.svc:1: WEB: "80:tcp" is neither PORT/PROTOCOL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Defs{Networks: map[string]*Def{}, Services: map[string]*Def{}}
			err := d.Parse("x."+tc.kind, tc.kind, tc.text)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	d := &Defs{Networks: map[string]*Def{}, Services: map[string]*Def{}}
	require.NoError(t, d.Parse("x.net", "net", "A = B\nB = A\nC = 198.18.0.300\n"))
	_, err := d.Network("A")
	require.ErrorContains(t, err, "network A includes itself")
	_, err = d.Network("C")
	require.ErrorContains(t, err, `x.net:3: C: "198.18.0.300" is not an address`)
	require.NoError(t, d.Parse("x.svc", "svc", "P = 0/tcp\n"))
	_, err = d.Service("P")
	require.ErrorContains(t, err, "x.svc:1: P: port 0: want 1-65535")
}

// TestIncludeDepth: #include follows Capirca's limit.
func TestIncludeDepth(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "loop.inc"), []byte("#include 'loop.inc'\n"), 0o644))
	_, err := ParseFile(filepath.Join(dir, "loop.inc"), dir)
	require.ErrorContains(t, err, "#include nested deeper than 5 files")
}
