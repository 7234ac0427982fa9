package capirca

import (
	"flag"
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to write it")
	require.Equal(t, string(want), got)
}

// sampleDir is the sample policy the README imports, in aclgen's layout.
var sampleDir = filepath.Join("..", "..", "playbooks", "examples", "capirca")

// today is before the sample's unexpired and after its expired terms.
var today = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func importSample(t *testing.T, dir string) *Imported {
	t.Helper()
	pol, err := ParseFile(filepath.Join(dir, "pol", "edge.pol"), dir)
	require.NoError(t, err)
	defs, err := LoadDefs(filepath.Join(dir, "def"))
	require.NoError(t, err)
	im, err := Import(pol, defs, ImportOptions{Today: today})
	require.NoError(t, err)
	return im
}

func TestImportGolden(t *testing.T) {
	im := importSample(t, sampleDir)
	golden(t, "import/edge-inbound.yml.golden", im.Playbook)
	golden(t, "import/networks.yaml.golden", im.Networks)
	golden(t, "import/warnings.golden", strings.Join(im.Warnings, "\n")+"\n")
}

// TestImportAgreesWithAclgen: the sample policy rendered by aclgen
// (Juniper and Cisco, the policy's own targets) and the imported playbook
// compiled over hosts in its roles give every sampled new connection to
// those hosts the same verdict.
func TestImportAgreesWithAclgen(t *testing.T) {
	needAclgen(t)
	dir := t.TempDir()
	require.NoError(t, exec.Command("cp", "-r", filepath.Join(sampleDir, "pol"), filepath.Join(sampleDir, "def"),
		filepath.Join(sampleDir, "include"), dir).Run())
	js := judges(t, runAclgen(t, dir), "edge", "juniper", "cisco")
	im := importSample(t, dir)

	inv := filepath.Join("testdata", "import", "inventory")
	mgmt, err := os.ReadFile(filepath.Join(inv, "management.yaml"))
	require.NoError(t, err)
	p := loadSeed(t, importedInventory(t, inv, string(mgmt)+im.Networks), writeTemp(t, im.Name+".yml", im.Playbook))

	addrs := []string{"198.18.10.10", "198.18.10.11", "198.18.10.12", "198.18.20.5", "198.18.30.3", "198.18.30.15",
		"198.18.30.16", "198.18.99.7", "198.18.99.255", "198.18.5.5", "198.18.0.9", "198.19.0.1", "192.0.2.1",
		"2001:db8:10::10", "2001:db8:10::11", "2001:db8::5", "2001:db9::1"}
	ports := []uint16{22, 23, 53, 80, 81, 123, 443, 444, 5432, 5433}
	// ICMPv6 is left out: fwpush always permits what IPv6 needs, the
	// policy does not say so.
	protos := []policy.Proto{policy.TCP, policy.TCP, policy.TCP, policy.UDP, policy.ICMP, 47}
	r := rand.New(rand.NewSource(14))
	total, permitted := 0, 0
	var disagree []string
	for _, host := range p.Inv.Names() {
		in := p.Intents[host]
		f := inputFilter(t, in)
		for _, dst := range in.Addresses {
			for range 2000 {
				src := netip.MustParseAddr(addrs[r.Intn(len(addrs))])
				if src.Is4() != dst.Is4() || src == dst {
					continue
				}
				pk := intent.Packet{Src: src, Dst: dst, Proto: protos[r.Intn(len(protos))]}
				switch {
				case pk.Proto.HasPorts():
					pk.Port = ports[r.Intn(len(ports))]
				case pk.Proto.IsICMP():
					pk.ICMPType = []int{0, 3, 8, 11}[r.Intn(4)]
				}
				want := in.Eval(f, pk).Permit
				total++
				if want {
					permitted++
				}
				for _, j := range js {
					if got := j.permits(aclPacket(pk)); got != want {
						disagree = append(disagree, fmt.Sprintf("%s: %s → %s (%s) proto %d port %d icmp %d: fwpush %v, aclgen %v",
							j.name, pk.Src, pk.Dst, host, pk.Proto, pk.Port, pk.ICMPType, want, got))
					}
				}
			}
		}
	}
	t.Logf("%d packets (%d permitted) × juniper, cisco: %d disagree", total, permitted, len(disagree))
	require.Greater(t, permitted, total/10)
	require.Less(t, permitted, total)
	require.Empty(t, disagree[:min(len(disagree), 20)], "%d disagreements", len(disagree))
}
