package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// netnsRun is where `ip netns add` pins named namespaces.
const netnsRun = "/run/netns"

// etcNetns is where `ip netns exec` finds per-namespace files to bind-mount
// over /etc.
const etcNetns = "/etc/netns"

// nsPrefix returns the start of every namespace name of a lab with prefix.
func nsPrefix(prefix string) string {
	if prefix == "" {
		return "fwp-"
	}
	return "fwp-" + prefix + "-"
}

// openNetns returns a file descriptor for the named namespace.
func openNetns(name string) (int, error) {
	fd, err := unix.Open(filepath.Join(netnsRun, name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open netns %s: %w", name, err)
	}
	return fd, nil
}

// inNetns runs fn on an OS thread switched into the network namespace nsFd,
// then switches the thread back. Sockets fn creates stay in nsFd's namespace
// for life, so fn may dial and return the connection. fn runs on a fresh
// goroutine so that, if switching back fails, that goroutine can exit with
// the thread still locked: the Go runtime then destroys the thread instead
// of reusing it in the wrong namespace.
func inNetns(nsFd int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(nsFd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("setns back: %w", err))
			return // thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// writeSysctls sets net sysctls (path under /proc/sys, value) inside the
// namespace nsFd. /proc/sys/net resolves against the opening thread's
// namespace, which is why this needs no `ip netns exec`. Missing keys in
// optional are ignored (e.g. bridge-nf knobs without br_netfilter).
func writeSysctls(nsFd int, kv [][2]string, optional map[string]bool) error {
	return inNetns(nsFd, func() error {
		for _, p := range kv {
			err := os.WriteFile(filepath.Join("/proc/sys", p[0]), []byte(p[1]), 0)
			if err != nil && !(optional[p[0]] && errors.Is(err, os.ErrNotExist)) {
				return fmt.Errorf("sysctl %s=%s: %w", p[0], p[1], err)
			}
		}
		return nil
	})
}

// netnsInode returns the nsfs inode identifying the named namespace.
func netnsInode(name string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(netnsRun, name), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// pidsIn returns the processes whose network namespace is one of inodes,
// never this process or pid 1. It scans /proc once, so it is cheap for a
// hundred namespaces.
func pidsIn(inodes map[uint64]bool) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || pid == 1 {
			continue
		}
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			continue // exited, or a zombie
		}
		// The link reads "net:[INODE]".
		ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "net:["), "]"), 10, 64)
		if err == nil && inodes[ino] {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// runIP runs ip(8) with args, feeding stdin when non-empty (for -batch -).
func runIP(ctx context.Context, stdin string, args ...string) error {
	return runIPIn(ctx, -1, stdin, args...)
}

// runIPIn runs ip(8) inside the namespace nsFd (-1: the caller's own). It
// forks from a thread switched into the namespace rather than using
// `ip -n`, which would also create a mount namespace and remount /sys for
// every call: with a hundred hosts that kernel work, not ip, dominated
// Start.
func runIPIn(ctx context.Context, nsFd int, stdin string, args ...string) error {
	cmd := exec.CommandContext(ctx, "ip", args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := startIn(nsFd, cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// startIn starts cmd in the namespace nsFd (-1: the caller's own). A child
// inherits the network namespace of the thread that forks it.
func startIn(nsFd int, cmd *exec.Cmd) error {
	if nsFd < 0 {
		return cmd.Start()
	}
	return inNetns(nsFd, cmd.Start)
}

// ipBatch runs ip commands (one per line) inside namespace nsFd (-1 for
// the caller's own) in a single process.
func ipBatch(ctx context.Context, nsFd int, lines ...string) error {
	return runIPIn(ctx, nsFd, strings.Join(lines, "\n")+"\n", "-batch", "-")
}

// listNetns returns the named namespaces starting with prefix.
func listNetns(prefix string) ([]string, error) {
	ents, err := os.ReadDir(netnsRun)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
