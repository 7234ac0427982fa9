package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Close kills every process in the lab's namespaces (its daemons and
// anything they spawned, such as SSH sessions), closes the listeners Listen
// opened, deletes the namespaces it created (hosts, routers, switch,
// controller; their veths, the root link included, go with them), removes
// /etc/netns/<ns> and the lab dir. It is idempotent and works after a
// partial Start. Connections from DialFrom keep their namespace alive until
// the caller closes them, but its interfaces are gone.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	for _, fd := range l.fds {
		unix.Close(fd)
	}
	l.fds = nil
	for _, ln := range l.listeners {
		ln.Close() // already closed by its owner is fine
	}
	l.listeners = nil
	procs := l.procs
	td := teardown{namespaces: l.created, etcDirs: l.etcDirs}
	if l.rootPeer != "" {
		td.links = [][2]string{{l.swNS, l.rootPeer}}
	}
	dir, ownDir := l.dir, l.ownDir
	l.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range procs {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
	err := td.run(ctx)
	for _, p := range procs {
		select {
		case <-p.done:
		case <-ctx.Done():
			err = errors.Join(err, fmt.Errorf("%s: %s (pid %d) not reaped", p.host, p.kind, p.cmd.Process.Pid))
		}
	}
	if ownDir && dir != "" {
		if rerr := os.RemoveAll(dir); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		return fmt.Errorf("testbed: close: %w", err)
	}
	return nil
}

// Sweep removes what crashed labs with prefix left behind: it kills every
// process in namespaces named fwp-PREFIX-* (fwp-* for an empty prefix, which
// sweeps every lab, including ones other processes are using), deletes them,
// and removes their /etc/netns directories. It touches nothing else.
func Sweep(ctx context.Context, prefix string) error {
	if prefix != "" && !prefixRE.MatchString(prefix) {
		return fmt.Errorf("testbed: sweep: prefix %q: must match %s", prefix, prefixRE)
	}
	p := nsPrefix(prefix)
	names, err := listNetns(p)
	if err != nil {
		return fmt.Errorf("testbed: sweep: %w", err)
	}
	td := teardown{namespaces: names}
	for _, n := range names {
		if strings.HasSuffix(n, "-"+switchHost) {
			td.links = append(td.links, [2]string{n, rootPeerIf})
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(etcNetns, p+"*"))
	td.etcDirs = dirs
	if err := td.run(ctx); err != nil {
		return fmt.Errorf("testbed: sweep: %w", err)
	}
	return nil
}

// teardown is the removal both Close and Sweep do.
type teardown struct {
	namespaces []string
	links      [][2]string // {namespace, link} deleted before the namespaces
	etcDirs    []string
}

func (t teardown) run(ctx context.Context) error {
	var errs []error
	if err := killIn(ctx, t.namespaces); err != nil {
		errs = append(errs, err)
	}
	// Deleting the root link's switch end removes its root end at once;
	// left to namespace teardown it would linger until the kernel's
	// asynchronous cleanup, and a quick lab-up again would find it.
	for _, nl := range t.links {
		if _, err := os.Stat(filepath.Join(netnsRun, nl[0])); err != nil {
			continue
		}
		if err := runIP(ctx, "", "-n", nl[0], "link", "show", nl[1]); err != nil {
			continue // not there
		}
		if err := runIP(ctx, "", "-n", nl[0], "link", "del", nl[1]); err != nil {
			errs = append(errs, err)
		}
	}
	var lines []string
	for _, ns := range t.namespaces {
		if _, err := os.Stat(filepath.Join(netnsRun, ns)); err == nil {
			lines = append(lines, "netns del "+ns)
		}
	}
	if len(lines) > 0 {
		if err := runIP(ctx, strings.Join(lines, "\n")+"\n", "-force", "-batch", "-"); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range t.etcDirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killIn SIGKILLs every process in the namespaces, repeating (bounded) until
// none is left, since a dying sshd session may still fork.
func killIn(ctx context.Context, namespaces []string) error {
	inodes := map[uint64]bool{}
	for _, ns := range namespaces {
		if ino, err := netnsInode(ns); err == nil {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return nil
	}
	for range 250 {
		pids, err := pidsIn(inodes)
		if err != nil {
			return fmt.Errorf("list lab processes: %w", err)
		}
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab processes still alive: %v: %w", pids, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return errors.New("lab processes keep appearing after 250 kill rounds")
}
