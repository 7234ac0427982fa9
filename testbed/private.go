package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// privateDirs are directories every lab host must have to itself, as real
// machines do: fwpush keeps its staged configs and revert timer under
// /var/lib/fwpush and its confirmed config under /etc/fwpush. Namespaces share the root filesystem, so each host's
// sshd bind-mounts its own copy there, inside the private mount namespace
// `ip netns exec` gives it (mounts do not propagate back to the machine).
// /root is private too: the machine's own ~/.bashrc (which bash sources
// for every command sshd runs) is not a lab host's, and here it costs
// ~400 ms per command.
var privateDirs = []string{"/var/lib/fwpush", "/etc/fwpush", "/root"}

// withPrivateDirs wraps argv so it runs with each private dir bound to a
// per-host directory under hdir. The mount points are created empty in the
// real filesystem if missing; nothing is ever written there.
func withPrivateDirs(hdir string, argv []string) ([]string, error) {
	var script strings.Builder
	args := []string{"sh", "-c", ""}
	script.WriteString("set -e; ")
	for i, dir := range privateDirs {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("mount point %s: %w", dir, err)
		}
		own := filepath.Join(hdir, "private", strings.ReplaceAll(strings.Trim(dir, "/"), "/", "-"))
		if err := os.MkdirAll(own, 0o700); err != nil {
			return nil, err
		}
		fmt.Fprintf(&script, "mount --bind \"$%d\" %s; ", i+1, dir)
		args = append(args, own)
	}
	// $0 is unused by sh -c scripts given this way; shift the private dirs off.
	fmt.Fprintf(&script, "shift %d; exec \"$@\"", len(privateDirs))
	args[2] = script.String()
	args = append(args[:3], append([]string{"fwp-lab"}, args[3:]...)...)
	return append(args, argv...), nil
}
