package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

func TestServeOneDevice(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(users, []byte("# test\nadmin 15 s3cret\n"), 0o600))
	state := filepath.Join(dir, "state.json")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-platform", "arista_eos", "-hostname", "E9", "-listen", "127.0.0.1:0",
			"-users", users, "-host-key", filepath.Join(dir, "key.pem"), "-iface", "Ethernet1=eth1",
			"-state", state}, pw, io.Discard)
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	addrLine, err := r.ReadString('\n')
	require.NoError(t, err)
	keyLine, err := r.ReadString('\n')
	require.NoError(t, err)
	go io.Copy(io.Discard, r)
	addr := strings.TrimSpace(strings.TrimPrefix(addrLine, "listening "))
	hk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimPrefix(keyLine, "host-key ")))
	require.NoError(t, err)

	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.Password("s3cret")},
		HostKeyCallback: ssh.FixedHostKey(hk), Timeout: 5 * time.Second})
	require.NoError(t, err)
	sess, err := c.NewSession()
	require.NoError(t, err)
	out, err := sess.Output("show version")
	require.NoError(t, err)
	assert.Contains(t, string(out), "fwpush lab simulator")
	c.Close()
	b, err := os.ReadFile(state)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"Interface": "eth1"`)
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(10 * time.Second):
		t.Fatal("fwp-netsim did not stop on cancel")
	}
}

func TestBadUsersFileNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(users, []byte("admin 15 x\nbob sixteen\n"), 0o600))
	var stderr strings.Builder
	code := run(context.Background(), []string{"-platform", "cisco_iosxe", "-hostname", "R1", "-users", users,
		"-host-key", filepath.Join(dir, "k")}, io.Discard, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), users+":2: privilege: want 0-15")
}
