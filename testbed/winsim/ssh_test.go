package winsim

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// encoded is the powershell.exe command line running script, as fwpush
// sends it.
func encoded(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i], b[2*i+1] = byte(r), byte(r>>8)
	}
	return "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand " + base64.StdEncoding.EncodeToString(b)
}

// sshSim serves a device over SSH on the loopback address.
func sshSim(t *testing.T, c SSHConfig) (*Device, *SSHServer, string) {
	t.Helper()
	dev, err := New(Options{Hostname: "WIN-SSH", Users: []User{{Name: "fwpush", Password: "Pa55-ssh"}}})
	require.NoError(t, err)
	srv, err := NewSSHServer(dev, c)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return dev, srv, ln.Addr().String()
}

func sshLogin(t *testing.T, srv *SSHServer, addr, user, pw string) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.Password(pw)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()), Timeout: 5 * time.Second})
}

// sshRun runs cmd with stdin and returns its output and exit status.
func sshRun(t *testing.T, c *ssh.Client, cmd, stdin string) (string, string, int) {
	t.Helper()
	s, err := c.NewSession()
	require.NoError(t, err)
	defer s.Close()
	var out, errOut bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &out, &errOut, strings.NewReader(stdin)
	err = s.Run(cmd)
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return out.String(), errOut.String(), 0
	case errors.As(err, &ee):
		return out.String(), errOut.String(), ee.ExitStatus()
	}
	require.NoError(t, err)
	return "", "", -1
}

// TestSSHExec runs commands as OpenSSH does under each default shell:
// cmd.exe passes the exit code of powershell.exe on; PowerShell (-c)
// turns a native program's failure into exit 1 unless the command ends
// with exit $LASTEXITCODE; %OS% is expanded by cmd.exe only; the program
// reads its stdin and sees SSH_CONNECTION, the address the connection came
// from.
func TestSSHExec(t *testing.T) {
	prog := encoded(`$in = [Console]::In.ReadToEnd() | ConvertFrom-Json
Write-Output ('hello ' + $in.name)
Write-Output ([string]$env:SSH_CONNECTION)
exit 95`)
	tests := map[string]struct {
		cmdShell bool
		cmd      string
		out      string // first line of stdout
		code     int
	}{
		"cmd: exit code passed on":            {cmdShell: true, cmd: prog, out: "hello win", code: 95},
		"powershell: native failure is 1":     {cmd: prog, out: "hello win", code: 1},
		"powershell: exit $LASTEXITCODE":      {cmd: prog + "; exit $LASTEXITCODE", out: "hello win", code: 95},
		"cmd: echo %OS% expands":              {cmdShell: true, cmd: "echo %OS%", out: "Windows_NT"},
		"powershell: echo %OS% does not":      {cmd: "echo %OS%", out: "%OS%"},
		"cmd: anything else is not a program": {cmdShell: true, cmd: "Get-Date", code: 1},
		"powershell: success is 0":            {cmd: encoded(`Write-Output 'x'`), out: "x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, srv, addr := sshSim(t, SSHConfig{CmdShell: tc.cmdShell})
			c, err := sshLogin(t, srv, addr, "fwpush", "Pa55-ssh")
			require.NoError(t, err)
			defer c.Close()
			out, stderr, code := sshRun(t, c, tc.cmd, `{"name":"win"}`)
			assert.Equal(t, tc.code, code, "stderr: %s", stderr)
			lines := strings.Split(strings.TrimSpace(out), "\r\n")
			if tc.out != "" {
				assert.Equal(t, tc.out, lines[0])
			}
			if strings.Contains(tc.out, "hello") {
				require.Len(t, lines, 2)
				f := strings.Fields(lines[1])
				require.Len(t, f, 4, "SSH_CONNECTION %q", lines[1])
				assert.Equal(t, c.LocalAddr().String(), net.JoinHostPort(f[0], f[1]), "the client's address and port")
				assert.Equal(t, addr, net.JoinHostPort(f[2], f[3]), "the server's")
			}
		})
	}
}

// TestSSHLogin: the host's users log in by password, the name in any
// case; a wrong password or user is refused.
func TestSSHLogin(t *testing.T) {
	_, srv, addr := sshSim(t, SSHConfig{})
	for _, tc := range []struct {
		user, pw string
		ok       bool
	}{{"fwpush", "Pa55-ssh", true}, {"FWPUSH", "Pa55-ssh", true}, {"fwpush", "wrong", false}, {"admin", "Pa55-ssh", false}} {
		c, err := sshLogin(t, srv, addr, tc.user, tc.pw)
		if tc.ok {
			require.NoError(t, err, tc.user)
			c.Close()
		} else {
			require.Error(t, err, tc.user)
		}
	}
}

// TestSSHCommandOutlivesClient: a client that disconnects mid-command
// does not stop it (Win32-OpenSSH does not kill a session without a pty):
// the rule its next command creates, after the disconnect, exists.
func TestSSHCommandOutlivesClient(t *testing.T) {
	dev, srv, addr := sshSim(t, SSHConfig{})
	started := dev.SlowCmdlet("New-NetFirewallRule", 300*time.Millisecond)
	c, err := sshLogin(t, srv, addr, "fwpush", "Pa55-ssh")
	require.NoError(t, err)
	s, err := c.NewSession()
	require.NoError(t, err)
	require.NoError(t, s.Start(encoded(`New-NetFirewallRule -Name late -DisplayName late -Group g -Protocol TCP -LocalPort 80 | Out-Null
New-NetFirewallRule -Name later -DisplayName later -Group g -Protocol TCP -LocalPort 81 | Out-Null`)))
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the command never reached New-NetFirewallRule")
	}
	require.NoError(t, c.Close())
	deadline := time.Now().Add(5 * time.Second)
	for len(dev.Rules()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var names []string
	for _, r := range dev.Rules() {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"late", "later"}, names)
}
