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

func TestStrictKnownHostsAccepts(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		known []int // indexes of the server's keys (ed25519, ECDSA) in known_hosts
	}{
		"both keys known": {known: []int{0, 1}},
		// The server holds both keys and would present one by default;
		// known_hosts lists only the other. Without HostKeyAlgorithms one
		// of these two cases is reported as a changed key.
		"only ed25519 known": {known: []int{0}},
		"only ECDSA known":   {known: []int{1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			keys := []ssh.Signer{newEd25519(t), newECDSA(t)}
			s, cfg := fixture(t, serverOpts{hostKeys: keys})
			kh := cfg.KnownHostsFiles[0]
			os.Remove(kh)
			var known []ssh.Signer
			for _, i := range tc.known {
				known = append(known, keys[i])
				writeKnownHosts(t, kh, s.addr, keys[i].PublicKey())
			}
			c, err := Dial(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			if got, want := c.HostKeyFingerprint(), ssh.FingerprintSHA256(known[0].PublicKey()); got != want {
				t.Errorf("HostKeyFingerprint = %s, want %s", got, want)
			}
			if got := c.RemoteAddr().String(); got != s.addr {
				t.Errorf("RemoteAddr = %s, want %s", got, s.addr)
			}
		})
	}
}

func TestUnknownHostRefusedBeforeAuth(t *testing.T) {
	t.Parallel()
	tests := map[string]func(t *testing.T, kh string){
		"no known_hosts file": func(t *testing.T, kh string) { os.Remove(kh) },
		"other hosts only": func(t *testing.T, kh string) {
			os.Remove(kh)
			writeKnownHosts(t, kh, "198.18.0.1:22", newEd25519(t).PublicKey())
		},
	}
	for name, prepare := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, cfg := fixture(t, serverOpts{password: "pw"})
			cfg.Password = "pw"
			prepare(t, cfg.KnownHostsFiles[0])
			_, err := Dial(context.Background(), cfg)
			if !errors.Is(err, fault.ErrHostKey) {
				t.Fatalf("Dial error = %v, want ErrHostKey", err)
			}
			var hke *HostKeyError
			if !errors.As(err, &hke) || hke.Changed {
				t.Fatalf("want an unknown-host HostKeyError, got %#v", err)
			}
			fp := ssh.FingerprintSHA256(s.opts.hostKeys[0].PublicKey())
			for _, want := range []string{"127.0.0.1", "port " + strconv.Itoa(s.port), fp, "--trust-on-first-use", "ssh-keyscan"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			// The key exchange ended the connection: the server never saw
			// a user auth request of any kind, so no credential left us.
			if n := s.authLog.Load(); n != 0 {
				t.Errorf("server logged %d auth attempts, want 0", n)
			}
			if n := s.creds.Load(); n != 0 {
				t.Errorf("server credential callbacks ran %d times, want 0", n)
			}
			if _, err := os.Stat(cfg.KnownHostsFiles[0]); err == nil {
				b, _ := os.ReadFile(cfg.KnownHostsFiles[0])
				if strings.Contains(string(b), strconv.Itoa(s.port)) {
					t.Error("strict mode recorded the unknown host")
				}
			}
		})
	}
}

func TestChangedKeyRefusedEvenWithTOFU(t *testing.T) {
	t.Parallel()
	for _, tofu := range []bool{false, true} {
		t.Run("tofu="+strconv.FormatBool(tofu), func(t *testing.T) {
			t.Parallel()
			s, cfg := fixture(t, serverOpts{})
			kh := cfg.KnownHostsFiles[0]
			os.Remove(kh)
			writeKnownHosts(t, kh, s.addr, newEd25519(t).PublicKey()) // the "old" key
			before, _ := os.ReadFile(kh)
			cfg.TrustOnFirstUse = tofu
			_, err := Dial(context.Background(), cfg)
			var hke *HostKeyError
			if !errors.Is(err, fault.ErrHostKey) || !errors.As(err, &hke) || !hke.Changed {
				t.Fatalf("Dial error = %v, want changed-key HostKeyError", err)
			}
			if !strings.Contains(err.Error(), "CHANGED") || !strings.Contains(err.Error(), kh+":1") {
				t.Errorf("error %q should shout CHANGED and name %s:1", err, kh)
			}
			if n := s.authLog.Load(); n != 0 {
				t.Errorf("server logged %d auth attempts, want 0", n)
			}
			after, _ := os.ReadFile(kh)
			if string(before) != string(after) {
				t.Errorf("known_hosts modified:\n%s", after)
			}
		})
	}
}

func TestTrustOnFirstUseRecordsKey(t *testing.T) {
	t.Parallel()
	s, cfg := fixture(t, serverOpts{})
	// A file that does not exist yet, in a directory that does not either.
	kh := filepath.Join(t.TempDir(), "ssh", "known_hosts")
	cfg.KnownHostsFiles = []string{kh}
	cfg.TrustOnFirstUse = true
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("TOFU Dial: %v", err)
	}
	c.Close()
	b, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[127.0.0.1]:" + strconv.Itoa(s.port) + " ssh-ed25519 "; !strings.HasPrefix(string(b), want) || strings.Count(string(b), "\n") != 1 {
		t.Errorf("known_hosts = %q, want one line starting %q", b, want)
	}

	cfg.TrustOnFirstUse = false
	c, err = Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("strict Dial after TOFU: %v", err)
	}
	c.Close()
	if b2, _ := os.ReadFile(kh); string(b2) != string(b) {
		t.Errorf("second connect changed known_hosts: %q", b2)
	}
}

func TestSSHConfigAcceptNewIsTOFU(t *testing.T) {
	t.Parallel()
	s, cfg := fixture(t, serverOpts{})
	dir := t.TempDir()
	kh := filepath.Join(dir, "kh")
	conf := filepath.Join(dir, "config")
	os.WriteFile(conf, []byte("Host lab\n  HostName 127.0.0.1\n  UserKnownHostsFile "+kh+"\n  StrictHostKeyChecking accept-new\n"), 0o600)
	cfg.Host, cfg.SSHConfigFile, cfg.KnownHostsFiles = "lab", conf, nil
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	c.Close()
	if b, _ := os.ReadFile(kh); !strings.Contains(string(b), strconv.Itoa(s.port)) {
		t.Errorf("accept-new did not record the key in UserKnownHostsFile: %q", b)
	}
}
