package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// StartT starts a lab for a test and closes it in t.Cleanup (skipping the
// test under -short, see SkipShort). It gives the
// lab a random prefix (so parallel test binaries never collide) and a
// controller; opts may override the prefix. If the lab cannot start, the
// test fails under CI (CI set) or as root, and is skipped otherwise (a
// developer without root). When the test has failed, Cleanup logs the tail
// of every sshd and listener log before removing them.
func StartT(t testing.TB, hosts []HostSpec, opts ...Option) *Lab {
	t.Helper()
	SkipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts = append([]Option{WithPrefix(RandomPrefix()), WithController()}, opts...)
	l, err := Start(ctx, hosts, opts...)
	if err != nil {
		if os.Getenv("CI") != "" || os.Geteuid() == 0 {
			t.Fatalf("lab: %v", err)
		}
		t.Skipf("lab unavailable (not root, CI unset): %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			l.logTails(t)
		}
		if err := l.Close(); err != nil {
			t.Errorf("lab: %v", err)
		}
	})
	return l
}

// RandomPrefix returns a fresh prefix for WithPrefix: "t" and 8 hex digits.
func RandomPrefix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

func (l *Lab) logTails(t testing.TB) {
	t.Helper()
	names := make([]string, 0, len(l.hosts)+len(l.routers))
	for _, h := range l.hosts {
		names = append(names, h.Name)
	}
	for _, r := range l.routers {
		names = append(names, r.Name)
	}
	for _, n := range names {
		for _, f := range []string{"sshd.log", "listen.log"} {
			path := filepath.Join(l.dir, "hosts", n, f)
			if _, err := os.Stat(path); err == nil {
				t.Logf("lab %s %s:\n%s", n, f, tail(path))
			}
		}
	}
}

// SkipShort skips a lab test under `go test -short` (`make test-short`:
// unit tests only). CI runs the full suite, where lab tests never skip.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("lab test (-short)")
	}
}

// NamespaceT creates a bare throwaway network namespace for a test (no
// hosts, no sshd: for loading rulesets into a real kernel) and removes it
// in t.Cleanup. Like StartT it skips under -short, fails under CI or as
// root when it cannot create one, and skips for a developer without root.
func NamespaceT(t testing.TB) string {
	t.Helper()
	SkipShort(t)
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "" {
			t.Skip("lab: needs root to create a network namespace (CI runs this as root)")
		}
		t.Fatal("lab: CI is set but the tests do not run as root")
	}
	ns := nsPrefix(RandomPrefix()) + "ns"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := runIP(ctx, "", "netns", "add", ns); err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := runIP(ctx, "", "netns", "del", ns); err != nil {
			t.Errorf("lab: %v", err)
		}
	})
	return ns
}
