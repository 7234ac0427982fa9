// Package netconflab runs NETCONF devices in the lab: Debian's netconfd
// loaded with Juniper's published Junos YANG or the OpenConfig ACL
// modules (the real schemas validate every request), a labelled front
// that speaks the native Junos XML API to fwpush and the standard dialect
// to netconfd, and an agent that makes the device's namespace enforce
// what netconfd has committed. It is lab code: fwpush never uses it.
package netconflab

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/fwpush/fwpush/testbed"
)

// SharedEnv names the directory holding the published YANG modules the
// lab loads (yang/junos, yang/openconfig-acl). They are not part of the
// repository; CI points this variable at them.
const SharedEnv = "FWPUSH_SHARED_DIR"

// Model is a set of YANG modules netconfd loads.
type Model struct {
	// Dir is the folder under FWPUSH_SHARED_DIR/yang.
	Dir string
	// Files are the modules to load, relative to Dir.
	Files []string
}

// Models the lab serves.
var (
	Junos = Model{Dir: "junos", Files: []string{"junos-conf-root@2024-01-01.yang", "junos-conf-firewall@2024-01-01.yang",
		"junos-conf-interfaces@2024-01-01.yang", "junos-common-types@2024-01-01.yang"}}
	OpenConfig = Model{Dir: "openconfig-acl", Files: []string{"openconfig-acl.yang", "openconfig-defined-sets.yang",
		"iana-if-type.yang"}}
)

// junosPolicyOptions is the lab's stand-in for Junos' prefix lists (see
// the module's description): Juniper's policy-options module is not among
// the published files the lab has.
//
//go:embed fwpush-lab-junos-policy-options.yang
var junosPolicyOptions []byte

// YANGDir returns the model's folder, checking every file is there. When
// FWPUSH_SHARED_DIR is unset or lacks a file the test fails under CI (CI
// set) and is skipped otherwise, naming the file.
func YANGDir(t testing.TB, m Model) string {
	t.Helper()
	root := os.Getenv(SharedEnv)
	missing := ""
	if root == "" {
		missing = fmt.Sprintf("%s is unset: it must name the directory holding yang/%s/%s", SharedEnv, m.Dir, m.Files[0])
	} else {
		for _, f := range m.Files {
			p := filepath.Join(root, "yang", m.Dir, f)
			if _, err := os.Stat(p); err != nil {
				missing = fmt.Sprintf("%s/yang/%s/%s is missing (%s=%s)", SharedEnv, m.Dir, f, SharedEnv, root)
				break
			}
		}
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("netconf lab: %s", missing)
		}
		t.Skipf("netconf lab: %s", missing)
	}
	return filepath.Join(root, "yang", m.Dir)
}

// Start starts netconfd on host (a lab host or a router with SSHD, in a
// lab started WithNetconfSubsystem) with the model, from dir (YANGDir).
// It keeps :validate (with --with-validate=false netconfd 2.13 refuses
// every edit-config: "unknown element test-option"); drivers check with
// test-only, since its <validate> makes the next commit apply nothing
// (internal/transport/netconf/labquirks_test.go).
func Start(ctx context.Context, lab *testbed.Lab, host string, m Model, dir string) (*testbed.Netconfd, error) {
	args := []string{"--modpath=" + dir + ":/usr/share/yuma/modules"}
	for _, f := range m.Files {
		args = append(args, "--module="+filepath.Join(dir, f))
	}
	if m.Dir == Junos.Dir {
		extra := filepath.Join(lab.Dir(), "fwpush-lab-junos-policy-options.yang")
		if err := os.WriteFile(extra, junosPolicyOptions, 0o644); err != nil {
			return nil, fmt.Errorf("%s: netconfd: %w", host, err)
		}
		args = append(args, "--module="+extra)
	}
	return lab.StartNetconfd(ctx, host, args...)
}
