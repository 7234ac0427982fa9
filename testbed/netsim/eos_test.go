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

const eosSeed = `! Command: show running-config
! device: E1 (vEOS, EOS-4.30.1F)
!
hostname E1
!
spanning-tree mode mstp
!
interface Ethernet1
   description uplink
   no switchport
   ip address 198.18.1.1/24
!
interface Ethernet2
   no switchport
   ip address 198.18.2.1/24
!
ip access-list FOREIGN
   10 permit tcp 198.18.0.0/15 any eq ssh
   20 deny ip any any
!
ip routing
!
end
`

func eosOpts() Options {
	return Options{Platform: PlatformEOS, Hostname: "E1", Config: eosSeed,
		Interfaces: map[string]string{"Ethernet1": "eth1", "Ethernet2": "eth2"}}
}

func TestEOSShowAndConfigOverScrapli(t *testing.T) {
	s := startSim(t, eosOpts())
	d := s.driver(t, operUser, operPass)
	out, failed := send(t, d, "show ip access-lists")
	assert.NoError(t, failed)
	assert.Equal(t, "IP Access List FOREIGN\n        10 permit tcp 198.18.0.0/15 any eq ssh\n        20 deny ip any any", out)
	m, err := d.SendConfigs([]string{"ip access-list FWPUSH-1", "permit tcp any host 198.18.1.10 eq 80 443", "remark web",
		"ipv6 access-list FWPUSH-6", "permit tcp 2001:DB8:1::/48 any eq 22",
		"interface et1", "ip access-group FWPUSH-1 in", "ipv6 access-group FWPUSH-6 in"})
	require.NoError(t, err)
	require.NoError(t, m.Failed)
	out, _ = send(t, d, "show running-config | section access")
	assert.Equal(t, "interface Ethernet1\n   description uplink\n   no switchport\n   ip address 198.18.1.1/24\n"+
		"   ip access-group FWPUSH-1 in\n   ipv6 access-group FWPUSH-6 in\n"+
		"ip access-list FOREIGN\n   10 permit tcp 198.18.0.0/15 any eq ssh\n   20 deny ip any any\n"+
		"ip access-list FWPUSH-1\n   10 permit tcp any host 198.18.1.10 eq www https\n   20 remark web\n"+
		"ipv6 access-list FWPUSH-6\n   10 permit tcp 2001:db8:1::/48 any eq ssh", out)
	assert.Equal(t, "FWPUSH-1+FWPUSH-6", boundFilter(s.dev.State(), "eth1", enforce.In))
	assert.Contains(t, s.dev.RunningConfig(), "spanning-tree mode mstp\n!\n")
}

func TestEOSErrorsOverScrapli(t *testing.T) {
	s := startSim(t, eosOpts())
	d := s.driver(t, adminUser, adminPass)
	for _, c := range []struct{ cmd, want string }{
		{"show foo", "% Invalid input"},
		{"show", "% Incomplete command"},
		{"co", "% Ambiguous command"},
		{"configure session nope commit", "% Cannot commit session nope: no such pending session"},
	} {
		out, failed := send(t, d, c.cmd)
		assert.Equal(t, c.want, out, c.cmd)
		assert.Error(t, failed, c.cmd)
	}
	m, err := d.SendConfigs([]string{"ip access-list X", "permit tcp any any eq 70000"})
	require.NoError(t, err)
	assert.Equal(t, "% Invalid input", m.Responses[1].Result)
	assert.Error(t, m.Responses[1].Failed)
}

func TestEOSPrompts(t *testing.T) {
	dev, err := NewDevice(eosOpts())
	require.NoError(t, err)
	dev.opts.EnableSecret = enablePw
	got := prompts(dev, operUser, 1, "", "enable", enablePw, "configure", "ip access-list A", "interface ethernet 2",
		"ipv6 access-list B", "end", "configure session fwpush-20260304", "ip access-list A", "interface Ethernet1", "end")
	assert.Equal(t, []string{"E1>", "Password: ", "E1#", "E1(config)#", "E1(config-acl-A)#", "E1(config-if-Et2)#",
		"E1(config-ipv6-acl-B)#", "E1#", "E1(config-s-fwpush)#", "E1(config-s-fwpush-acl-A)#", "E1(config-s-fwpush-if-Et1)#", "E1#"}, got)
}

func eosStage(t *testing.T, s *sim, name string) []string {
	t.Helper()
	d := s.driver(t, adminUser, adminPass)
	for _, f := range sendAll(t, d, "configure session "+name, "ip access-list FWPUSH-2", "permit tcp any any eq ssh",
		"interface Ethernet1", "ip access-group FWPUSH-2 in") {
		require.NoError(t, f)
	}
	assert.Equal(t, "", boundFilter(s.dev.State(), "eth1", enforce.In), "a session is private until commit")
	out, _ := send(t, d, "show session-config diffs")
	lines := strings.Split(out, "\n")
	assert.Equal(t, "--- system:/running-config", lines[0])
	assert.Equal(t, "+++ session:/"+name+"-session-config", lines[1])
	_, failed := send(t, d, "end") // the session stays pending
	require.NoError(t, failed)
	return lines[2:]
}

// TestEOSCommitTimer: `commit timer hh:mm:ss` applies the session and
// reverts at the deadline unless `configure session NAME commit` confirms
// it, from any connection; a dropped session changes nothing.
func TestEOSCommitTimer(t *testing.T) {
	for _, mode := range []string{"confirmed", "unconfirmed", "session-dropped"} {
		t.Run(mode, func(t *testing.T) {
			s := startSim(t, eosOpts())
			before := s.dev.RunningConfig()
			eosStage(t, s, "fwpush-1")
			d := s.driver(t, adminUser, adminPass)
			_, failed := send(t, d, "configure session fwpush-1")
			require.NoError(t, failed)
			out, failed := send(t, d, "commit timer 00:05:00")
			require.NoError(t, failed, out)
			assert.Equal(t, "FWPUSH-2", boundFilter(s.dev.State(), "eth1", enforce.In))
			require.Len(t, s.dev.PendingTimers(), 1)
			assert.Equal(t, t0.Add(5*time.Minute), s.dev.PendingTimers()[0].Deadline)
			out, _ = send(t, d, "show configuration sessions")
			assert.Regexp(t, `(?m)^  fwpush-1\s+pendingCommitTimer\s+admin`, out)
			switch mode {
			case "confirmed":
				d2 := s.driver(t, adminUser, adminPass)
				_, failed = send(t, d2, "configure session fwpush-1 commit")
				require.NoError(t, failed)
				assert.Empty(t, s.dev.PendingTimers())
				s.clock.Advance(time.Hour)
				assert.Equal(t, "FWPUSH-2", boundFilter(s.dev.State(), "eth1", enforce.In))
				return
			case "session-dropped":
				d.Close()
			}
			s.clock.Advance(5*time.Minute - time.Second)
			assert.Equal(t, "FWPUSH-2", boundFilter(s.dev.State(), "eth1", enforce.In))
			s.clock.Advance(time.Second)
			assert.Equal(t, before, s.dev.RunningConfig())
			assert.Equal(t, "", boundFilter(s.dev.State(), "eth1", enforce.In))
		})
	}
}

func TestEOSSecondCommitTimerRefused(t *testing.T) {
	s := startSim(t, eosOpts())
	d := s.driver(t, adminUser, adminPass)
	sendAll(t, d, "configure session a", "ip access-list A", "permit ip any any")
	_, failed := send(t, d, "commit timer 00:10:00")
	require.NoError(t, failed)
	sendAll(t, d, "configure session b", "ip access-list B", "permit ip any any")
	out, failed := send(t, d, "commit timer 00:10:00")
	assert.Error(t, failed, "scrapligo flags %% Cannot commit")
	assert.Equal(t, "% Cannot commit session b: session a has a pending commit timer", out)
	assert.NotContains(t, s.dev.RunningConfig(), "ip access-list B")
	_, failed = send(t, d, "abort")
	require.NoError(t, failed)
	_, failed = send(t, d, "configure session a abort")
	require.NoError(t, failed)
	assert.NotContains(t, s.dev.RunningConfig(), "ip access-list A")
}

// TestEOSRejectedLineInSession: RELIABILITY A7 on EOS. A refused line in a
// configuration session leaves the running config untouched; the driver
// aborts the session.
func TestEOSRejectedLineInSession(t *testing.T) {
	s := startSim(t, eosOpts())
	before := s.dev.RunningConfig()
	d := s.driver(t, adminUser, adminPass)
	s.dev.RejectLine(37)
	lines := []string{"configure session fwpush-7", "ip access-list FWPUSH-3"}
	for i := 2; i <= 50; i++ {
		lines = append(lines, fmt.Sprintf("permit tcp any host 198.18.1.%d eq 80", i))
	}
	errs := sendAll(t, d, lines...)
	for i, f := range errs[1:] {
		if i == 36 {
			assert.Error(t, f)
		} else {
			assert.NoError(t, f, "line %d", i+1)
		}
	}
	assert.Equal(t, before, s.dev.RunningConfig())
	_, failed := send(t, d, "abort")
	require.NoError(t, failed)
	assert.Equal(t, before, s.dev.RunningConfig())
	out, _ := send(t, d, "show configuration sessions")
	assert.NotContains(t, out, "fwpush-7")
}

func TestEOSSessionDiffsMatchFixture(t *testing.T) {
	fx := fixture(t, "eos/new_good.diff")
	hunk := regexp.MustCompile(`^(@@ -\d+,\d+ \+\d+,\d+ @@|[ +-].*)$`)
	for _, l := range strings.Split(strings.TrimRight(fx, "\n"), "\n") {
		require.Regexp(t, hunk, l, "fixture line")
	}
	s := startSim(t, eosOpts())
	lines := eosStage(t, s, "fwpush-9")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		assert.Regexp(t, hunk, l)
	}
	assert.Contains(t, lines, "+   ip access-group FWPUSH-2 in")
	assert.Contains(t, lines, "+ip access-list FWPUSH-2")
}
