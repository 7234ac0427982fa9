package netsim

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fixture reads a published device output from FWPUSH_SHARED_DIR
// (vendor-fixtures/...). Without it the test skips, except under CI where
// it fails, naming the missing file.
func fixture(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("FWPUSH_SHARED_DIR")
	path := filepath.Join(dir, "vendor-fixtures", rel)
	b, err := os.ReadFile(path)
	if dir == "" || err != nil {
		msg := "needs vendor-fixtures/" + rel + " under FWPUSH_SHARED_DIR (unset or file missing)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return strings.ReplaceAll(string(b), "\r", "")
}

// aclBlock is one list of a `show access-lists` output: its header line
// and its entry lines with their indentation, counters removed.
type aclBlock struct {
	header  string
	entries []string
}

var counters = regexp.MustCompile(`\s*(\(\d+ match(es)?\)|\[match=\d+\])\s*$`)

// showBlocks splits show-access-lists text into lists. A harness
// indentation (the header's own) is removed from every line of a block.
func showBlocks(text string, headers *regexp.Regexp) []aclBlock {
	var out []aclBlock
	harness := 0
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, " ")
		trim := strings.TrimLeft(l, " ")
		if headers.MatchString(trim) {
			harness = len(l) - len(trim)
			out = append(out, aclBlock{header: trim})
			continue
		}
		if len(out) == 0 || trim == "" || len(l)-len(trim) <= harness {
			continue
		}
		out[len(out)-1].entries = append(out[len(out)-1].entries, counters.ReplaceAllString(l[harness:], ""))
	}
	return out
}

// cli runs lines in one privileged CLI session and returns each output.
func cli(dev *Device, lines ...string) []string {
	s := dev.newSession("admin", 15, "test", nil)
	defer dev.closeSession(s)
	var out []string
	for _, l := range lines {
		out = append(out, s.input(l))
	}
	return out
}

// roundTrip types each fixture list into a fresh simulator and checks that
// the simulator's show output for it is the fixture's, line for line
// (spacing, numbers, names). Lists using options the simulator does not
// model are skipped (and logged); at least minMatched must round-trip.
func roundTrip(t *testing.T, opts func() Options, text string, headers *regexp.Regexp,
	enter func(b aclBlock) []string, show func(b aclBlock) string, minMatched int) {
	t.Helper()
	matched := 0
	for _, b := range showBlocks(text, headers) {
		dev, err := NewDevice(opts())
		if err != nil {
			t.Fatal(err)
		}
		lines := append([]string{"configure terminal"}, enter(b)...)
		outs := cli(dev, append(lines, "end")...)
		refused := ""
		for i, o := range outs[:len(outs)-1] {
			if i > 0 && strings.TrimSpace(o) != "" {
				refused = lines[i] + " -> " + strings.TrimSpace(o)
				break
			}
		}
		if refused != "" {
			t.Logf("skipped %q: not modelled: %s", b.header, refused)
			continue
		}
		got := showBlocks(cli(dev, show(b))[0], headers)
		if len(got) != 1 {
			t.Errorf("%q: show printed %d lists, want 1", b.header, len(got))
			continue
		}
		if got[0].header != b.header || strings.Join(got[0].entries, "\n") != strings.Join(b.entries, "\n") {
			t.Errorf("%q round trip:\n--- fixture\n%s\n%s\n--- simulator\n%s\n%s", b.header,
				b.header, strings.Join(b.entries, "\n"), got[0].header, strings.Join(got[0].entries, "\n"))
			continue
		}
		matched++
	}
	if matched < minMatched {
		t.Errorf("%d lists round-tripped, want at least %d", matched, minMatched)
	}
}

// seqFirst turns an IOS IPv6 show line "permit ... sequence 20" into the
// config line "sequence 20 permit ...".
func seqFirst(l string) string {
	l = strings.TrimSpace(l)
	i := strings.LastIndex(l, " sequence ")
	if i < 0 {
		return l
	}
	return "sequence " + l[i+len(" sequence "):] + " " + l[:i]
}

var iosHeaders = regexp.MustCompile(`^(Extended IP|Standard IP|IPv6|Extended MAC) access list `)

func TestIOSShowAccessListsMatchFixtures(t *testing.T) {
	enter := func(b aclBlock) []string {
		f := strings.Fields(b.header)
		name := f[len(f)-1]
		switch {
		case strings.HasPrefix(b.header, "Extended IP"):
			out := []string{"ip access-list extended " + name}
			for _, e := range b.entries {
				out = append(out, strings.TrimSpace(e))
			}
			return out
		case strings.HasPrefix(b.header, "IPv6"):
			if len(f) > 4 { // "(per-user)"
				return []string{"standard-or-unsupported " + b.header}
			}
			out := []string{"ipv6 access-list " + name}
			for _, e := range b.entries {
				out = append(out, seqFirst(e))
			}
			return out
		}
		return []string{"unsupported " + b.header}
	}
	show := func(b aclBlock) string {
		f := strings.Fields(b.header)
		if strings.HasPrefix(b.header, "IPv6") {
			return "show ipv6 access-list " + f[len(f)-1]
		}
		return "show ip access-lists " + f[len(f)-1]
	}
	for _, c := range []struct {
		file string
		min  int
	}{
		{"ios/genie-ShowAccessLists_golden_output_output.txt", 3},
		{"ios/cisco_ios_show_ip_access-lists_969.raw", 4},
		{"ios/cisco_ios_show_access-list.raw", 2},
		{"ios/cisco_ios_show_ipv6_access-lists.raw", 4},
	} {
		t.Run(c.file, func(t *testing.T) {
			roundTrip(t, iosOpts, fixture(t, c.file), iosHeaders, enter, show, c.min)
		})
	}
}

var nxosHeaders = regexp.MustCompile(`^(IP|IPv6|MAC) access list `)

func TestNXOSShowAccessListsMatchFixtures(t *testing.T) {
	enter := func(b aclBlock) []string {
		f := strings.Fields(b.header)
		kind := map[string]string{"IP": "ip", "IPv6": "ipv6"}[f[0]]
		if kind == "" {
			return []string{"unsupported " + b.header}
		}
		out := []string{kind + " access-list " + f[len(f)-1]}
		for _, e := range b.entries {
			out = append(out, strings.TrimSpace(e))
		}
		return out
	}
	show := func(b aclBlock) string {
		f := strings.Fields(b.header)
		if f[0] == "IPv6" {
			return "show ipv6 access-lists " + f[len(f)-1]
		}
		return "show ip access-lists " + f[len(f)-1]
	}
	for _, c := range []struct {
		file string
		min  int
	}{
		{"nxos/cisco_nxos_show_access-lists.raw", 8},
		{"nxos/cisco_nxos_show_access-lists2.raw", 1},
		{"nxos/genie-ShowAccessLists_golden_output1_output.txt", 4},
		{"nxos/genie-ShowAccessLists_golden_output2_output.txt", 1},
	} {
		t.Run(c.file, func(t *testing.T) {
			roundTrip(t, nxosOpts, fixture(t, c.file), nxosHeaders, enter, show, c.min)
		})
	}
}

var eosHeaders = regexp.MustCompile(`^(IP|IPv6) Access List `)

func TestEOSShowAccessListsMatchFixtures(t *testing.T) {
	enter := func(b aclBlock) []string {
		f := strings.Fields(b.header)
		if f[len(f)-1] == "[readonly]" {
			return []string{"unsupported " + b.header}
		}
		out := []string{strings.ToLower(f[0]) + " access-list " + f[len(f)-1]}
		for _, e := range b.entries {
			out = append(out, strings.TrimSpace(e))
		}
		return out
	}
	show := func(b aclBlock) string {
		f := strings.Fields(b.header)
		return "show " + strings.ToLower(f[0]) + " access-lists " + f[len(f)-1]
	}
	roundTrip(t, eosOpts, fixture(t, "eos/arista_eos_show_ip_access-lists.raw"), eosHeaders, enter, show, 1)
}

// configBlocks returns the top-level blocks of a configuration text whose
// header matches re, each as its lines.
func configBlocks(text string, re *regexp.Regexp) []string {
	var out []string
	for _, b := range blocks(text) {
		if b != nil && re.MatchString(b[0]) {
			out = append(out, strings.Join(b, "\n"))
		}
	}
	return out
}

// TestRunningConfigMatchesFixtures loads published configurations as the
// simulator's initial config and checks that the ACL, object-group and
// binding blocks are modelled (not kept as opaque text) and printed back
// exactly as the devices print them.
func TestRunningConfigMatchesFixtures(t *testing.T) {
	for _, c := range []struct {
		file     string
		opts     func() Options
		blocks   *regexp.Regexp
		modelled func(cfg *Config) int
		want     int
		show     string
	}{
		{"ios/ansible_ios_acls__parsed.cfg", iosOpts, regexp.MustCompile(`^(ip access-list extended|ipv6 access-list) `),
			func(c *Config) int { return len(c.acls) }, 8, "show running-config"},
		{"ios/ios-object-group-network", iosOpts, regexp.MustCompile(`^object-group network (ogn_wildcard|ogn_host|ogn_indirect|ogn_unused)$`),
			func(c *Config) int { return len(c.groups) }, 4, "show running-config"},
		{"ios/ios-object-group-service", iosOpts, regexp.MustCompile(`^object-group service`),
			func(c *Config) int { return len(c.groups) + len(c.acls) }, 5, "show running-config"},
		{"eos/eos_acls_idempotent.cfg", eosOpts, regexp.MustCompile(`^ip access-list `),
			func(c *Config) int { return len(c.acls) - 1 }, 3, "show running-config"},
		{"eos/ipv6_acl", eosOpts, regexp.MustCompile(`^ipv6 access-list `),
			func(c *Config) int { return len(c.acls) - 1 }, 1, "show running-config"},
		{"nxos/show_running-config_aclmgr.txt", nxosOpts, regexp.MustCompile(`^(ip access-list|interface)`),
			func(c *Config) int { return len(c.acls) - 1 }, 1, "show running-config aclmgr"},
	} {
		t.Run(c.file, func(t *testing.T) {
			text := fixture(t, c.file)
			o := c.opts()
			o.Config = o.Config + "\n" + text
			dev, err := NewDevice(o)
			if err != nil {
				t.Fatal(err)
			}
			if n := c.modelled(dev.running); n < c.want {
				t.Errorf("%d objects modelled, want %d", n, c.want)
			}
			out := strings.ReplaceAll(cli(dev, c.show)[0], "\r", "")
			for _, b := range configBlocks(text, c.blocks) {
				if !strings.Contains(out, b+"\n") {
					t.Errorf("block not printed back verbatim:\n%s\n--- simulator printed\n%s", b, out)
				}
			}
		})
	}
}

// TestIOSForeignConfigPreserved: a full IOS configuration loads, and every
// line the simulator does not model is printed back unchanged.
func TestIOSForeignConfigPreserved(t *testing.T) {
	text := fixture(t, "ios/as2border1.cfg")
	dev, err := NewDevice(Options{Platform: PlatformIOSXE, Hostname: "x", Config: text})
	if err != nil {
		t.Fatal(err)
	}
	out := dev.RunningConfig()
	for _, b := range blocks(text) {
		if b == nil || modelled(dev.d, b[0]) {
			continue
		}
		if !strings.Contains(out, strings.Join(b, "\n")+"\n") {
			t.Errorf("foreign block changed or lost:\n%s", strings.Join(b, "\n"))
		}
	}
	// The classic-IOS ACLs are modelled and printed the IOS-XE way.
	if !strings.Contains(out, "ip access-list extended INSIDE_TO_AS1\n 10 permit ip 2.0.0.0 0.255.255.255 1.0.0.0 0.255.255.255\n 20 permit ip host 10.12.11.2 host 10.12.11.1\n 30 deny   ip any any\n") {
		t.Errorf("INSIDE_TO_AS1 not modelled as IOS-XE prints it:\n%s", out)
	}
	if !strings.Contains(out, "interface GigabitEthernet0/0\n ip address 10.12.11.2 255.255.255.0\n ip access-group OUTSIDE_TO_INSIDE in\n ip access-group INSIDE_TO_AS1 out\n media-type gbic\n") {
		t.Errorf("interface bindings not kept in place:\n%s", out)
	}
}
