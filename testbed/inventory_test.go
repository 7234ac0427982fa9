package testbed

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHostsFromInventory(t *testing.T) {
	hosts, skipped, err := HostsFromInventory("testdata/inventory")
	if err != nil {
		t.Fatal(err)
	}
	want := []HostSpec{
		{Name: "db-1", Addrs: pfx("2001:db8:5::21/32", "198.18.5.21/15")},
		{Name: "web-1", Addrs: pfx("198.18.5.11/15", "2001:db8:5::11/32")},
		{Name: "web-2", Addrs: pfx("198.18.5.12/15")},
	}
	if diff := cmp.Diff(want, hosts, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("hosts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"edge-rtr-1 (cisco-ios)"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

func TestHostsFromInventoryErrors(t *testing.T) {
	tests := map[string]struct {
		hosts   string
		wantErr string
	}{
		"outside lab":  {hosts: "a:\n  hostname: 10.0.0.1\n", wantErr: "outside the lab"},
		"dns hostname": {hosts: "a:\n  hostname: a.example.com\n", wantErr: `address "a.example.com"`},
		"bad address":  {hosts: "a:\n  data:\n    addresses: [nope]\n", wantErr: `address "nope"`},
		"bad yaml":     {hosts: "a: [\n", wantErr: "hosts.yaml"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "hosts.yaml"), []byte(tc.hosts), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := HostsFromInventory(dir)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if _, _, err := HostsFromInventory(t.TempDir()); err == nil {
		t.Error("no hosts.yaml: no error")
	}
}

func TestHostsFromExampleInventories(t *testing.T) {
	dirs, _ := filepath.Glob("../inventory/examples/*")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			hosts, _, err := HostsFromInventory(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := validateHosts(hosts); err != nil {
				t.Errorf("example inventory cannot start as a lab: %v", err)
			}
		})
	}
}
