package ssh

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/internal/fault"
)

// jumpLab is a target that accepts a password and a jump host, both in
// known_hosts unless told otherwise. The jump host accepts the caller's key,
// or, when !acceptKey, only the device's password (which we never send it).
func jumpLab(t *testing.T, knowJump, acceptKey bool) (jump, target *testServer, cfg Config) {
	t.Helper()
	target, cfg = fixture(t, serverOpts{password: "device-pw"})
	jumpOpts := serverOpts{password: "device-pw"}
	if acceptKey {
		jumpOpts.authorized = []ssh.PublicKey{readPublicKeyOf(t, cfg.IdentityFiles[0])}
	}
	jump = newTestServer(t, jumpOpts)
	if knowJump {
		writeKnownHosts(t, cfg.KnownHostsFiles[0], jump.addr, jump.opts.hostKeys[0].PublicKey())
	}
	cfg.ProxyJump = "jumper@" + jump.addr
	cfg.Password = "device-pw"
	return jump, target, cfg
}

func readPublicKeyOf(t *testing.T, keyPath string) ssh.PublicKey {
	t.Helper()
	b, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return s.PublicKey()
}

func TestProxyJump(t *testing.T) {
	t.Parallel()
	jump, target, cfg := jumpLab(t, true, true)
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial via jump: %v", err)
	}
	defer c.Close()
	res, err := c.Run(context.Background(), "echo through", nil)
	if err != nil || string(res.Stdout) != "through\n" {
		t.Fatalf("Run via jump = %q, %v", res.Stdout, err)
	}
	if users, fwd, _, _ := jump.snapshot(); len(users) != 1 || users[0] != "jumper" || len(fwd) != 1 || fwd[0] != target.addr {
		t.Errorf("jump host: users %v, forwards %v; want [jumper], [%s]", users, fwd, target.addr)
	}
	if users, _, _, _ := target.snapshot(); len(users) != 1 || users[0] != "root" {
		t.Errorf("target users %v, want [root]", users)
	}
	// The device password is for the device: the jump host never saw it.
	if n := jump.pwCalls.Load(); n != 0 {
		t.Errorf("jump host was offered a password %d times", n)
	}
	if got := c.RemoteAddr().String(); got != target.addr {
		t.Errorf("RemoteAddr = %s, want %s", got, target.addr)
	}
	if got, want := c.HostKeyFingerprint(), ssh.FingerprintSHA256(target.opts.hostKeys[0].PublicKey()); got != want {
		t.Errorf("HostKeyFingerprint = %s, want the target's %s", got, want)
	}
}

func TestProxyJumpUnknownJumpHost(t *testing.T) {
	t.Parallel()
	jump, target, cfg := jumpLab(t, false, true)
	_, err := Dial(context.Background(), cfg)
	if !errors.Is(err, fault.ErrHostKey) {
		t.Fatalf("Dial via unknown jump host = %v, want ErrHostKey", err)
	}
	if !strings.Contains(err.Error(), "jump host") || !strings.Contains(err.Error(), "port "+strconv.Itoa(jump.port)) {
		t.Errorf("error %q should name the jump host and its port", err)
	}
	if jump.authLog.Load() != 0 || target.conns.Load() != 0 {
		t.Errorf("auth attempts on jump %d, connections to target %d; want 0, 0", jump.authLog.Load(), target.conns.Load())
	}
}

func TestProxyJumpFromSSHConfig(t *testing.T) {
	t.Parallel()
	jump, target, cfg := jumpLab(t, true, true)
	conf := filepath.Join(t.TempDir(), "config")
	body := "Host bastion\n  HostName 127.0.0.1\n  Port " + strconv.Itoa(jump.port) + "\n  User jumper\n" +
		"Host device\n  HostName 127.0.0.1\n  Port " + strconv.Itoa(target.port) + "\n  ProxyJump bastion\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Host, cfg.Port, cfg.ProxyJump, cfg.SSHConfigFile = "device", 0, "", conf
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial device via bastion alias: %v", err)
	}
	c.Close()
	if _, fwd, _, _ := jump.snapshot(); len(fwd) != 1 {
		t.Errorf("jump host forwarded %v, want one connection", fwd)
	}
}

func TestProxyJumpNeverGetsDevicePassword(t *testing.T) {
	t.Parallel()
	jump, target, cfg := jumpLab(t, true, false)
	_, err := Dial(context.Background(), cfg)
	if !errors.Is(err, fault.ErrAuth) || !strings.Contains(err.Error(), "jump host") {
		t.Fatalf("Dial = %v, want ErrAuth at the jump host", err)
	}
	if n := jump.pwCalls.Load(); n != 0 {
		t.Errorf("jump host was offered the device password %d times", n)
	}
	if target.conns.Load() != 0 {
		t.Error("target was reached although the jump host refused us")
	}
}
