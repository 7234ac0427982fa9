package policy

import (
	"fmt"
	"net/netip"
	"strings"
)

// Management is the reserved endpoint for the inventory's management
// networks (networks.yaml `management:`), where fwpush connects from.
const Management = "management"

// HostPrefix starts an endpoint naming one inventory host: "host:sprout-1".
const HostPrefix = "host:"

// EndpointKind says what an endpoint in a flow's from or to names.
type EndpointKind int

// Endpoint kinds. A Name is a role or an inventory network: which one
// only the inventory can say.
const (
	EndpointName EndpointKind = iota
	EndpointAny
	EndpointManagement
	EndpointHost
	EndpointPrefix
)

// Endpoint is one entry of a flow's from or to, as written.
type Endpoint struct {
	Kind EndpointKind
	// Name is the role, network or host name.
	Name string
	// Prefix is a literal prefix; a single address is a /32 or /128.
	Prefix netip.Prefix
}

// ParseEndpoint reads one from/to entry: any, management, host:NAME, an
// address or prefix (198.18.5.0/24, 2001:db8::/48, 198.18.5.7), or a
// role or network name. A prefix with bits set past its length is
// refused rather than masked: 198.18.5.7/24 is either a typo for the
// network or for the host, and fwpush cannot tell which.
func ParseEndpoint(s string) (Endpoint, error) {
	switch {
	case s == Any:
		return Endpoint{Kind: EndpointAny, Name: s}, nil
	case s == Management:
		return Endpoint{Kind: EndpointManagement, Name: s}, nil
	case strings.HasPrefix(s, HostPrefix):
		name := strings.TrimPrefix(s, HostPrefix)
		if name == "" {
			return Endpoint{}, fmt.Errorf("%q names no host: write host:NAME with an inventory host's name", s)
		}
		return Endpoint{Kind: EndpointHost, Name: name}, nil
	}
	if !looksLikeAddress(s) {
		return Endpoint{Kind: EndpointName, Name: s}, nil
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return Endpoint{}, fmt.Errorf("%q is not a prefix: want an address/length such as 198.18.5.0/24 or 2001:db8::/48", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return Endpoint{}, fmt.Errorf("%q is not an address: want 198.18.5.7 or 2001:db8::7, or a prefix", s)
		}
		// PrefixFrom would drop the zone silently.
		if a.Zone() != "" {
			return Endpoint{}, fmt.Errorf("%q has a zone: a firewall rule matches addresses, not interfaces", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return Endpoint{}, fmt.Errorf("%q is an IPv4-mapped IPv6 address: write the IPv4 form", s)
	}
	if p != p.Masked() {
		return Endpoint{}, fmt.Errorf("%q has address bits set past /%d: write the network %s, or the single address %s",
			s, p.Bits(), p.Masked(), p.Addr())
	}
	return Endpoint{Kind: EndpointPrefix, Name: p.String(), Prefix: p}, nil
}

// looksLikeAddress says whether s is meant as an address or prefix: it
// has a ':' (IPv6; role and network names have none), or it is digits
// with a '.' or '/'. A role may be called "5g-core" or even "10"; neither
// has a '.' or '/'.
func looksLikeAddress(s string) bool {
	if strings.Contains(s, ":") {
		return true
	}
	digits, sep := false, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r == '.' || r == '/':
			sep = true
		default:
			return false
		}
	}
	return digits && sep
}
