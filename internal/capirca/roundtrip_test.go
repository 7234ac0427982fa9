package capirca

import (
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers/aristaeos"
	"github.com/fwpush/fwpush/drivers/ciscoios"
	"github.com/fwpush/fwpush/drivers/cisconxos"
	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
	"github.com/fwpush/fwpush/internal/project"
)

// The round trip through Debian's python3-capirca: each seed playbook,
// over its host inventory, is exported, rendered by the real aclgen for
// Juniper, Cisco, Arista and Cisco NX-OS, and every rendering is asked
// about sampled new connections to every managed host: it must give the
// verdict the host's compiled input filter gives, as must fwpush's own
// rendering of the host. The exported files are then imported back and
// compiled over the same hosts: every host's input filter must give the
// same verdicts as the original.

const (
	python = "/usr/bin/python3"
	aclgen = "/usr/bin/aclgen"
)

var (
	seeds   = []string{"clearwater", "dmcm", "portaswitch", "satellite", "wdm"}
	targets = []string{"juniper", "cisco", "arista", "cisconx"}
)

// needAclgen fails under CI (which installs python3-capirca) and skips
// elsewhere when aclgen is missing.
func needAclgen(tb testing.TB) {
	tb.Helper()
	for _, f := range []string{python, aclgen} {
		if _, err := os.Stat(f); err != nil {
			msg := f + " is missing: install Debian's python3-capirca (make deps)"
			if os.Getenv("CI") != "" {
				tb.Fatal(msg)
			}
			tb.Skip(msg)
		}
	}
}

func loadSeed(tb testing.TB, inv, pb string) *project.Project {
	tb.Helper()
	p, err := project.Load(project.Options{Inventory: inv, Playbook: pb})
	require.NoError(tb, err)
	return p
}

// writeExport lays the export out as aclgen's base directory.
func writeExport(tb testing.TB, ex *Export) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, text := range map[string]string{filepath.Join("pol", ex.Name+".pol"): ex.Policy,
		filepath.Join("def", "NETWORK.net"): ex.Networks, filepath.Join("def", "SERVICES.svc"): ex.Services} {
		require.NoError(tb, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(tb, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	return dir
}

// runAclgen renders the policies under dir and returns its output files.
func runAclgen(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	out := filepath.Join(dir, "out")
	require.NoError(tb, os.MkdirAll(out, 0o755))
	cmd := exec.Command(python, aclgen, "--base_directory="+dir, "--definitions_directory="+filepath.Join(dir, "def"),
		"--output_directory="+out, "--max_renderers=1")
	msg, err := cmd.CombinedOutput()
	require.NoError(tb, err, "aclgen: %s", msg)
	files, err := os.ReadDir(out)
	require.NoError(tb, err)
	got := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(out, f.Name()))
		require.NoError(tb, err)
		got[f.Name()] = string(b)
	}
	return got
}

// judge is one aclgen rendering, asked about a packet.
type judge struct {
	name    string
	permits func(p netacl.Packet) bool
}

// aclgenPorts are port names aclgen's Arista generator prints that EOS's
// own table (which fwpush's parser reads) may lack.
var aclgenPorts = map[string]int{"https": 443, "ssh": 22, "www": 80, "imap": 143, "kerberos": 88, "ldap": 389,
	"ldaps": 636, "nfs": 2049, "pptp": 1723, "cmd": 514, "radius": 1812, "radius-acct": 1813}

// judges reads aclgen's renderings of filter name for the targets
// (juniper, cisco, arista, cisconx).
func judges(tb testing.TB, files map[string]string, name string, targets ...string) []judge {
	tb.Helper()
	var out []judge
	if contains(targets, "juniper") {
		out = append(out, junosJudge(tb, files[name+".jcl"]))
	}
	for _, c := range []struct {
		target, ext string
		d           *netacl.Dialect
	}{
		{"cisco", ".acl", ciscoios.Platform().Driver.(*netacl.Driver).Dialect()},
		{"arista", ".eacl", aristaeos.Platform().Driver.(*netacl.Driver).Dialect()},
		{"cisconx", ".nxacl", cisconxos.Platform().Driver.(*netacl.Driver).Dialect()},
	} {
		if !contains(targets, c.target) {
			continue
		}
		text := files[name+c.ext]
		require.NotEmpty(tb, text, "aclgen wrote no %s%s", name, c.ext)
		for word, n := range aclgenPorts {
			text = strings.ReplaceAll(text, " eq "+word+"\n", fmt.Sprintf(" eq %d\n", n))
		}
		dev, err := c.d.Parse(text)
		require.NoError(tb, err, c.target)
		acls := map[bool]*netacl.ACL{}
		for _, a := range dev.ACLs {
			require.Nil(tb, acls[a.V6], "%s: two ACLs of one family", c.target)
			acls[a.V6] = a
			for _, e := range a.Entries {
				require.Empty(tb, e.Raw, "%s: a line fwpush's parser does not model", c.target)
			}
		}
		require.Len(tb, acls, 2, "%s: one ACL per family", c.target)
		out = append(out, judge{c.target, func(p netacl.Packet) bool { ok, _ := dev.Permits(acls[p.Src.Is6()], p); return ok }})
	}
	require.Len(tb, out, len(targets))
	return out
}

// junosJudge reads aclgen's Juniper rendering: a filter per family.
func junosJudge(tb testing.TB, jcl string) judge {
	tb.Helper()
	require.NotEmpty(tb, jcl, "aclgen wrote no .jcl")
	fs, err := ParseJunosFilters(jcl)
	require.NoError(tb, err)
	byFam := map[bool]*JunosFilter{}
	for _, f := range fs {
		require.Nil(tb, byFam[f.Family == "inet6"], "juniper: two filters of family %s", f.Family)
		byFam[f.Family == "inet6"] = f
	}
	require.Len(tb, byFam, 2, "juniper: inet and inet6 filters")
	return judge{"juniper", func(p netacl.Packet) bool { ok, _ := byFam[p.Src.Is6()].Permits(p); return ok }}
}

// inputFilter is a host's own input filter.
func inputFilter(tb testing.TB, in *intent.Intent) *intent.Filter {
	tb.Helper()
	for _, f := range in.Filters {
		if f.Binding.Kind == intent.Input {
			return f
		}
	}
	tb.Fatalf("%s: no input filter", in.Host)
	return nil
}

// sample draws new connections to dst: sources from the addresses the
// project names (hosts, networks' edges and neighbours, management, and
// addresses outside all), protocols and ports around every rule's edges;
// random with a fixed seed.
func sample(p *project.Project, r *rand.Rand, dst netip.Addr, n int) []intent.Packet {
	var srcs []netip.Addr
	addPrefix := func(pr netip.Prefix) {
		pr = pr.Masked()
		srcs = append(srcs, pr.Addr())
		if last := netipxLast(pr); last.IsValid() {
			srcs = append(srcs, last)
			if next := last.Next(); next.IsValid() {
				srcs = append(srcs, next)
			}
		}
		if prev := pr.Addr().Prev(); prev.IsValid() {
			srcs = append(srcs, prev)
		}
	}
	for _, h := range p.Inv.Names() {
		srcs = append(srcs, p.Inv.Hosts[h].Addresses...)
	}
	for _, name := range sortedKeys(p.Inv.Networks) {
		for _, pr := range p.Inv.Networks[name].Prefixes {
			addPrefix(pr)
		}
	}
	for _, pr := range p.Inv.Management {
		addPrefix(pr)
	}
	srcs = append(srcs, netip.MustParseAddr("192.0.2.77"), netip.MustParseAddr("2001:db8:ffff::77"))
	var fam []netip.Addr
	for _, a := range srcs {
		if a.Is4() == dst.Is4() {
			fam = append(fam, a)
		}
	}
	ports := []uint16{1, 22, 53, 80, 443, 830, 5060, 65535}
	icmps := []int{0, 3, 8, 11, 1, 2, 128, 129, 135, 136}
	for _, h := range p.Inv.Names() {
		for _, f := range p.Intents[h].Filters {
			for _, rule := range f.Rules {
				for _, pr := range rule.Ports {
					ports = append(ports, pr.Lo, pr.Hi, pr.Lo-1, pr.Hi+1)
				}
				icmps = append(icmps, rule.ICMP...)
			}
		}
	}
	protos := []policy.Proto{policy.TCP, policy.TCP, policy.UDP, policy.UDP, policy.SCTP, policy.ICMP, policy.ICMPv6, 47, 50, 89}
	// Half the packets are drawn from the rules of dst's own input, so
	// what it permits is asked about as often as what it drops.
	var rules []*intent.Rule
	var owner *intent.Intent
	for _, h := range p.Inv.Names() {
		if in := p.Intents[h]; in.Owns(dst) {
			owner = in
			for _, f := range in.Filters {
				if f.Binding.Kind == intent.Input {
					for _, rule := range f.Rules {
						if !rule.AnyProto && rule.Kind != intent.Established && rule.Kind != intent.Loopback && !wrongICMP(rule.Proto, dst) {
							rules = append(rules, rule)
						}
					}
				}
			}
		}
	}
	out := make([]intent.Packet, 0, n)
	for i := range n {
		pk := intent.Packet{Src: fam[r.Intn(len(fam))], Dst: dst, Proto: protos[r.Intn(len(protos))]}
		for wrongICMP(pk.Proto, dst) {
			pk.Proto = protos[r.Intn(len(protos))]
		}
		if i%2 == 0 && len(rules) > 0 {
			rule := rules[r.Intn(len(rules))]
			pk.Proto = rule.Proto
			if s := owner.Set(rule.Src); s != nil {
				var in []netip.Prefix
				for _, pr := range s.Prefixes {
					if pr.Addr().Is4() == dst.Is4() {
						in = append(in, pr)
					}
				}
				if len(in) > 0 {
					pk.Src = in[r.Intn(len(in))].Addr()
				}
			}
			if len(rule.Ports) > 0 {
				pr := rule.Ports[r.Intn(len(rule.Ports))]
				pk.Port = pr.Lo + uint16(r.Intn(int(pr.Hi-pr.Lo)+1))
			} else if pk.Proto.HasPorts() {
				pk.Port = ports[r.Intn(len(ports))]
			}
			if len(rule.ICMP) > 0 {
				pk.ICMPType = rule.ICMP[r.Intn(len(rule.ICMP))]
			}
			out = append(out, pk)
			continue
		}
		switch {
		case pk.Proto.HasPorts():
			pk.Port = ports[r.Intn(len(ports))]
		case pk.Proto.IsICMP():
			pk.ICMPType = icmps[r.Intn(len(icmps))]
		}
		out = append(out, pk)
	}
	return out
}

// wrongICMP: ICMP is IPv4's, ICMPv6 IPv6's; a packet of the other
// family is none a host sees.
func wrongICMP(p policy.Proto, dst netip.Addr) bool {
	return p == policy.ICMP && dst.Is6() || p == policy.ICMPv6 && dst.Is4()
}

// netipxLast is the last address of a prefix.
func netipxLast(p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	for i := p.Bits(); i < len(a)*8; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	out, _ := netip.AddrFromSlice(a)
	return out
}

func aclPacket(pk intent.Packet) netacl.Packet {
	return netacl.Packet{Src: pk.Src, Dst: pk.Dst, Proto: int(pk.Proto), SrcPort: 40000, DstPort: int(pk.Port), ICMPType: pk.ICMPType}
}

const packetsPerAddress = 200

func TestAclgenRoundTrip(t *testing.T) {
	needAclgen(t)
	for _, seed := range seeds {
		t.Run(seed, func(t *testing.T) {
			t.Parallel()
			inv := filepath.Join("..", "..", "inventory", "examples", seed)
			pb := filepath.Join("..", "..", "playbooks", seed+".yml")
			p := loadSeed(t, inv, pb)
			ex, err := ExportProject(p, ExportOptions{Targets: targets})
			require.NoError(t, err)
			dir := writeExport(t, ex)
			js := judges(t, runAclgen(t, dir), ex.Name, targets...)

			// Import the same files back, over the seed's hosts with the
			// imported networks.
			pol, err := ParseFile(filepath.Join(dir, "pol", ex.Name+".pol"), dir)
			require.NoError(t, err)
			defs, err := LoadDefs(filepath.Join(dir, "def"))
			require.NoError(t, err)
			im, err := Import(pol, defs, ImportOptions{})
			require.NoError(t, err)
			back := loadSeed(t, importedInventory(t, inv, im.Networks), writeTemp(t, im.Name+".yml", im.Playbook))

			r := rand.New(rand.NewSource(int64(len(seed))))
			total, permitted := 0, 0
			var disagree []string
			for _, host := range p.Inv.Names() {
				in := p.Intents[host]
				f := inputFilter(t, in)
				bin := back.Intents[host]
				require.NotNil(t, bin, "%s: not compiled after the import", host)
				bf := inputFilter(t, bin)
				fw := renderedFirewall(t, p, host)
				for _, dst := range in.Addresses {
					for _, pk := range sample(p, r, dst, packetsPerAddress) {
						want := in.Eval(f, pk).Permit
						total++
						if want {
							permitted++
						}
						for _, j := range js {
							if got := j.permits(aclPacket(pk)); got != want {
								disagree = append(disagree, fmt.Sprintf("%s %s: %s proto %d port %d icmp %d: fwpush %v, aclgen %v",
									j.name, host, pk.Src, pk.Proto, pk.Port, pk.ICMPType, want, got))
							}
						}
						if got, rule := fw.permits(t, aclPacket(pk)); got != want {
							disagree = append(disagree, fmt.Sprintf("render %s: %s proto %d port %d icmp %d: intent %v, rendered %v (%s)",
								host, pk.Src, pk.Proto, pk.Port, pk.ICMPType, want, got, rule))
						}
						if got := bin.Eval(bf, pk).Permit; got != want {
							disagree = append(disagree, fmt.Sprintf("import %s: %s → %s proto %d port %d icmp %d: before %v, after %v",
								host, pk.Src, pk.Dst, pk.Proto, pk.Port, pk.ICMPType, want, got))
						}
					}
				}
			}
			t.Logf("%s: %d packets (%d permitted) × %d aclgen renderings, fwpush's own rendering and the import: %d disagree", seed, total, permitted, len(js), len(disagree))
			require.Positive(t, permitted)
			require.Less(t, permitted, total)
			require.Empty(t, disagree[:min(len(disagree), 20)], "%d disagreements", len(disagree))
		})
	}
}

func writeTemp(tb testing.TB, name, text string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	require.NoError(tb, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// importedInventory copies the inventory's files but networks.yaml,
// which the import wrote.
func importedInventory(tb testing.TB, inv, networks string) string {
	tb.Helper()
	dir := tb.TempDir()
	files, err := os.ReadDir(inv)
	require.NoError(tb, err)
	for _, f := range files {
		if f.IsDir() || f.Name() == "networks.yaml" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(inv, f.Name()))
		require.NoError(tb, err)
		require.NoError(tb, os.WriteFile(filepath.Join(dir, f.Name()), b, 0o644))
	}
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "networks.yaml"), []byte(networks), 0o644))
	return dir
}
