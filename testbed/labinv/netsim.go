package labinv

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/netsim"
)

// Simulator is a router of a routed lab played by the labelled simulator
// (testbed/netsim): the device, its SSH server on the router's management
// address inside the router's namespace, and the namespace enforcing the
// ACLs the device holds on the packets it forwards.
type Simulator struct {
	Name     string
	Device   *netsim.Device
	Server   *netsim.Server
	Enforcer *enforce.Enforcer
	// Addr is the address and port the device serves SSH on.
	Addr string
	ln   net.Listener
}

// SimulatorOptions configure StartSimulator.
type SimulatorOptions struct {
	// Platform is the dialect the router speaks.
	Platform netsim.Platform
	// HostKey is the device's SSH host key; nil: a fresh one.
	HostKey ssh.Signer
	// AuthorizedKeys may log in as the inventory's user (admin when it
	// names none), as may the inventory's password when it has one.
	AuthorizedKeys []ssh.PublicKey
	// Clock runs the device's timers; nil: real time.
	Clock netsim.Clock
	// Config is added, in the device's syntax, to the router's initial
	// (running and startup) configuration.
	Config string
	// Enforced sees every ACL state the namespace was given, the boot
	// state first, and whether loading it failed: after boot the CLI has
	// answered by then, so nothing else can report it.
	Enforced func(enforce.State, error)
}

// enforceTimeout bounds one load of a State into the namespace.
const enforceTimeout = time.Minute

// StartSimulator serves router h of lab as a simulated device: its
// interfaces and addresses those lab_interfaces gave the router, the
// inventory's user logging in (privileged), on the inventory's address and
// port inside the router's namespace (Lab.Listen), so fwpush reaches it
// across the lab like a real router's management plane. The namespace
// enforces the device's ACLs from boot on and after every change; an
// error enforcing the boot state fails the start.
func StartSimulator(ctx context.Context, lab *testbed.Lab, h *inventory.Host, o SimulatorOptions) (*Simulator, error) {
	spec, ok := lab.Router(h.Name)
	if !ok {
		return nil, fmt.Errorf("%s: not a router of the lab", h.Name)
	}
	ifmap := map[string]string{}
	for _, i := range spec.Interfaces {
		ifmap[i.Name] = i.Linux
	}
	user := h.Username
	if user == "" {
		user = "admin"
	}
	hostname := deviceHostname(h.Name)
	dev, err := netsim.NewDevice(netsim.Options{
		Platform: o.Platform, Hostname: hostname, Config: InitialConfig(o.Platform, hostname, spec) + o.Config,
		Interfaces: ifmap, Clock: o.Clock,
		Users: []netsim.User{{Name: user, Password: h.Password.Reveal(), AuthorizedKeys: o.AuthorizedKeys, Privilege: 15}},
	})
	if err != nil {
		return nil, err
	}
	s := &Simulator{Name: h.Name, Device: dev, Enforcer: enforce.New(lab, h.Name)}
	// OnChange gives the boot state at once, then every change before the
	// CLI answers: once the prompt is back, the namespace enforces what
	// the device holds.
	var bootErr error
	booted := false
	dev.OnChange(func(st enforce.State) {
		actx, cancel := context.WithTimeout(context.Background(), enforceTimeout)
		defer cancel()
		err := s.Enforcer.Apply(actx, st)
		if !booted {
			booted, bootErr = true, err
		}
		if o.Enforced != nil {
			o.Enforced(st, err)
		}
	})
	if bootErr != nil {
		return nil, fmt.Errorf("%s: enforce the boot state: %w", h.Name, bootErr)
	}
	if s.Server, err = netsim.NewServer(dev, o.HostKey); err != nil {
		return nil, err
	}
	port := h.Port
	if port == 0 {
		port = 22
	}
	s.Addr = net.JoinHostPort(h.Hostname, strconv.Itoa(port))
	if s.ln, err = lab.Listen(ctx, h.Name, "tcp", s.Addr); err != nil {
		return nil, err
	}
	go s.Server.Serve(s.ln)
	return s, nil
}

// KnownHostsLine is the device's known_hosts line, under the address and
// port fwpush dials.
func (s *Simulator) KnownHostsLine() string {
	return SimulatorKnownHostsLine(s.Addr, s.Server.HostKey())
}

// SimulatorKnownHostsLine is a known_hosts line for a simulator serving
// on addr (host:port) with key.
func SimulatorKnownHostsLine(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
}

// Close stops the device's SSH server and drops its sessions.
func (s *Simulator) Close() error {
	s.ln.Close() // Serve may not have taken it yet
	return s.Server.Close()
}

// deviceHostname is an inventory name as a device hostname.
func deviceHostname(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name)
}

// InitialConfig is the configuration a simulated router boots with: its
// hostname, its interfaces with the lab's addresses, and on IOS-XE the
// configuration archive its revert timer needs.
func InitialConfig(sim netsim.Platform, hostname string, spec testbed.RouterSpec) string {
	ifs := append([]testbed.RouterInterface(nil), spec.Interfaces...)
	sort.Slice(ifs, func(i, j int) bool { return ifs[i].Name < ifs[j].Name })
	var b strings.Builder
	switch sim {
	case netsim.PlatformIOSXE:
		fmt.Fprintf(&b, "hostname %s\n!\n", hostname)
		for _, i := range ifs {
			fmt.Fprintf(&b, "interface %s\n", i.Name)
			for _, a := range i.Addrs {
				if a.Addr().Is4() {
					fmt.Fprintf(&b, " ip address %s %s\n", a.Addr(), netmask(a))
				} else {
					fmt.Fprintf(&b, " ipv6 address %s\n", a)
				}
			}
			b.WriteString("!\n")
		}
		b.WriteString("archive\n path flash:archive\n maximum 14\n!\n")
	case netsim.PlatformNXOS:
		fmt.Fprintf(&b, "hostname %s\n\n", hostname)
		for _, i := range ifs {
			fmt.Fprintf(&b, "interface %s\n", i.Name)
			for _, a := range i.Addrs {
				if a.Addr().Is4() {
					fmt.Fprintf(&b, "  ip address %s\n", a)
				} else {
					fmt.Fprintf(&b, "  ipv6 address %s\n", a)
				}
			}
			b.WriteString("\n")
		}
	case netsim.PlatformEOS:
		fmt.Fprintf(&b, "hostname %s\n!\n", hostname)
		for _, i := range ifs {
			fmt.Fprintf(&b, "interface %s\n   no switchport\n", i.Name)
			for _, a := range i.Addrs {
				if a.Addr().Is4() {
					fmt.Fprintf(&b, "   ip address %s\n", a)
				} else {
					fmt.Fprintf(&b, "   ipv6 address %s\n", a)
				}
			}
			b.WriteString("!\n")
		}
	}
	return b.String()
}

func netmask(p netip.Prefix) string {
	m := uint32(0xffffffff) << (32 - p.Bits())
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}
