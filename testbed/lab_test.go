package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// threeHosts is the standard small lab: a probes b, c stays untouched.
func threeHosts() []HostSpec {
	var hs []HostSpec
	for i, n := range []string{"a", "b", "c"} {
		hs = append(hs, HostSpec{
			Name:  n,
			Addrs: pfx(fmt.Sprintf("198.18.1.%d/15", 11+i), fmt.Sprintf("2001:db8:1::%d/32", 11+i)),
			TCP:   []uint16{80},
			UDP:   []uint16{53},
		})
	}
	return hs
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Probe deadlines: short where a probe is expected to fail (it waits it
// out), generous where it is expected to pass (CI machines stall).
const (
	failWithin = 2 * time.Second
	passWithin = 10 * time.Second
)

// bashProbe connects from host's namespace with bash's /dev/tcp, bounded by
// timeout(1), and returns what the listener said: a probe by a real process
// in the namespace, independent of DialFrom.
func bashProbe(ctx context.Context, l *Lab, from string, to netip.AddrPort, limit time.Duration) (string, error) {
	// The address and port reach bash as arguments, never as code.
	out, err := l.Exec(ctx, from, "timeout", fmt.Sprint(limit.Seconds()), "bash", "-c",
		`exec 3<>"/dev/tcp/$1/$2" && head -c 200 <&3`, "probe", to.Addr().String(), fmt.Sprint(to.Port()))
	return string(out), err
}

// within returns ctx bounded by d, canceled when the test ends.
func within(ctx context.Context, t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(ctx, d)
	t.Cleanup(cancel)
	return ctx
}

func rootRuleset(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset (root, read-only): %v: %s", err, out)
	}
	return out
}

func TestLabReachability(t *testing.T) {
	ctx := testCtx(t)
	l := StartT(t, threeHosts())
	b := l.Hosts()[1]
	for _, p := range b.Addrs {
		t.Run("tcp bash "+p.Addr().String(), func(t *testing.T) {
			out, err := bashProbe(ctx, l, "a", netip.AddrPortFrom(p.Addr(), 80), passWithin)
			if err != nil || !strings.HasPrefix(out, "fwp-listen b tcp/80") {
				t.Fatalf("probe a→b: %q, %v", out, err)
			}
		})
		t.Run("tcp go "+p.Addr().String(), func(t *testing.T) {
			if err := l.ProbeTCP(within(ctx, t, passWithin), "a", netip.AddrPortFrom(p.Addr(), 80)); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("udp echo "+p.Addr().String(), func(t *testing.T) {
			if err := l.ProbeUDP(within(ctx, t, passWithin), "a", netip.AddrPortFrom(p.Addr(), 53)); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("closed port "+p.Addr().String(), func(t *testing.T) {
			if err := l.ProbeTCP(within(ctx, t, failWithin), "a", netip.AddrPortFrom(p.Addr(), 81)); err == nil {
				t.Fatal("probe to a port nobody listens on succeeded")
			}
		})
	}
}

// sshClient connects over DialContext (from the controller) with the lab's
// client key and a strict host-key check against known_hosts.
func sshClient(ctx context.Context, l *Lab, addr string, hostKeys ssh.HostKeyCallback) (*ssh.Client, error) {
	key, err := os.ReadFile(l.ClientKeyPath())
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		return nil, err
	}
	conn, err := l.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

func run(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

func TestLabSSH(t *testing.T) {
	ctx := testCtx(t)
	l := StartT(t, threeHosts())
	strict, err := knownhosts.New(l.KnownHostsPath())
	if err != nil {
		t.Fatal(err)
	}
	b := l.Hosts()[1]
	for _, p := range b.Addrs {
		addr := netip.AddrPortFrom(p.Addr(), 22).String()
		t.Run("x/crypto "+addr, func(t *testing.T) {
			c, err := sshClient(ctx, l, addr, strict)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			out, err := run(c, "id -u; cat /etc/nftables.conf")
			if err != nil || !strings.HasPrefix(out, "0\n") || !strings.Contains(out, l.Namespace("b")) {
				t.Fatalf("got %q, %v", out, err)
			}
			sc, err := sftp.NewClient(c)
			if err != nil {
				t.Fatalf("sftp subsystem: %v", err)
			}
			defer sc.Close()
			if _, err := sc.Stat("/etc/iptables/rules.v4"); err != nil {
				t.Fatalf("sftp stat: %v", err)
			}
		})
		t.Run("x/crypto wrong key "+addr, func(t *testing.T) {
			// A known_hosts that gives b's addresses a's key must be refused.
			path := filepath.Join(t.TempDir(), "known_hosts")
			os.WriteFile(path, []byte(knownHostsLine("b", b.Addrs, l.HostKey("a"))), 0o600)
			wrong, err := knownhosts.New(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := sshClient(ctx, l, addr, wrong)
			var ke *knownhosts.KeyError
			if !errors.As(err, &ke) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("got %v, want a host key mismatch", err)
			}
		})
		for name, kh := range map[string]string{"openssh": l.KnownHostsPath(), "openssh unknown key": os.DevNull} {
			t.Run(name+" "+p.Addr().String(), func(t *testing.T) {
				out, err := l.Exec(ctx, Controller, "ssh", "-F", "/dev/null", "-i", l.ClientKeyPath(),
					"-o", "UserKnownHostsFile="+kh, "-o", "GlobalKnownHostsFile=/dev/null",
					"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
					"root@"+p.Addr().String(), "true")
				if wantOK := kh != os.DevNull; (err == nil) != wantOK {
					t.Fatalf("ssh succeeded=%v, want %v: %s", err == nil, wantOK, out)
				}
			})
		}
	}
}

// TestLabPerHostEtc checks that /etc/nftables.conf and /etc/iptables seen
// over SSH are the host's own files, and that writing them (in place, and by
// rename inside /etc/iptables) changes neither the machine's /etc nor
// another host's.
func TestLabPerHostEtc(t *testing.T) {
	ctx := testCtx(t)
	rootNft, _ := os.ReadFile("/etc/nftables.conf")
	rootIpt, _ := os.ReadDir("/etc/iptables")
	l := StartT(t, threeHosts())
	aNft, err := os.ReadFile(filepath.Join(etcNetns, l.Namespace("a"), "nftables.conf"))
	if err != nil {
		t.Fatal(err)
	}
	strict, err := knownhosts.New(l.KnownHostsPath())
	if err != nil {
		t.Fatal(err)
	}
	c, err := sshClient(ctx, l, "198.18.1.12:22", strict)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, err := run(c, "echo fwp-test-nft > /etc/nftables.conf && echo fwp-test-v4 > /etc/iptables/rules.v4.tmp && mv /etc/iptables/rules.v4.tmp /etc/iptables/rules.v4")
	if err != nil {
		t.Fatalf("write over ssh: %v: %s", err, out)
	}
	checks := map[string]struct{ path, want string }{
		"b nftables.conf": {filepath.Join(etcNetns, l.Namespace("b"), "nftables.conf"), "fwp-test-nft\n"},
		"b rules.v4":      {filepath.Join(etcNetns, l.Namespace("b"), "iptables", "rules.v4"), "fwp-test-v4\n"},
		"a untouched":     {filepath.Join(etcNetns, l.Namespace("a"), "nftables.conf"), string(aNft)},
		"root untouched":  {"/etc/nftables.conf", string(rootNft)},
	}
	for name, ck := range checks {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(ck.path)
			if err != nil || string(got) != ck.want {
				t.Errorf("%s = %q, %v; want %q", ck.path, got, err, ck.want)
			}
		})
	}
	if got, _ := os.ReadDir("/etc/iptables"); len(got) != len(rootIpt) {
		t.Errorf("root /etc/iptables changed: %v, was %v", got, rootIpt)
	}
	// Exec goes through `ip netns exec` too, so it sees the same file.
	if out, err := l.Exec(ctx, "b", "cat", "/etc/nftables.conf"); err != nil || string(out) != "fwp-test-nft\n" {
		t.Errorf("Exec cat: %q, %v", out, err)
	}
}

// TestLabFirewall loads a firewall inside b's namespace, with nft and with
// iptables, and checks probes to b fail while SSH and other hosts still
// work, and that the root namespace's ruleset never changes.
func TestLabFirewall(t *testing.T) {
	ctx := testCtx(t)
	before := rootRuleset(t)
	l := StartT(t, threeHosts())
	rules := filepath.Join(t.TempDir(), "drop.nft")
	os.WriteFile(rules, []byte(`table inet fwptest {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 80 drop
		udp dport 53 drop
	}
}
`), 0o600)
	tests := map[string]struct{ load, unload [][]string }{
		"nftables": {
			load:   [][]string{{"nft", "-f", rules}},
			unload: [][]string{{"nft", "delete", "table", "inet", "fwptest"}},
		},
		"iptables": {
			load: [][]string{
				{"iptables", "-A", "INPUT", "-p", "tcp", "--dport", "80", "-j", "DROP"},
				{"iptables", "-A", "INPUT", "-p", "udp", "--dport", "53", "-j", "DROP"},
				{"ip6tables", "-A", "INPUT", "-p", "tcp", "--dport", "80", "-j", "DROP"},
				{"ip6tables", "-A", "INPUT", "-p", "udp", "--dport", "53", "-j", "DROP"},
			},
			unload: [][]string{{"iptables", "-F", "INPUT"}, {"ip6tables", "-F", "INPUT"}},
		},
	}
	strict, err := knownhosts.New(l.KnownHostsPath())
	if err != nil {
		t.Fatal(err)
	}
	b, c := l.Hosts()[1], l.Hosts()[2]
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, argv := range tc.load {
				if _, err := l.Exec(ctx, "b", argv...); err != nil {
					t.Fatal(err)
				}
			}
			// Dropped probes each wait out their timeout, so run them at once.
			var wg sync.WaitGroup
			for _, p := range b.Addrs {
				wg.Go(func() {
					if out, err := bashProbe(ctx, l, "a", netip.AddrPortFrom(p.Addr(), 80), failWithin); err == nil {
						t.Errorf("tcp %s passed the drop rule: %q", p.Addr(), out)
					}
				})
				wg.Go(func() {
					if err := l.ProbeUDP(within(ctx, t, failWithin), "a", netip.AddrPortFrom(p.Addr(), 53)); err == nil {
						t.Errorf("udp %s passed the drop rule", p.Addr())
					}
				})
			}
			wg.Wait()
			for _, p := range b.Addrs {
				// Management access is not what the rules drop.
				sc, err := sshClient(ctx, l, netip.AddrPortFrom(p.Addr(), 22).String(), strict)
				if err != nil {
					t.Errorf("ssh to %s behind the firewall: %v", p.Addr(), err)
				} else {
					sc.Close()
				}
			}
			if err := l.ProbeTCP(within(ctx, t, passWithin), "a", netip.AddrPortFrom(c.Addrs[0].Addr(), 80)); err != nil {
				t.Errorf("c is affected by b's firewall: %v", err)
			}
			if out, err := l.Exec(ctx, "c", "nft", "list", "ruleset"); err != nil || strings.Contains(string(out), "dport") {
				t.Errorf("c's ruleset is not empty: %q, %v", out, err)
			}
			for _, argv := range tc.unload {
				if _, err := l.Exec(ctx, "b", argv...); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.ProbeTCP(within(ctx, t, passWithin), "a", netip.AddrPortFrom(b.Addrs[1].Addr(), 80)); err != nil {
				t.Errorf("after unload: %v", err)
			}
		})
	}
	if after := rootRuleset(t); !bytes.Equal(before, after) {
		t.Errorf("root namespace ruleset changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestLabMasks checks lab hosts see an empty directory where the machine
// keeps its systemd and D-Bus sockets, over SSH and through Exec, while the
// machine's own directory keeps its content.
func TestLabMasks(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir() // stands in for /run/systemd, which may not exist here
	if err := os.WriteFile(filepath.Join(dir, "private"), []byte("socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	masks := []string{dir}
	for _, d := range maskedRun {
		if _, err := os.Stat(d); err == nil {
			masks = append(masks, d) // the real ones, where this machine has them
		}
	}
	l := StartT(t, threeHosts()[:1], withMasks(masks...))
	strict, err := knownhosts.New(l.KnownHostsPath())
	if err != nil {
		t.Fatal(err)
	}
	c, err := sshClient(ctx, l, "198.18.1.11:22", strict)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, d := range masks {
		out, err := run(c, "ls -A "+d)
		if err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("over ssh, %s holds %q (%v), want it empty", d, out, err)
		}
		if out, err := l.Exec(ctx, "a", "ls", "-A", d); err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("through Exec, %s holds %q (%v), want it empty", d, out, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "private")); err != nil || string(b) != "socket" {
		t.Errorf("the mask leaked into the root mount namespace: %q, %v", b, err)
	}
}

func TestMaskedScript(t *testing.T) {
	got := masked([]string{"/run/it's"}, []string{"sshd", "-D"})
	want := []string{"/bin/sh", "-c",
		`if [ -d '/run/it'\''s' ]; then mount -t tmpfs -o size=64k,mode=755 fwp-mask '/run/it'\''s' || exit 97; fi; exec "$@"`,
		"fwp-mask", "sshd", "-D"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("masked (-want +got):\n%s", diff)
	}
}
