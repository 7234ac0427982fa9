package ssh

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testSSHConfig = `
# Specific hosts first: ssh_config takes the first value found.
Host core-r1
    HostName 198.18.0.1
    Port 2222
    User netops
    IdentityFile %d/keys/core_%r

Host edge-* !edge-legacy
    HostName %h.lab.example
    User edge
    ProxyJump bastion

Host bastion
    HostName 198.18.0.254
    User jump
    Port 2200

Host *
    IdentityFile ~/.ssh/id_default
    ConnectTimeout 7
`

func TestResolve(t *testing.T) {
	t.Parallel()
	home, _ := os.UserHomeDir()
	conf := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(conf, []byte(testSSHConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	ep := func(alias, host string, port int, user string, keys ...identityFile) endpoint {
		return endpoint{alias: alias, host: host, port: port, user: user, keys: keys}
	}
	dflt := identityFile{path: home + "/.ssh/id_default"}
	tests := map[string]struct {
		cfg       Config
		target    endpoint
		jumps     []endpoint
		tofu      bool
		timeout   time.Duration
		knownHost string
	}{
		"alias": {
			cfg:    Config{Host: "core-r1"},
			target: ep("core-r1", "198.18.0.1", 2222, "netops", identityFile{path: home + "/keys/core_netops"}, dflt),
		},
		"caller's fields win over the file": {
			cfg: Config{Host: "core-r1", Port: 22, User: "admin", IdentityFiles: []string{"~/k"}, ConnectTimeout: time.Second},
			target: ep("core-r1", "198.18.0.1", 22, "admin",
				identityFile{path: home + "/k", explicit: true}, identityFile{path: home + "/keys/core_admin"}, dflt),
			timeout: time.Second,
		},
		"pattern with jump host resolved through its own alias": {
			cfg:    Config{Host: "edge-7"},
			target: ep("edge-7", "edge-7.lab.example", 22, "edge", dflt),
			jumps:  []endpoint{ep("bastion", "198.18.0.254", 2200, "jump", dflt)},
		},
		"negated pattern": {
			cfg:    Config{Host: "edge-legacy", User: "u"},
			target: ep("edge-legacy", "edge-legacy", 22, "u", dflt),
		},
		"explicit ProxyJump chain": {
			cfg:    Config{Host: "198.18.1.1", User: "u", ProxyJump: "a@bastion:2201,ssh://[2001:db8::1]:2022"},
			target: ep("198.18.1.1", "198.18.1.1", 22, "u", dflt),
			jumps:  []endpoint{ep("bastion", "198.18.0.254", 2201, "a", dflt), ep("2001:db8::1", "2001:db8::1", 2022, localUser(), dflt)},
		},
		"ProxyJump none overrides the file": {
			cfg:    Config{Host: "edge-1", ProxyJump: "none"},
			target: ep("edge-1", "edge-1.lab.example", 22, "edge", dflt),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tc.cfg.SSHConfigFile = conf
			p, err := resolve(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			opts := cmp.AllowUnexported(endpoint{}, identityFile{})
			if diff := cmp.Diff(tc.target, p.target, opts); diff != "" {
				t.Errorf("target (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.jumps, p.jumps, opts); diff != "" {
				t.Errorf("jumps (-want +got):\n%s", diff)
			}
			want := tc.timeout
			if want == 0 {
				want = 7 * time.Second
			}
			if p.connectTimeout != want {
				t.Errorf("connectTimeout = %v, want %v", p.connectTimeout, want)
			}
			if p.tofu {
				t.Error("tofu turned on without being asked")
			}
			if len(p.knownHosts) == 0 || p.knownHosts[0] != filepath.Join(home, ".ssh", "known_hosts") {
				t.Errorf("knownHosts = %v, want ~/.ssh/known_hosts first", p.knownHosts)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"empty host":         {cfg: Config{SSHConfigFile: "none"}, want: "Host is empty"},
		"missing named file": {cfg: Config{Host: "h", SSHConfigFile: filepath.Join(dir, "absent")}, want: "no such file"},
		// The parser does not understand Match: refuse, never guess.
		"Match block":       {cfg: Config{Host: "h", SSHConfigFile: write("match", "Match host h\n  User x\n")}, want: "Match"},
		"bad port in file":  {cfg: Config{Host: "h", SSHConfigFile: write("port", "Host h\n  Port http\n")}, want: "bad Port"},
		"bad jump":          {cfg: Config{Host: "h", SSHConfigFile: "none", ProxyJump: "a@b:0"}, want: "bad port"},
		"empty jump hop":    {cfg: Config{Host: "h", SSHConfigFile: "none", ProxyJump: "a,,b"}, want: "empty hop"},
		"negative retries":  {cfg: Config{Host: "h", ConnectRetries: -1}, want: "ConnectRetries"},
		"port out of range": {cfg: Config{Host: "h", Port: 70000}, want: "Port"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := resolve(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("resolve error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestSSHConfigAliasDial logs in through an alias that supplies HostName,
// Port, User and IdentityFile.
func TestSSHConfigAliasDial(t *testing.T) {
	t.Parallel()
	s, cfg := fixture(t, serverOpts{})
	conf := filepath.Join(t.TempDir(), "config")
	body := "Host lab-*\n  HostName 127.0.0.1\n  Port " + strconv.Itoa(s.port) +
		"\n  User alice\n  IdentityFile " + cfg.IdentityFiles[0] + "\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Dial(context.Background(), Config{
		Host: "lab-r1", SSHConfigFile: conf, KnownHostsFiles: cfg.KnownHostsFiles, ConnectTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("Dial lab-r1: %v", err)
	}
	defer c.Close()
	if users, _, _, _ := s.snapshot(); len(users) != 1 || users[0] != "alice" {
		t.Errorf("server authenticated %v, want [alice]", users)
	}
	if got, want := c.Name(), "lab-r1 ("+s.addr+")"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}
