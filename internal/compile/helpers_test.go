package compile

import (
	"fmt"
	"net/netip"

	"github.com/fwpush/fwpush/internal/intent"
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
