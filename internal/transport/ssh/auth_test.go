package ssh

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/fwpush/fwpush/internal/fault"
)

func TestAuthMethods(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts     serverOpts
		edit     func(t *testing.T, cfg *Config)
		wantErr  error  // nil: Dial must succeed
		errText  string // must appear in the error
		wantUser string
	}{
		"identity file": {wantUser: "root"},
		"password": {
			opts:     serverOpts{password: "s3cret"},
			edit:     func(t *testing.T, cfg *Config) { cfg.IdentityFiles, cfg.Password, cfg.User = nil, "s3cret", "ops" },
			wantUser: "ops",
		},
		"keyboard-interactive answers with the password": {
			opts:     serverOpts{password: "s3cret", keyboardOnly: true},
			edit:     func(t *testing.T, cfg *Config) { cfg.IdentityFiles, cfg.Password = nil, "s3cret" },
			wantUser: "root",
		},
		"wrong password": {
			opts:    serverOpts{password: "s3cret"},
			edit:    func(t *testing.T, cfg *Config) { cfg.IdentityFiles, cfg.Password = nil, "nope" },
			wantErr: fault.ErrAuth,
		},
		"key not authorized": {
			edit: func(t *testing.T, cfg *Config) {
				p, _ := writeKey(t, t.TempDir(), "other")
				cfg.IdentityFiles = []string{p}
			},
			wantErr: fault.ErrAuth,
		},
		"encrypted key without agent": {
			edit: func(t *testing.T, cfg *Config) {
				_, block := encryptedKey()
				cfg.IdentityFiles = []string{writePEM(t, filepath.Join(t.TempDir(), "enc"), block)}
			},
			wantErr: fault.ErrAuth, errText: "ssh-add",
		},
		"missing identity file named by the caller": {
			edit:    func(t *testing.T, cfg *Config) { cfg.IdentityFiles = []string{filepath.Join(t.TempDir(), "nope")} },
			errText: "no such file",
		},
		"no credentials at all": {
			edit:    func(t *testing.T, cfg *Config) { cfg.IdentityFiles = nil },
			wantErr: fault.ErrAuth, errText: "no credentials",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, cfg := fixture(t, tc.opts)
			if tc.edit != nil {
				tc.edit(t, &cfg)
			}
			c, err := Dial(context.Background(), cfg)
			if tc.wantErr == nil && tc.errText == "" {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				if users, _, _, _ := s.snapshot(); len(users) != 1 || users[0] != tc.wantUser {
					t.Errorf("server authenticated %v, want [%s]", users, tc.wantUser)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded, want an error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Dial error = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("Dial error %q does not mention %q", err, tc.errText)
			}
			if errors.Is(err, fault.ErrUnreachable) || errors.Is(err, fault.ErrTimeout) {
				t.Errorf("auth failure misclassified: %v", err)
			}
		})
	}
}

// startAgent serves an in-memory ssh-agent holding key on a unix socket.
func startAgent(t *testing.T, key any) string {
	t.Helper()
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return sock
}

// Not parallel: it sets SSH_AUTH_SOCK.
func TestAgentAuth(t *testing.T) {
	priv, block := encryptedKey()
	pub := mustPublicKey(t, priv)
	s, cfg := fixture(t, serverOpts{authorized: []ssh.PublicKey{pub}})
	t.Setenv("SSH_AUTH_SOCK", startAgent(t, priv))

	cfg.IdentityFiles, cfg.UseAgent = nil, true
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial with agent: %v", err)
	}
	c.Close()
	if users, _, _, _ := s.snapshot(); len(users) != 1 {
		t.Errorf("server authenticated %v, want one login", users)
	}

	// An encrypted key file is fine when the agent holds that key.
	cfg.IdentityFiles = []string{writePEM(t, filepath.Join(t.TempDir(), "enc"), block)}
	if c, err = Dial(context.Background(), cfg); err != nil {
		t.Fatalf("Dial with agent and encrypted key file: %v", err)
	}
	c.Close()

	// Without UseAgent the agent is not consulted, even though it is there.
	cfg.UseAgent, cfg.IdentityFiles, cfg.Password = false, nil, "x"
	if _, err := Dial(context.Background(), cfg); !errors.Is(err, fault.ErrAuth) {
		t.Errorf("Dial without UseAgent = %v, want ErrAuth", err)
	}
}
