package linuxnftables_test

import (
	"testing"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/drivers/driverstest"
	"github.com/fwpush/fwpush/drivers/linuxnftables"
	"github.com/fwpush/fwpush/internal/intent"
)

// TestConformance runs the suite every driver passes, against a lab host
// with a real sshd and the kernel's nftables; the foreign table is one a
// host's own tooling might have.
func TestConformance(t *testing.T) {
	driverstest.Conformance(t, driverstest.Suite{
		Platform: linuxnftables.Platform(),
		Registry: all.Registry(),
		Root:     "../..",
		Extra:    map[string]*intent.Intent{"edge": linuxnftables.EdgeIntent()},
		Load:     linuxnftables.LabLoader(t),
		Device: driverstest.LinuxTarget("../..", "nft-1",
			[][]string{{"nft", "add table inet foreign { chain c { tcp dport 9999 drop; }; }"}},
			[]string{"nft", "list", "table", "inet", "foreign"}),
	})
}
