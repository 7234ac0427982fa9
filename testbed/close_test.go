package testbed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// leftovers lists what a lab with prefix may leave behind: namespaces,
// /etc/netns directories and live processes among pids.
func leftovers(t *testing.T, prefix string, pids []int) []string {
	t.Helper()
	var out []string
	names, err := listNetns(nsPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		out = append(out, "netns "+n)
	}
	dirs, _ := filepath.Glob(filepath.Join(etcNetns, nsPrefix(prefix)+"*"))
	for _, d := range dirs {
		out = append(out, "dir "+d)
	}
	for _, pid := range pids {
		if alive(pid) {
			out = append(out, fmt.Sprintf("pid %d", pid))
		}
	}
	return out
}

// alive reports whether pid runs (a zombie does not count: it is dead and
// only waits for its parent to reap it).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// labPids returns every process in the lab's namespaces.
func labPids(t *testing.T, l *Lab) []int {
	t.Helper()
	inodes := map[uint64]bool{}
	for _, ns := range l.created {
		ino, err := netnsInode(ns)
		if err != nil {
			t.Fatal(err)
		}
		inodes[ino] = true
	}
	pids, err := pidsIn(inodes)
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

func TestCloseRemovesEverything(t *testing.T) {
	SkipShort(t)
	ctx := testCtx(t)
	prefix := RandomPrefix()
	l, err := Start(ctx, threeHosts(), WithPrefix(prefix), WithController())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	// A stray a lab host leaves running, as a revert timer would.
	if out, err := l.Exec(ctx, "b", "sh", "-c", "setsid sleep 300 </dev/null >/dev/null 2>&1 &"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	pids := labPids(t, l)
	if len(pids) < 7 { // 3 sshd, 3 listeners, the stray
		t.Fatalf("only %d lab processes: %v", len(pids), pids)
	}
	// a, b, c, sw, ctl and /etc/netns for a, b, c: the check below can fail.
	if got := leftovers(t, prefix, nil); len(got) != 8 {
		t.Fatalf("before Close: %v", got)
	}
	dir := l.Dir()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, prefix, pids); len(got) > 0 {
		t.Errorf("left behind: %v", got)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lab dir %s: %v", dir, err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := l.DialContext(ctx, "tcp", "198.18.1.12:22"); err == nil {
		t.Error("dial after Close succeeded")
	}
}

func TestStartFailureCleansUp(t *testing.T) {
	SkipShort(t)
	tests := map[string]struct {
		hosts   []HostSpec
		opts    []Option
		wantErr string
	}{
		"bad host spec": {
			hosts:   append(threeHosts(), HostSpec{Name: "d", Addrs: pfx("10.1.2.3/8")}),
			wantErr: "outside the lab",
		},
		"sshd refuses its config": {
			hosts:   threeHosts(),
			opts:    []Option{WithSSHDConfig("NoSuchKeyword yes")},
			wantErr: "sshd exited",
		},
		"listener fails": {
			hosts:   threeHosts(),
			opts:    []Option{WithListener("/bin/false")},
			wantErr: "listener not ready",
		},
		"one host fails after its sshd is up": {
			hosts:   threeHosts(),
			opts:    []Option{withFailHost("c"), WithParallel(1)},
			wantErr: "c: failing on purpose",
		},
		"controller and root link": {
			hosts:   threeHosts(),
			opts:    []Option{WithRootLink("")},
			wantErr: "pick one",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			prefix := RandomPrefix()
			dir := filepath.Join(t.TempDir(), "lab")
			opts := append([]Option{WithPrefix(prefix), WithController(), WithDir(dir)}, tc.opts...)
			l, err := Start(ctx, tc.hosts, opts...)
			if err == nil {
				l.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
			if got := leftovers(t, prefix, nil); len(got) > 0 {
				Sweep(ctx, prefix)
				t.Errorf("left behind: %v", got)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("lab dir %s: %v", dir, err)
			}
		})
	}
}

// TestSweep plays a crashed test: the lab is never closed by its owner, and
// Sweep(prefix), as run by the next test or `fwp-lab down`, removes it.
func TestSweep(t *testing.T) {
	SkipShort(t)
	ctx := testCtx(t)
	prefix := RandomPrefix()
	l, err := Start(ctx, threeHosts(), WithPrefix(prefix), WithController())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	other := StartT(t, threeHosts()[:1]) // another lab, which Sweep must spare
	pids := labPids(t, l)
	if err := Sweep(ctx, prefix); err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, prefix, pids); len(got) > 0 {
		t.Errorf("left behind: %v", got)
	}
	if err := other.ProbeTCP(context.Background(), "a", netip.MustParseAddrPort("198.18.1.11:80")); err != nil {
		t.Errorf("Sweep(%q) hurt another lab: %v", prefix, err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close after Sweep: %v", err)
	}
}

// TestDialContextConcurrent dials hundreds of times at once from the
// controller and checks every thread of this process is back in its own
// namespace afterwards.
func TestDialContextConcurrent(t *testing.T) {
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	l := StartT(t, threeHosts())
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	for i := range 300 {
		wg.Go(func() {
			h := l.Hosts()[i%3]
			a := h.Addrs[rand.IntN(len(h.Addrs))].Addr()
			errs <- l.ProbeTCP(context.Background(), Controller, netip.AddrPortFrom(a, 80))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	tasks, err := filepath.Glob("/proc/self/task/*/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if ns, err := os.Readlink(task); err == nil && ns != own {
			t.Errorf("%s is in %s, want %s", task, ns, own)
		}
	}
}

// TestStartMany starts a larger lab (FWP_LAB_HOSTS hosts, default 30) and
// checks every host answers; with FWP_LAB_HOSTS=100 it is the timing
// benchmark the README quotes.
func TestStartMany(t *testing.T) {
	SkipShort(t)
	n := 30
	if s := os.Getenv("FWP_LAB_HOSTS"); s != "" {
		fmt.Sscan(s, &n)
	}
	var hosts []HostSpec
	for i := range n {
		hosts = append(hosts, HostSpec{
			Name:  fmt.Sprintf("h%03d", i),
			Addrs: pfx(fmt.Sprintf("198.18.%d.%d/15", 2+i/200, 10+i%200), fmt.Sprintf("2001:db8:2::%x/32", 0x10+i)),
			TCP:   []uint16{80},
		})
	}
	ctx := testCtx(t)
	prefix := RandomPrefix()
	start := time.Now()
	l, err := Start(ctx, hosts, WithPrefix(prefix), WithController())
	if err != nil {
		t.Fatal(err)
	}
	up := time.Since(start)
	t.Cleanup(func() { l.Close() })
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Go(func() {
			if err := l.ProbeTCP(context.Background(), Controller, netip.AddrPortFrom(h.Addrs[1].Addr(), 80)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	pids := labPids(t, l)
	start = time.Now()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d hosts: up %s, down %s", n, up.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if got := leftovers(t, prefix, pids); len(got) > 0 {
		t.Errorf("left behind: %v", got)
	}
}

// alive must not mistake a dead pid for a live one.
func TestAlive(t *testing.T) {
	if !alive(os.Getpid()) {
		t.Error("this process is not alive?")
	}
	if alive(1 << 30) {
		t.Error("pid 2^30 alive?")
	}
}
