package routerlab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/labinv"
	"github.com/fwpush/fwpush/testbed/netsim"
)

// simulated maps the CLI platforms to the netsim dialect that plays them
// in the lab.
var simulated = map[string]netsim.Platform{
	"cisco-ios":  netsim.PlatformIOSXE,
	"cisco-nxos": netsim.PlatformNXOS,
	"arista-eos": netsim.PlatformEOS,
}

// RouterLab is a routed lab for a project whose inventory describes one
// (lab_segments): Linux hosts with real sshd on their segments, and every
// IOS-XE, NX-OS or EOS router a labelled simulator (testbed/netsim) inside
// its router namespace, serving SSH on its management address and
// enforcing the ACLs it holds on the packets the namespace forwards
// (testbed/enforce), so probes through it prove what its ACLs do.
type RouterLab struct {
	Lab     *testbed.Lab
	Project *project.Project
	// Routers are the simulated devices by inventory name.
	Routers map[string]*Router
	// Options reach every host and router of the lab: its known_hosts
	// (the simulators' keys included) and client key.
	Options drivers.TransportOptions
}

// Router is one simulated network device of a RouterLab.
type Router struct {
	Name   string
	Device *netsim.Device
	Server *netsim.Server
	// Clock is the device's clock when the lab runs it by hand
	// (WithFakeClock), else nil.
	Clock *netsim.FakeClock
	// Scale is how many times faster than the wall clock the device's
	// clock runs (1 unless WithScaledClock).
	Scale    float64
	enforcer *enforce.Enforcer

	mu      sync.Mutex
	errs    []error
	history []Seen
}

// Seen is an ACL state a router's namespace was given, and when.
type Seen struct {
	At    time.Time
	State enforce.State
}

// RouterLabOption changes how a RouterLab starts.
type RouterLabOption func(*routerLabConfig)

type routerLabConfig struct {
	fake    bool
	scale   map[string]float64
	extra   map[string]string
	labOpts []testbed.Option
}

// WithScaledClock runs the devices of a platform (a registry id) on a
// clock factor times faster than the wall clock (netsim.ScaledClock), so
// a device-side timer counted in minutes fires in seconds.
func WithScaledClock(platform string, factor float64) RouterLabOption {
	return func(c *routerLabConfig) { c.scale[platform] = factor }
}

// WithFakeClock runs every simulated device on a FakeClock the test moves
// (Router.Clock), so device-side timers fire when the test says.
func WithFakeClock() RouterLabOption { return func(c *routerLabConfig) { c.fake = true } }

// WithDeviceConfig adds config lines, in the device's own syntax, to a
// router's initial (running and startup) configuration.
func WithDeviceConfig(router, config string) RouterLabOption {
	return func(c *routerLabConfig) { c.extra[router] += config }
}

// WithLabOptions passes options to testbed.StartT.
func WithLabOptions(o ...testbed.Option) RouterLabOption {
	return func(c *routerLabConfig) { c.labOpts = append(c.labOpts, o...) }
}

// StartRouterLab starts the routed lab p's inventory describes, with a
// simulator on every CLI router. Everything stops at the end of the test.
func StartRouterLab(t *testing.T, p *project.Project, opts ...RouterLabOption) *RouterLab {
	t.Helper()
	cfg := routerLabConfig{extra: map[string]string{}, scale: map[string]float64{}}
	for _, o := range opts {
		o(&cfg)
	}
	topo, err := labinv.Build(p)
	require.NoError(t, err)
	require.NotEmpty(t, topo.Routers, "%s: the inventory describes no routed lab (lab_segments, lab_interfaces)", p.Inv.Dir)
	lab := testbed.StartT(t, topo.Hosts, append(append(topo.Options(), testbed.WithReadyTimeout(time.Minute)), cfg.labOpts...)...)
	pubText, err := os.ReadFile(lab.ClientKeyPath() + ".pub")
	require.NoError(t, err)
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubText)
	require.NoError(t, err)
	rl := &RouterLab{Lab: lab, Project: p, Routers: map[string]*Router{}}
	var known []string
	for _, spec := range topo.Routers {
		h := p.Inv.Hosts[spec.Name]
		pl, ok := p.Registry.Lookup(h.Platform)
		sim, simOK := simulated[pl.ID]
		if !ok || !simOK {
			continue
		}
		r, line := startRouter(t, lab, h, spec, sim, pub, cfg, cfg.scale[pl.ID])
		rl.Routers[spec.Name] = r
		known = append(known, line)
	}
	kh := filepath.Join(t.TempDir(), "routers_known_hosts")
	require.NoError(t, os.WriteFile(kh, []byte(strings.Join(known, "")), 0o600))
	rl.Options = drivers.TransportOptions{
		KnownHostsFiles: []string{lab.KnownHostsPath(), kh}, IdentityFiles: []string{lab.ClientKeyPath()},
		SSHConfigFile: "none", ConnectTimeout: 10 * time.Second, CommandTimeout: 30 * time.Second,
		Keepalive: 2 * time.Second, ConnectRetries: 3,
	}
	t.Cleanup(func() {
		for _, r := range rl.Routers {
			for _, err := range r.Errors() {
				t.Errorf("%s: enforcing the simulator's ACLs: %v", r.Name, err)
			}
		}
	})
	return rl
}

// startRouter starts one simulator: its interfaces and addresses from the
// lab, the inventory's user logging in with the lab's client key, its ACL
// state enforced in its namespace after every change. It returns its
// known_hosts line.
func startRouter(t *testing.T, lab *testbed.Lab, h *inventory.Host, spec testbed.RouterSpec, sim netsim.Platform,
	pub ssh.PublicKey, cfg routerLabConfig, scale float64) (*Router, string) {
	t.Helper()
	ifmap := map[string]string{}
	for _, i := range spec.Interfaces {
		ifmap[i.Name] = i.Linux
	}
	user := h.Username
	if user == "" {
		user = "admin"
	}
	opts := netsim.Options{
		Platform: sim, Hostname: deviceHostname(h.Name), Config: InitialConfig(sim, deviceHostname(h.Name), spec) + cfg.extra[h.Name],
		Interfaces: ifmap,
		Users:      []netsim.User{{Name: user, Password: h.Password.Reveal(), AuthorizedKeys: []ssh.PublicKey{pub}, Privilege: 15}},
	}
	r := &Router{Name: h.Name, enforcer: enforce.New(lab, h.Name), Scale: 1}
	switch {
	case cfg.fake:
		r.Clock = netsim.NewFakeClock(time.Now().UTC().Truncate(time.Second))
		opts.Clock = r.Clock
	case scale > 0:
		opts.Clock = netsim.NewScaledClock(time.Now().UTC(), scale)
		r.Scale = scale
	}
	dev, err := netsim.NewDevice(opts)
	require.NoError(t, err)
	r.Device = dev
	// The callback runs before the CLI answers: once the prompt is back,
	// the namespace enforces what the device holds.
	dev.OnChange(func(st enforce.State) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := r.enforcer.Apply(ctx, st)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.errs = append(r.errs, err)
			return
		}
		r.history = append(r.history, Seen{At: time.Now(), State: st})
	})
	srv, err := netsim.NewServer(dev, nil)
	require.NoError(t, err)
	r.Server = srv
	port := h.Port
	if port == 0 {
		port = 22
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ln, err := lab.Listen(ctx, h.Name, "tcp", net.JoinHostPort(h.Hostname, strconv.Itoa(port)))
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	names := []string{knownhosts.Normalize(net.JoinHostPort(h.Hostname, strconv.Itoa(port)))}
	return r, knownhosts.Line(names, srv.HostKey()) + "\n"
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

// Errors are the enforcement failures so far (a StartRouterLab test fails
// with them at its end).
func (r *Router) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// History is every ACL state the router's namespace was given, in order,
// the boot state first.
func (r *Router) History() []Seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Seen(nil), r.history...)
}

// Enforced checks that the router's namespace enforces exactly the ACL
// state the simulator holds now.
func (r *Router) Enforced(ctx context.Context) error {
	want, err := enforce.Render(r.Device.State())
	if err != nil {
		return err
	}
	got, err := r.enforcer.Read(ctx)
	if err != nil {
		return err
	}
	if got.Digest != want.Digest {
		return fmt.Errorf("%s: namespace enforces %q, the simulator holds %q:\n%s", r.Name, got.Digest, want.Digest, got.Listing)
	}
	return nil
}

// Opener opens sessions to the lab's hosts and routers through reg.
func (rl *RouterLab) Opener(reg *drivers.Registry) plan.Opener {
	return plan.DriverOpener(reg, rl.Project.Inv, rl.Options, rl.Lab.DialContext)
}
