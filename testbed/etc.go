package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// etcFile is one per-host file or directory under /etc/netns/<ns>/, which
// `ip netns exec` bind-mounts over /etc/<name> in the namespace's private
// mount namespace. sshd is started that way, so every SSH session, and so
// every command fwpush runs on a lab host, sees the per-host copy.
type etcFile struct {
	name    string
	dir     bool
	content func(ns string) string // files only
	// placeholder is written to /etc/<name> when that mount point is
	// missing from the real root filesystem (see ensureMountPoints).
	placeholder string
}

const minimalIptables = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"

var etcFiles = []etcFile{
	{
		name: "nftables.conf",
		content: func(ns string) string {
			return "#!/usr/sbin/nft -f\n# fwpush lab: " + ns + "'s own /etc/nftables.conf; no ruleset yet.\n"
		},
		placeholder: "#!/usr/sbin/nft -f\n# Mount point for the fwpush lab's per-namespace nftables.conf; loads nothing.\n",
	},
	{name: "iptables", dir: true},
	{name: "iptables/rules.v4", content: func(string) string { return minimalIptables }},
	{name: "iptables/rules.v6", content: func(string) string { return minimalIptables }},
}

// ensureMountPoints makes sure /etc/<name> exists for every top-level per-host
// entry: `ip netns exec` can only bind onto an existing path and, when it
// cannot, warns and runs the command against the real /etc, which would let
// a lab host write the machine's own firewall files. It only ever creates a
// missing empty directory (/etc/iptables is absent unless
// iptables-persistent is installed) or a comment-only nftables.conf; it
// never changes an existing path.
func ensureMountPoints() error {
	for _, f := range etcFiles {
		if filepath.Dir(f.name) != "." {
			continue
		}
		path := filepath.Join("/etc", f.name)
		st, err := os.Stat(path)
		switch {
		case err == nil && st.IsDir() != f.dir:
			return fmt.Errorf("mount point %s exists with the wrong type", path)
		case err == nil:
			continue
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("mount point %s: %w", path, err)
		case f.dir:
			err = os.Mkdir(path, 0o755)
		default:
			err = os.WriteFile(path, []byte(f.placeholder), 0o644)
		}
		if err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("mount point %s: %w", path, err)
		}
	}
	return nil
}

// writeEtc creates /etc/netns/<ns>/ with the initial per-host files and
// records it for Close. A stale directory of the same name (left by a
// crashed lab; the namespace itself was free) is replaced.
func (l *Lab) writeEtc(ns string) error {
	dir := filepath.Join(etcNetns, ns)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("etc: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("etc: %w", err)
	}
	l.mu.Lock()
	l.etcDirs = append(l.etcDirs, dir)
	l.mu.Unlock()
	for _, f := range etcFiles {
		path := filepath.Join(dir, f.name)
		var err error
		if f.dir {
			err = os.Mkdir(path, 0o755)
		} else {
			err = os.WriteFile(path, []byte(f.content(ns)), 0o644)
		}
		if err != nil {
			return fmt.Errorf("etc: %w", err)
		}
	}
	return nil
}

// verifyEtc checks, through /proc/PID/root (which resolves paths in that
// process's mount namespace), that process pid sees the per-host files at
// /etc and not the machine's own.
func verifyEtc(pid int, ns string) error {
	for _, f := range etcFiles {
		if filepath.Dir(f.name) != "." {
			continue
		}
		want, err := os.Stat(filepath.Join(etcNetns, ns, f.name))
		if err != nil {
			return fmt.Errorf("etc: %w", err)
		}
		got, err := os.Stat(fmt.Sprintf("/proc/%d/root/etc/%s", pid, f.name))
		if err != nil {
			return fmt.Errorf("etc: %w", err)
		}
		if !os.SameFile(want, got) {
			return fmt.Errorf("etc: /etc/%s inside %s is not the per-host copy (bind mount failed?)", f.name, ns)
		}
	}
	return nil
}

// maskedRun are runtime directories hidden under an empty tmpfs from lab
// hosts (sshd and so every SSH session, and Exec). Through them a command
// would reach the machine's own systemd or D-Bus, which run what they are
// asked to in the root network namespace: a revert timer made with
// `systemd-run … nft -f` would rewrite the machine's firewall. Masked, such
// a command fails instead.
var maskedRun = []string{"/run/systemd", "/run/dbus"}

// masked wraps argv (run by `ip netns exec`, so in a private mount
// namespace whose mounts never reach the root one) to mount the masks
// first. It fails closed: if a mask cannot be mounted, argv never runs.
func masked(dirs []string, argv []string) []string {
	var b strings.Builder
	for _, d := range dirs {
		q := "'" + strings.ReplaceAll(d, "'", `'\''`) + "'"
		fmt.Fprintf(&b, "if [ -d %s ]; then mount -t tmpfs -o size=64k,mode=755 fwp-mask %s || exit 97; fi; ", q, q)
	}
	b.WriteString(`exec "$@"`)
	return append([]string{"/bin/sh", "-c", b.String(), "fwp-mask"}, argv...)
}

// verifyMasked checks that process pid sees an empty mask, not the real
// directory, at each of dirs that exists.
func verifyMasked(pid int, dirs []string) error {
	for _, d := range dirs {
		real, err := os.Stat(d)
		if err != nil {
			continue // nothing to hide
		}
		seen, err := os.Stat(fmt.Sprintf("/proc/%d/root%s", pid, d))
		if err != nil {
			return fmt.Errorf("mask %s: %w", d, err)
		}
		if os.SameFile(real, seen) {
			return fmt.Errorf("mask %s: the lab host sees the machine's own directory", d)
		}
	}
	return nil
}
