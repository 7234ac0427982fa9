package linuxiptables_test

import (
	"testing"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/drivers/linuxiptables"
	"github.com/fwpush/fwpush/internal/intent"
)

// TestConformance runs the suite every driver passes, against a lab host
// with a real sshd and the kernel's iptables; the foreign chain is one a
// host's own tooling might have, hooked into INPUT after fwpush's jump.
func TestConformance(t *testing.T) {
	driverstest.Conformance(t, driverstest.Suite{
		Platform: linuxiptables.Platform(),
		Registry: all.Registry(),
		Root:     "../..",
		Extra:    map[string]*intent.Intent{"edge": linuxiptables.EdgeIntent()},
		Load:     linuxiptables.LabLoader(t),
		Device: driverstest.LinuxTarget("../..", "ipt-1",
			[][]string{{"iptables", "-N", "FOREIGN"}, {"iptables", "-A", "FOREIGN", "-p", "tcp", "--dport", "9999", "-j", "DROP"},
				{"iptables", "-A", "INPUT", "-j", "FOREIGN"}},
			[]string{"sh", "-c", "iptables -S FOREIGN; iptables -S INPUT | grep -c FOREIGN"}),
	})
}
