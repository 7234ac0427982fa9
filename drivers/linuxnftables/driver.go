package linuxnftables

import (
	"context"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/intent"
)

// ID is the platform id inventories use.
const ID = "linux-nftables"

// Platform registers the driver: Linux hosts are reached over SSH exec
// channels. "linux" means nftables, the default firewall of current
// distributions.
func Platform() drivers.Platform {
	return drivers.Platform{ID: ID, Aliases: []string{"linux", "nftables"}, Transport: drivers.SSH, Port: 22, Driver: New()}
}

// PartName names the single config part: the whole table, as listed.
const PartName = "nftables"

// Table is the one nft table fwpush owns on a host; nothing outside it is
// ever read or written.
const Table = "inet fwpush"

// Driver renders Intents for Linux hosts filtered with nftables.
type Driver struct{}

// New returns the nftables driver.
func New() *Driver { return &Driver{} }

// Capabilities: nft has native sets, IPv4 and IPv6 in one inet table, and
// logging. It has no native commit-confirm; the session arms a host-side
// revert timer instead.
func (*Driver) Capabilities() drivers.Capabilities {
	return drivers.Capabilities{HostFirewall: true, Egress: true, IPv6: true, Stateful: true,
		AddressSets: true, PortSets: true, Logging: true, ICMPTypes: true, Reject: true,
		CommitConfirm: true, TimerGranularity: time.Second, ProbeSource: true}
}

// Open connects over SSH; the session fetches with `nft list table`,
// applies ApplyScript with `nft -f` (one kernel transaction) after `nft -c`,
// and arms a host-side revert timer first when asked to confirm.
func (*Driver) Open(ctx context.Context, t drivers.Target) (drivers.Session, error) {
	return open(ctx, t)
}

// Render returns the table in canonical form: byte for byte what nft 1.0.6
// lists after loading it, so a fetched table diffs cleanly against it.
func (*Driver) Render(in *intent.Intent) (drivers.Config, error) {
	text, err := render(in)
	if err != nil {
		return drivers.Config{}, err
	}
	return drivers.Config{Platform: ID, Parts: []drivers.Part{{Name: PartName, Text: text}}}, nil
}

// ApplyScript returns the file fed to `nft -f`. Declaring the table before
// deleting it makes the delete succeed when the table is absent, and nft
// runs the whole file as one kernel transaction: the old table is replaced
// by the new one atomically, or nothing changes. An empty config yields a
// script that only removes the table.
func ApplyScript(c drivers.Config) string {
	return "table " + Table + "\ndelete table " + Table + "\n" + c.Part(PartName)
}
