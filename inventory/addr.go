package inventory

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// Which address forms an inventory accepts. Everything an inventory names
// ends up in firewall rules and, for probes and connections, on other
// hosts; so an address is accepted only in a form a firewall rule can
// match, and with nothing around it.
//
//   - An IPv6 zone ("fe80::1%eth0") is rejected everywhere: no firewall
//     rule matches on one, and net/netip accepts any text as a zone, shell
//     syntax included.
//   - An IPv4-mapped IPv6 address ("::ffff:198.18.1.5") is rejected
//     everywhere: it is ambiguous (the IPv4 host, or an IPv6 address no
//     IPv4 packet ever carries?). Write the form that is meant.
//   - A host's own address (data.addresses, an IP hostname) may not be the
//     unspecified address or a multicast group: neither is any one host's.
//     Loopback and link-local addresses are accepted: a host can be managed
//     over either.
//   - A network or management prefix may be any other prefix: multicast
//     groups are a legitimate destination, and 0.0.0.0/32 the source of a
//     DHCP discover.

// hostnameRE is a DNS name or an ssh_config alias: letters, digits, '-',
// '_' and dots, starting with a letter, digit or '_' (never '-', which a
// command line would take for an option). An IP literal is checked as an
// address instead.
var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$`)

// entityRE is what host and group names may be: what --limit can select
// and a file name or a DNS label can hold.
var entityRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$`)

// checkEntityName checks a host or group name.
func checkEntityName(kind, name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%s name is empty", kind)
	}
	if !entityRE.MatchString(name) {
		return fmt.Errorf("%s name %s: use letters, digits, '.', '_' and '-', starting with a letter or digit (at most 253)", kind, yamlsrc.Quote(name))
	}
	return nil
}

// parseHostAddr parses one of a host's own addresses, bare or with its
// prefix length ("198.18.1.5/24", whose prefix length is ignored).
func parseHostAddr(s string) (netip.Addr, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), checkHostAddr(s, p.Addr())
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad address %s", yamlsrc.Quote(s))
	}
	return a, checkHostAddr(s, a)
}

// checkHostAddr rejects what is no single host's address; s is how the
// inventory wrote it.
func checkHostAddr(s string, a netip.Addr) error {
	if err := checkForm(s, a); err != nil {
		return err
	}
	switch {
	case a.IsUnspecified():
		return fmt.Errorf("address %s is the unspecified address, no host's own", yamlsrc.Quote(s))
	case a.IsMulticast():
		return fmt.Errorf("address %s is a multicast group, no host's own", yamlsrc.Quote(s))
	}
	return nil
}

// checkForm rejects zones and IPv4-mapped addresses (see above).
func checkForm(s string, a netip.Addr) error {
	switch {
	case a.Zone() != "":
		return fmt.Errorf("address %s has an IPv6 zone: no firewall rule can match one; write the address without %%zone", yamlsrc.Quote(s))
	case a.Is4In6():
		return fmt.Errorf("address %s is IPv4-mapped, which is ambiguous: write %s for the IPv4 host", yamlsrc.Quote(s), a.Unmap())
	}
	return nil
}

// checkHostname checks hostname, where fwpush connects: a DNS name, an
// ssh_config alias or an IP address; it returns the address when it is
// one.
func checkHostname(hostname string) (netip.Addr, bool, error) {
	if a, err := netip.ParseAddr(hostname); err == nil {
		return a, true, checkHostAddr(hostname, a)
	}
	if strings.Contains(hostname, ":") || !hostnameRE.MatchString(hostname) {
		return netip.Addr{}, false, fmt.Errorf("hostname %s: want an IP address, a DNS name or an ssh_config alias (letters, digits, '.', '_' and '-')", yamlsrc.Quote(hostname))
	}
	return netip.Addr{}, false, nil
}
