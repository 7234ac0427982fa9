package compile

import (
	"fmt"
	"net/netip"

	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/policy"
)

// The lock-out guard proves, from the compiled policy alone, that fwpush
// keeps its management sessions. A host's input filter must admit them to
// the host. A network ACL must admit those it is on the way of (see
// intent.Intent.OnPath): bound out, the sessions to the managed hosts it
// protects; bound in, the sessions coming from behind its interface, to
// the device itself and to every managed host beyond. An ACL off a
// session's way cannot cut it and is not asked. Sessions to the device
// itself are asked of every ACL, with or without a management rule: an in
// ACL that protects the controller's network and has no flow for it cuts
// the controller off the router.

// outside stands for an address outside every protected set, for a
// management rule that admits sessions to any host beyond an interface:
// documentation ranges, never sent to.
var outside = map[bool]netip.Addr{true: netip.MustParseAddr("203.0.113.10"), false: netip.MustParseAddr("3fff::10")}

// blocked is a management session a filter would cut.
type blocked struct {
	filter string
	rule   string // "rule X" or "the default deny"
	dst    netip.Addr
	port   uint16
}

// guard returns the first management session from src that the policy
// would cut, or nil.
func guard(in *intent.Intent, src netip.Addr) *blocked {
	for _, f := range in.Filters {
		for _, t := range targets(in, f, src.Is4()) {
			if f.Binding.Kind == intent.Interface && !in.OnPath(f, src, t.dst) {
				continue
			}
			v := in.Eval(f, intent.Packet{Src: src, Dst: t.dst, Proto: policy.TCP, Port: t.port})
			if v.Permit {
				continue
			}
			b := &blocked{filter: f.Name, rule: "the default deny", dst: t.dst, port: t.port}
			if v.Rule != nil {
				b.rule = "rule " + v.Rule.ID
			}
			return b
		}
	}
	return nil
}

type target struct {
	dst  netip.Addr
	port uint16
}

// targets are the management sessions a filter must admit, of one
// family: a host input filter's to the host itself; a network ACL's to
// the device itself and those its management rules exist for.
func targets(in *intent.Intent, f *intent.Filter, v4 bool) []target {
	var out []target
	switch f.Binding.Kind {
	case intent.Input:
		out = self(in, v4)
	case intent.Interface:
		out = self(in, v4)
		for _, r := range f.Rules {
			if r.Kind != intent.Management {
				continue
			}
			dsts := []netip.Addr{outside[v4]}
			if r.Dst != "" {
				dsts = nil
				if s := in.Set(r.Dst); s != nil {
					for _, p := range s.Prefixes {
						dsts = append(dsts, p.Addr())
					}
				}
			}
			for _, d := range dsts {
				if d.Is4() != v4 {
					continue
				}
				for _, pr := range r.Ports {
					out = append(out, target{d, pr.Lo})
				}
			}
		}
	}
	return out
}

// self are the sessions to the device's own addresses of one family.
func self(in *intent.Intent, v4 bool) []target {
	var out []target
	for _, a := range in.Addresses {
		if a.Is4() == v4 {
			out = append(out, target{a, in.MgmtPort})
		}
	}
	return out
}

// CheckManagement proves that the device keeps fwpush's management access:
// from every management network, every filter on a management session's
// way admits it (see guard). It names the rule that would block otherwise.
func CheckManagement(in *intent.Intent, mgmt []netip.Prefix) error {
	for _, m := range mgmt {
		if b := guard(in, m.Addr()); b != nil {
			return fmt.Errorf("lock-out guard: %s in filter %s would block management access from %s to %s tcp/%d",
				b.rule, b.filter, m, b.dst, b.port)
		}
	}
	return nil
}

// CheckOrigin proves that the device, under the policy in, still admits
// fwpush's management connection from origin: the address the device saw
// the connection come from when it was read. CheckManagement proves the
// management networks keep access; this proves the controller is in them.
// Every filter on the way of one of its sessions (see guard) must permit
// it, or the error names the filter and the rule that would cut it.
func CheckOrigin(in *intent.Intent, origin netip.Addr) error {
	origin = origin.Unmap()
	if b := guard(in, origin); b != nil {
		return fmt.Errorf("lock-out guard: this controller reaches the device from %s, which is not in the management networks: %s of filter %s would cut its tcp/%d connection to %s (add %s to management in networks.yaml)",
			origin, b.rule, b.filter, b.port, b.dst, origin)
	}
	return nil
}
