package netsim

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/testbed/enforce"
)

const nxosSeed = `hostname N1

feature bgp

object-group ip address MGMT
  10 host 198.18.0.10

ip access-list FOREIGN
  statistics per-entry
  10 permit tcp 198.18.0.0/15 any eq 22
  20 deny ip any any

interface Ethernet1/1
  description uplink
  no switchport
  ip address 198.18.1.1/24

interface Ethernet1/2
  no switchport
  ip address 198.18.2.1/24

router bgp 65001
  router-id 198.18.1.1
`

func nxosOpts() Options {
	return Options{Platform: PlatformNXOS, Hostname: "N1", Config: nxosSeed,
		Interfaces: map[string]string{"Ethernet1/1": "eth1", "Ethernet1/2": "eth2"}}
}

// body drops the lines of a configuration that carry the current time.
func body(cfg string) string {
	var out []string
	for _, l := range strings.Split(cfg, "\n") {
		if strings.HasPrefix(l, "!Time:") || strings.HasPrefix(l, "!Running configuration last done") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestNXOSShowAndConfigOverScrapli(t *testing.T) {
	s := startSim(t, nxosOpts())
	d := s.driver(t, adminUser, adminPass)
	out, failed := send(t, d, "show ip access-lists FOREIGN")
	assert.NoError(t, failed)
	assert.Equal(t, "IP access list FOREIGN\n        statistics per-entry\n        10 permit tcp 198.18.0.0/15 any eq 22\n        20 deny ip any any", out)
	m, err := d.SendConfigs([]string{"object-group ip port WEB", "eq 80", "eq 443", "exit",
		"ip access-list FWPUSH-1", "10 permit tcp addrgroup MGMT any portgroup WEB", "20 permit tcp any host 198.18.1.10 eq www",
		"interface e1/1", "ip access-group FWPUSH-1 in"})
	require.NoError(t, err)
	require.NoError(t, m.Failed)
	out, _ = send(t, d, "show running-config aclmgr")
	assert.Contains(t, out, "object-group ip port WEB\n  10 eq 80\n  20 eq 443\n")
	assert.Contains(t, out, "ip access-list FWPUSH-1\n  10 permit tcp addrgroup MGMT any portgroup WEB\n  20 permit tcp any 198.18.1.10/32 eq www\n")
	assert.Contains(t, out, "interface Ethernet1/1\n  ip access-group FWPUSH-1 in")
	out, _ = send(t, d, "show object-group WEB")
	assert.Equal(t, "IPv4 port object-group WEB\n        10 eq 80\n        20 eq 443", out)
	assert.Equal(t, "FWPUSH-1", boundFilter(s.dev.State(), "eth1", enforce.In))
	assert.Contains(t, s.dev.RunningConfig(), "router bgp 65001\n  router-id 198.18.1.1\n")
}

func TestNXOSErrorsOverScrapli(t *testing.T) {
	s := startSim(t, nxosOpts())
	d := s.driver(t, adminUser, adminPass)
	for _, c := range []struct{ cmd, want string }{
		{"show foo", strings.Repeat(" ", 4+5) + "^\n% Invalid command at '^' marker."},
		{"show", strings.Repeat(" ", 4+5) + "^\n% Incomplete command at '^' marker."},
		{"c", strings.Repeat(" ", 4) + "^\n% Ambiguous command at '^' marker."},
		{"write memory", strings.Repeat(" ", 4) + "^\n% Invalid command at '^' marker."},
		{"rollback running-config checkpoint nope", "ERROR: Checkpoint nope does not exist"},
	} {
		out, failed := send(t, d, c.cmd)
		assert.Equal(t, c.want, out, c.cmd)
		assert.Error(t, failed, c.cmd)
	}
	m, err := d.SendConfigs([]string{"ip access-list X", "permit tcp any 198.18.1.300/32 eq 22"})
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat(" ", len("N1(config-acl)# ")+15)+"^\n% Invalid ip address at '^' marker.", m.Responses[1].Result)
	// scrapligo's cisco_nxos failed-when-contains list has "% Invalid command"
	// but not "% Invalid ip address": a driver must add "% Invalid" itself.
	assert.NoError(t, m.Responses[1].Failed)
}

func TestNXOSPrompts(t *testing.T) {
	dev, err := NewDevice(nxosOpts())
	require.NoError(t, err)
	got := prompts(dev, adminUser, 15, "configure terminal", "ip access-list A", "ipv6 access-list B",
		"object-group ip address G", "object-group ip port P", "object-group ipv6 address G6",
		"interface ethernet1/2", "event manager applet X", "end",
		"configure session S1", "ip access-list A", "interface Ethernet1/1", "exit", "end")
	assert.Equal(t, []string{"N1(config)# ", "N1(config-acl)# ", "N1(config-ipv6-acl)# ", "N1(config-ipaddr-ogroup)# ",
		"N1(config-port-ogroup)# ", "N1(config-ipv6addr-ogroup)# ", "N1(config-if)# ", "N1(config-applet)# ", "N1# ",
		"N1(config-s)# ", "N1(config-s-acl)# ", "N1(config-s-if)# ", "N1(config-s)# ", "N1# "}, got)
}

// nxosArm is the NX-OS commit-confirm a driver can build from what the
// platform has: a checkpoint, an EEM applet whose countdown rolls back to
// it, then the change in a configuration session (atomic commit).
func nxosArm(t *testing.T, s *sim) {
	t.Helper()
	d := s.driver(t, adminUser, adminPass)
	out, failed := send(t, d, "checkpoint fwpush-pre")
	require.NoError(t, failed)
	assert.Equal(t, "Done", out)
	m, err := d.SendConfigs([]string{"event manager applet FWPUSH-REVERT", "event timer countdown time 120",
		`action 1 cli command "rollback running-config checkpoint fwpush-pre atomic"`})
	require.NoError(t, err)
	require.NoError(t, m.Failed)
	assert.Empty(t, s.dev.PendingTimers(), "EEM registers the applet when its sub-mode is left")
	require.NoError(t, d.AcquirePriv("privilege-exec"))
	require.Len(t, s.dev.PendingTimers(), 1)
	assert.Equal(t, t0.Add(120*time.Second), s.dev.PendingTimers()[0].Deadline)
	for _, f := range sendAll(t, d, "configure session fwpush-1", "ip access-list FWPUSH-2", "permit tcp any any eq 22",
		"interface ethernet1/1", "ip access-group FWPUSH-2 in") {
		require.NoError(t, f)
	}
	assert.Equal(t, "", boundFilter(s.dev.State(), "eth1", enforce.In), "session changes are private until commit")
	out, failed = send(t, d, "commit")
	require.NoError(t, failed)
	assert.Equal(t, "Commit Successful", out)
	assert.Equal(t, "FWPUSH-2", boundFilter(s.dev.State(), "eth1", enforce.In))
	d.Close()
}

func TestNXOSCheckpointCountdownRevert(t *testing.T) {
	for _, mode := range []string{"confirmed", "unconfirmed"} {
		t.Run(mode, func(t *testing.T) {
			s := startSim(t, nxosOpts())
			before := body(s.dev.RunningConfig())
			nxosArm(t, s)
			if mode == "confirmed" {
				d2 := s.driver(t, adminUser, adminPass)
				m, err := d2.SendConfigs([]string{"no event manager applet FWPUSH-REVERT"})
				require.NoError(t, err)
				require.NoError(t, m.Failed)
				require.NoError(t, d2.AcquirePriv("privilege-exec"))
				assert.Empty(t, s.dev.PendingTimers())
				s.clock.Advance(10 * time.Minute)
				assert.Equal(t, "FWPUSH-2", boundFilter(s.dev.State(), "eth1", enforce.In))
				return
			}
			s.clock.Advance(119 * time.Second)
			assert.Equal(t, "FWPUSH-2", boundFilter(s.dev.State(), "eth1", enforce.In))
			s.clock.Advance(time.Second)
			assert.Equal(t, before, body(s.dev.RunningConfig()))
			assert.Equal(t, "", boundFilter(s.dev.State(), "eth1", enforce.In))
			assert.Empty(t, s.dev.PendingTimers())
		})
	}
}

// TestNXOSSessionIsAtomic: RELIABILITY A7 on NX-OS. A line refused inside a
// configuration session leaves the running config untouched (the driver
// aborts); a commit that fails verification applies nothing.
func TestNXOSSessionIsAtomic(t *testing.T) {
	s := startSim(t, nxosOpts())
	before := body(s.dev.RunningConfig())
	d := s.driver(t, adminUser, adminPass)
	s.dev.RejectLine(37)
	lines := []string{"configure session fwpush-2", "ip access-list FWPUSH-3"}
	for i := 2; i <= 50; i++ {
		lines = append(lines, fmt.Sprintf("permit tcp any 198.18.1.%d/32 eq 80", i))
	}
	errs := sendAll(t, d, lines...)
	for i, f := range errs[1:] {
		if i == 36 {
			assert.Error(t, f)
		} else {
			assert.NoError(t, f, "line %d", i+1)
		}
	}
	assert.Equal(t, before, body(s.dev.RunningConfig()))
	out, _ := send(t, d, "show configuration session summary")
	assert.Contains(t, out, "fwpush-2")
	_, failed := send(t, d, "abort")
	require.NoError(t, failed)
	assert.Equal(t, before, body(s.dev.RunningConfig()))

	s.dev.FailNextCommit()
	sendAll(t, d, "configure session fwpush-3", "ip access-list FWPUSH-4", "permit ip any any")
	out, _ = send(t, d, "commit")
	assert.Equal(t, "Verification Failed\nCommit Failed", out)
	assert.Equal(t, before, body(s.dev.RunningConfig()))
	out, _ = send(t, d, "commit")
	assert.Equal(t, "Commit Successful", out)
	assert.Contains(t, s.dev.RunningConfig(), "ip access-list FWPUSH-4\n  10 permit ip any any\n")
}

func TestNXOSCheckpointSummaryMatchesFixture(t *testing.T) {
	fx := fixture(t, "nxos/genie-ShowCheckpointSummary_golden_output_output.txt")
	s := startSim(t, nxosOpts())
	d := s.driver(t, adminUser, adminPass)
	send(t, d, "checkpoint bgp-before")
	out, _ := send(t, d, "show checkpoint summary")
	grammar := []*regexp.Regexp{
		regexp.MustCompile(`^\d+\) [\w.-]+:$`),
		regexp.MustCompile(`^Created by \S+$`),
		regexp.MustCompile(`^Created at \w{3}, \d\d:\d\d:\d\d \d\d \w{3} \d{4}$`),
		regexp.MustCompile(`^Size is [\d,]+ bytes$`),
		regexp.MustCompile(`^(User|System) Checkpoint Summary$`),
		regexp.MustCompile(`^-{53}$`),
		regexp.MustCompile(`^Description: .+$`),
	}
	check := func(what, text string, want int) {
		var lines []string
		for _, l := range strings.Split(text, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		require.Len(t, lines, want*len(grammar), what)
		for i, l := range lines {
			assert.Regexp(t, grammar[i%len(grammar)], l, what)
		}
	}
	check("fixture", fx, 2)
	check("simulator", out, 1)
	assert.Contains(t, out, "1) bgp-before:\nCreated by admin\nCreated at Wed, 10:20:30 04 Mar 2026\n")
}

func TestNXOSSessionSummaryMatchesFixture(t *testing.T) {
	fx := fixture(t, "nxos/cisco_nxos_show_configuration_session_summary.raw")
	s := startSim(t, nxosOpts())
	d := s.driver(t, adminUser, adminPass)
	sendAll(t, d, "configure session ACL-SESSION1", "end", "configure session ACL-SESS22", "end")
	out, _ := send(t, d, "show configuration session summary")
	fl := strings.Split(strings.TrimRight(fx, "\n"), "\n")
	ol := strings.Split(out, "\n")
	require.Len(t, ol, len(fl))
	for i := range fl {
		if i == 4 || i == 5 {
			// rows: name and owner columns 24 wide, then the time
			row := regexp.MustCompile(`^(\S+)\s+(\S+)\s+(\d\d:\d\d:\d\d UTC \w{3} \d\d \d{4})$`)
			assert.Regexp(t, row, fl[i])
			assert.Regexp(t, row, ol[i])
			assert.Equal(t, strings.Index(fl[i], strings.Fields(fl[i])[1]), strings.Index(ol[i], strings.Fields(ol[i])[1]), "owner column")
			assert.Equal(t, strings.Fields(fl[i])[0], strings.Fields(ol[i])[0])
			continue
		}
		assert.Equal(t, fl[i], ol[i], "line %d", i+1)
	}
}
