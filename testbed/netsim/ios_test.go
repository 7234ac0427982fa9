package netsim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scrapli/scrapligo/channel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/testbed/enforce"
)

const iosSeed = `hostname R1
!
interface GigabitEthernet0/1
 description inside
 ip address 198.18.1.1 255.255.255.0
 negotiation auto
!
interface GigabitEthernet0/2
 ip address 198.18.2.1 255.255.255.0
!
router ospf 1
 network 198.18.0.0 0.1.255.255 area 0
!
ip access-list extended FOREIGN
 10 permit tcp any any eq 22
 20 deny   ip any any log
!
line vty 0 4
 transport input ssh
!
end
`

func iosOpts() Options {
	return Options{Platform: PlatformIOSXE, Hostname: "R1", Config: iosSeed,
		Interfaces: map[string]string{"GigabitEthernet0/1": "eth1", "GigabitEthernet0/2": "eth2"}}
}

func TestIOSShowAndConfigOverScrapli(t *testing.T) {
	s := startSim(t, iosOpts())
	d := s.driver(t, operUser, operPass) // lands in R1>, scrapligo enables
	out, failed := send(t, d, "show version")
	assert.NoError(t, failed)
	assert.Contains(t, out, "fwpush lab simulator")
	out, _ = send(t, d, "sh ip access-l")
	assert.Equal(t, "Extended IP access list FOREIGN\n    10 permit tcp any any eq 22\n    20 deny ip any any log", out)

	m, err := d.SendConfigs([]string{
		"ip access-list extended FWPUSH-1",
		"remark web to the server",
		"permit tcp any host 198.18.1.10 eq 80 443",
		"deny ip any any",
		"int gi0/1",
		"ip access-group FWPUSH-1 in",
	})
	require.NoError(t, err)
	assert.NoError(t, m.Failed)
	out, _ = send(t, d, "show running-config | section FWPUSH")
	assert.Equal(t, "interface GigabitEthernet0/1\n description inside\n ip address 198.18.1.1 255.255.255.0\n"+
		" ip access-group FWPUSH-1 in\n negotiation auto\nip access-list extended FWPUSH-1\n"+
		" 10 remark web to the server\n 10 permit tcp any host 198.18.1.10 eq www 443\n 20 deny   ip any any", out)
	assert.Equal(t, "FWPUSH-1", boundFilter(s.dev.State(), "eth1", enforce.In))
	assert.Contains(t, s.dev.RunningConfig(), "router ospf 1\n network 198.18.0.0 0.1.255.255 area 0\n")
}

func TestIOSErrorsOverScrapli(t *testing.T) {
	s := startSim(t, iosOpts())
	d := s.driver(t, adminUser, adminPass)
	for _, c := range []struct{ cmd, want string }{
		{"show foo", "        ^\n% Invalid input detected at '^' marker."},
		{"show ip access-lists FOREIGN extra", strings.Repeat(" ", 3+29) + "^\n% Invalid input detected at '^' marker."},
		{"show", "% Incomplete command."},
		{"co", `% Ambiguous command:  "co"`},
		{"frobnicate", "% Unknown command or computer name, or unable to find computer address"},
		{"terminal width 513", strings.Repeat(" ", 3+15) + "^\n% Invalid input detected at '^' marker."},
	} {
		out, failed := send(t, d, c.cmd)
		assert.Equal(t, c.want, out, c.cmd)
		assert.Error(t, failed, c.cmd)
	}
	m, err := d.SendConfigs([]string{"ip access-list extended X", "permit tcp any any eq 70000", "permit tcp any any eq 22"})
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat(" ", len("R1(config-ext-nacl)#")+22)+"^\n% Invalid input detected at '^' marker.", m.Responses[1].Result)
	assert.Error(t, m.Responses[1].Failed)
	assert.NoError(t, m.Responses[2].Failed)
	assert.Equal(t, 0, s.dev.MutatingCommands())
}

func TestIOSPromptsAndModes(t *testing.T) {
	dev, err := NewDevice(iosOpts())
	require.NoError(t, err)
	dev.opts.EnableSecret = enablePw
	got := prompts(dev, operUser, 1, "", "enable", "wrong", enablePw, "configure terminal",
		"ip access-list extended A", "interface gi0/2", "ipv6 access-list B", "object-group network N",
		"object-group service S", "archive", "exit", "end", "disable")
	assert.Equal(t, []string{"R1>", "Password: ", "Password: ", "R1#", "R1(config)#",
		"R1(config-ext-nacl)#", "R1(config-if)#", "R1(config-ipv6-acl)#", "R1(config-network-group)#",
		"R1(config-service-group)#", "R1(config-archive)#", "R1(config)#", "R1#", "R1>"}, got)
}

func iosArchive(t *testing.T, s *sim) {
	t.Helper()
	d := s.driver(t, adminUser, adminPass)
	m, err := d.SendConfigs([]string{"archive", "path flash:fwpush-arch", "maximum 5"})
	require.NoError(t, err)
	require.NoError(t, m.Failed)
	d.Close()
}

// TestIOSRevertTimer: `configure terminal revert timer N` arms a device-side
// rollback to the archive it writes; `configure confirm` from a new
// connection keeps the change; otherwise, and also when the arming session
// is gone, the running config returns to the archive at the deadline.
func TestIOSRevertTimer(t *testing.T) {
	for _, mode := range []string{"confirmed", "unconfirmed", "session-dropped"} {
		t.Run(mode, func(t *testing.T) {
			s := startSim(t, iosOpts())
			iosArchive(t, s)
			before := s.dev.RunningConfig()
			d := s.driver(t, adminUser, adminPass)
			out, failed := send(t, d, "configure terminal revert timer 5")
			require.NoError(t, failed)
			assert.Equal(t, "Rollback Confirmed Change: Backing up current running config to flash:fwpush-arch-Mar--4-10-20-30.000-0\n\n"+
				"Enter configuration commands, one per line.  End with CNTL/Z.", out)
			for _, f := range sendAll(t, d, "ip access-list extended FWPUSH-2", "permit tcp any any eq 22",
				"interface gi0/1", "ip access-group FWPUSH-2 in", "end") {
				require.NoError(t, f)
			}
			assert.Equal(t, "FWPUSH-2", boundFilter(s.dev.State(), "eth1", enforce.In))
			require.Len(t, s.dev.PendingTimers(), 1)
			assert.Equal(t, t0.Add(5*time.Minute), s.dev.PendingTimers()[0].Deadline)
			out, _ = send(t, d, "show archive config rollback timer")
			assert.Contains(t, out, "Timer value: 5 min")

			switch mode {
			case "confirmed":
				d2 := s.driver(t, adminUser, adminPass)
				out, failed = send(t, d2, "configure confirm")
				assert.NoError(t, failed)
				assert.Equal(t, "", out)
				s.clock.Advance(10 * time.Minute)
				assert.Contains(t, s.dev.RunningConfig(), "ip access-list extended FWPUSH-2")
				assert.Equal(t, "FWPUSH-2", boundFilter(s.dev.State(), "eth1", enforce.In))
				return
			case "session-dropped":
				d.Close() // scrapligo reports the device closing on `exit` as EOF
			}
			s.clock.Advance(5*time.Minute - time.Second)
			assert.Contains(t, s.dev.RunningConfig(), "FWPUSH-2", "reverted early")
			s.clock.Advance(time.Second)
			assert.Equal(t, before, s.dev.RunningConfig())
			assert.Equal(t, "", boundFilter(s.dev.State(), "eth1", enforce.In))
			assert.Empty(t, s.dev.PendingTimers())
			d3 := s.driver(t, adminUser, adminPass)
			out, _ = send(t, d3, "configure confirm")
			assert.Equal(t, "%No Rollback Confirmed Change pending", out)
		})
	}
}

func TestIOSRevertTimerNeedsArchive(t *testing.T) {
	s := startSim(t, iosOpts())
	d := s.driver(t, adminUser, adminPass)
	out, _ := send(t, d, "configure terminal revert timer 5")
	assert.Equal(t, "%Turn config archive on before using Rollback Confirmed Change", out)
	assert.Empty(t, s.dev.PendingTimers())
	out, _ = send(t, d, "show archive")
	assert.Equal(t, " Archive feature not enabled", out)
	out, _ = send(t, d, "configure revert now")
	assert.Equal(t, "%No Rollback Confirmed Change pending", out)
}

// TestIOSRejectedLineMidBlock is RELIABILITY A7 on IOS: in `configure
// terminal` every accepted line takes effect at once, so a device that
// refuses line 37 of 50 keeps the others; the revert timer armed before
// the block is what brings the running config back (`configure revert
// now`), and nothing reaches the startup config.
func TestIOSRejectedLineMidBlock(t *testing.T) {
	s := startSim(t, iosOpts())
	iosArchive(t, s)
	before := s.dev.RunningConfig()
	startup := s.dev.StartupConfig()
	d := s.driver(t, adminUser, adminPass)
	_, failed := send(t, d, "configure terminal revert timer 5")
	require.NoError(t, failed)
	send(t, d, "end")
	s.dev.RejectLine(37)
	lines := []string{"ip access-list extended FWPUSH-3"}
	for i := 2; i <= 50; i++ {
		lines = append(lines, fmt.Sprintf("permit tcp any host 198.18.1.%d eq 80", i))
	}
	m, err := d.SendConfigs(lines)
	require.NoError(t, err)
	for i, r := range m.Responses {
		if i == 36 {
			assert.Error(t, r.Failed)
			assert.Contains(t, r.Result, "% Invalid input detected at '^' marker.")
		} else {
			assert.NoError(t, r.Failed, "line %d", i+1)
		}
	}
	assert.Equal(t, 48, s.dev.running.acls[aclKey(false, "FWPUSH-3")].ruleCount(), "IOS keeps every accepted line")
	// scrapligo's SendConfigs returns to privileged exec by itself
	out, failed := send(t, d, "configure revert now")
	require.NoError(t, failed)
	assert.Contains(t, out, "Rollback Confirmed Change: rolling to:flash:fwpush-arch-")
	assert.Equal(t, before, s.dev.RunningConfig())
	assert.Equal(t, startup, s.dev.StartupConfig())
}

func TestIOSSaveCopyReplace(t *testing.T) {
	s := startSim(t, iosOpts())
	d := s.driver(t, adminUser, adminPass)
	out, failed := send(t, d, "write memory")
	assert.NoError(t, failed)
	assert.Equal(t, "Building configuration...\n[OK]", out)
	before := s.dev.RunningConfig()
	// copy asks for the destination, as IOS does
	res, err := d.SendInteractive([]*channel.SendInteractiveEvent{
		{ChannelInput: "copy running-config flash:base.cfg", ChannelResponse: `Destination filename \[base.cfg\]\?`},
		{ChannelInput: "", ChannelResponse: `R1#`},
	})
	require.NoError(t, err)
	assert.Contains(t, res.Result, "bytes copied in")
	m, err := d.SendConfigs([]string{"no ip access-list extended FOREIGN"})
	require.NoError(t, err)
	require.NoError(t, m.Failed)
	assert.NotContains(t, s.dev.RunningConfig(), "FOREIGN")
	out, failed = send(t, d, "configure replace flash:base.cfg force")
	assert.NoError(t, failed)
	assert.Equal(t, "Total number of passes: 1\nRollback Done", out)
	assert.Equal(t, before, s.dev.RunningConfig())
	assert.Equal(t, strings.TrimPrefix(before, "Building configuration...\n\nCurrent configuration"), strings.TrimPrefix(before, "Building configuration...\n\nCurrent configuration"))
}
