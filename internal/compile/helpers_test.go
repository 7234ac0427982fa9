package compile

import (
	"fmt"
	"net/netip"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/inventory"
)

type (
	netipAddr   = netip.Addr
	netipPrefix = netip.Prefix
)

func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }
func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func describe(r *intent.Rule) string {
	action, src := "permit", r.Src
	if r.Deny {
		action = "deny"
	}
	if src == "" {
		src = "any"
	}
	return fmt.Sprintf("%s %s %s %v %v", action, src, r.Proto, r.Ports, r.Flows)
}

// platforms stands in for the driver registry (which would import this
// package): Linux hosts filter their own traffic, the router filters
// transit traffic.
type platforms struct{}

func (platforms) Capabilities(p string) (drivers.Capabilities, error) {
	switch p {
	case "linux-nftables", "linux-iptables":
		return drivers.Capabilities{HostFirewall: true, Egress: true, IPv6: true, Logging: true, ICMPTypes: true, Reject: true}, nil
	case "cisco-ios", "arista-eos":
		return drivers.Capabilities{NetworkACL: true, IPv6: true, Logging: true, ICMPTypes: true}, nil
	}
	return drivers.Capabilities{}, fmt.Errorf("platform %s: no driver: %w", p, fault.ErrUnsupported)
}

func (platforms) InventoryPlatform(name string) (inventory.PlatformInfo, bool) {
	switch name {
	case "linux", "linux-nftables":
		return inventory.PlatformInfo{ID: "linux-nftables", Port: 22}, true
	case "iptables", "linux-iptables":
		return inventory.PlatformInfo{ID: "linux-iptables", Port: 22}, true
	case "cisco_iosxe", "cisco-ios":
		return inventory.PlatformInfo{ID: "cisco-ios", Port: 22, NetworkACL: true}, true
	case "eos", "arista-eos":
		return inventory.PlatformInfo{ID: "arista-eos", Port: 22, NetworkACL: true}, true
	}
	return inventory.PlatformInfo{}, false
}
