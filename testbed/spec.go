package testbed

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
)

// The lab's address space: one flat L2 segment on which both prefixes are
// on-link everywhere. Nothing the lab creates uses any other address, so no
// probe can leave the machine.
var (
	LabIPv4 = netip.MustParsePrefix("198.18.0.0/15")
	LabIPv6 = netip.MustParsePrefix("2001:db8::/32")
)

// The controller's (or root link's) addresses, reserved on every lab.
var (
	ControllerIPv4 = netip.MustParsePrefix("198.18.0.1/15")
	ControllerIPv6 = netip.MustParsePrefix("2001:db8::1/32")
)

// Controller is the pseudo host name of the controller namespace
// (WithController) for Namespace, Exec and DialFrom.
const Controller = "ctl"

// switchHost names the bridge namespace; like Controller it is reserved.
const switchHost = "sw"

// HostSpec describes one lab host.
type HostSpec struct {
	// Name is the inventory host name, e.g. "sprout-1"; it names the host's
	// namespace.
	Name string
	// Addrs are the host's addresses with the lab's prefix lengths:
	// 198.18.x.y/15 and 2001:db8:…/32.
	Addrs []netip.Prefix
	// TCP and UDP are ports a listener accepts on, on every address: TCP
	// answers with a one-line banner, UDP echoes each datagram.
	TCP, UDP []uint16
	// Segment is the segment the host attaches to in a routed lab
	// (WithSegments), and its addresses take that segment's prefix
	// lengths; "" means the management segment. A flat lab has none.
	Segment string
	// NoSSHD leaves the host without sshd (and without a host key): its
	// management plane, e.g. a simulated Windows host's WinRM, is served
	// by the test through Lab.Listen.
	NoSSHD bool
}

var (
	hostNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	prefixRE   = regexp.MustCompile(`^[a-z0-9]{1,16}$`)
)

// LabPrefix returns addr with the lab's prefix length for its family
// (/15 or /32), or an error when addr is outside the lab's address space.
func LabPrefix(addr netip.Addr) (netip.Prefix, error) {
	addr = addr.Unmap()
	switch {
	case LabIPv4.Contains(addr):
		return netip.PrefixFrom(addr, LabIPv4.Bits()), nil
	case LabIPv6.Contains(addr):
		return netip.PrefixFrom(addr, LabIPv6.Bits()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%s is outside the lab's %s and %s", addr, LabIPv4, LabIPv6)
}

// validateHosts checks every spec before anything is created, so a bad spec
// never leaves a half-built lab behind.
func validateHosts(hosts []HostSpec) error {
	if len(hosts) == 0 {
		return errors.New("no hosts")
	}
	names := map[string]bool{}
	owner := map[netip.Addr]string{
		ControllerIPv4.Addr(): "the controller",
		ControllerIPv6.Addr(): "the controller",
	}
	var errs []error
	for _, h := range hosts {
		if h.Segment != "" {
			errs = append(errs, fmt.Errorf("host %q: segment %q, but the lab has no segments (WithSegments)", h.Name, h.Segment))
			continue
		}
		if err := validateHost(h, names, owner, flatAddr); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// flatAddr checks an address of the flat lab: the lab's own prefix length,
// neither the network nor the broadcast address.
func flatAddr(p netip.Prefix) error {
	want, err := LabPrefix(p.Addr())
	if err != nil {
		return err
	}
	if p != want {
		return fmt.Errorf("%s: the lab is one flat segment, use %s", p, want)
	}
	if p.Addr() == LabIPv4.Addr() || p.Addr() == lastAddr(LabIPv4) {
		return fmt.Errorf("%s is the segment's network or broadcast address", p)
	}
	return nil
}

// validateHost checks one host; checkAddr checks each address against the
// host's segment.
func validateHost(h HostSpec, names map[string]bool, owner map[netip.Addr]string, checkAddr func(netip.Prefix) error) error {
	switch {
	case !hostNameRE.MatchString(h.Name):
		return fmt.Errorf("host %q: name must match %s", h.Name, hostNameRE)
	case h.Name == Controller || h.Name == switchHost:
		return fmt.Errorf("host %q: name is reserved by the lab", h.Name)
	case names[h.Name]:
		return fmt.Errorf("host %q: defined twice", h.Name)
	case len(h.Addrs) == 0:
		return fmt.Errorf("host %q: no addresses", h.Name)
	}
	names[h.Name] = true
	for _, p := range h.Addrs {
		if err := checkAddr(p); err != nil {
			return fmt.Errorf("host %q: %w", h.Name, err)
		}
		if o, dup := owner[p.Addr()]; dup {
			return fmt.Errorf("host %q: %s already belongs to %s", h.Name, p.Addr(), o)
		}
		owner[p.Addr()] = fmt.Sprintf("host %q", h.Name)
	}
	for _, ports := range [][]uint16{h.TCP, h.UDP} {
		seen := map[uint16]bool{}
		for _, port := range ports {
			if port == 0 || seen[port] {
				return fmt.Errorf("host %q: port %d is zero or listed twice", h.Name, port)
			}
			seen[port] = true
		}
	}
	for _, port := range h.TCP {
		if port == 22 && !h.NoSSHD {
			return fmt.Errorf("host %q: TCP port 22 is sshd's", h.Name)
		}
	}
	return nil
}
