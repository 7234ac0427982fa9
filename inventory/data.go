package inventory

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func validName(s string) bool { return nameRE.MatchString(s) }

// parseData reads the data keys fwpush understands: addresses and acls.
// It returns the host's addresses with where each came from: an IP
// hostname is the default for data.addresses, not an addition to it.
func (h *Host) parseData(doc locator, at func(...any) []any, platform PlatformInfo) ([]hostAddr, []error) {
	var errs []error
	var out []hostAddr
	seen := map[netip.Addr]bool{}
	add := func(a netip.Addr, i int) {
		a = a.Unmap()
		if !seen[a] {
			seen[a] = true
			h.Addresses = append(h.Addresses, a)
			out = append(out, hostAddr{addr: a, at: i})
		}
	}
	switch v := h.Data["addresses"].(type) {
	case nil:
		if a, isAddr, err := checkHostname(h.Hostname); isAddr && err == nil {
			add(a, -1)
		}
	case []any:
		for i, x := range v {
			// An address may carry its prefix length (198.18.1.5/24).
			a, err := parseHostAddr(strings.TrimSpace(fmt.Sprint(x)))
			if err != nil {
				errs = append(errs, doc.Errorf(at("data", "addresses", i), "%v", err))
				continue
			}
			add(a, i)
		}
	default:
		errs = append(errs, doc.Errorf(at("data", "addresses"), "addresses must be a list"))
	}
	sortAddrs(h.Addresses)

	if raw, ok := h.Data["acls"]; ok {
		b, err := yaml.Marshal(raw)
		if err == nil {
			err = yaml.UnmarshalWithOptions(b, &h.ACLs, yaml.DisallowUnknownField())
		}
		if err != nil {
			return out, append(errs, doc.Errorf(at("data", "acls"), "acls: %v", err))
		}
		for i, a := range h.ACLs {
			if a.Interface == "" {
				errs = append(errs, doc.Errorf(at("data", "acls", i), "acl binding needs an interface"))
			}
			if a.Direction != "in" && a.Direction != "out" {
				errs = append(errs, doc.Errorf(at("data", "acls", i, "direction"), "direction must be in or out, not %q", a.Direction))
			}
			if len(a.Protects) == 0 {
				errs = append(errs, doc.Errorf(at("data", "acls", i), "acl binding protects nothing: list roles or networks"))
			}
		}
		if !platform.NetworkACL && len(h.ACLs) > 0 {
			errs = append(errs, doc.Errorf(at("data", "acls"), "acls are for network devices; platform %s filters its own traffic", h.Platform))
		}
	}
	return out, errs
}
