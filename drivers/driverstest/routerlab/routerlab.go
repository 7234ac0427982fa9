package routerlab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

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
	Scale float64
	sim   *labinv.Simulator

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
// simulator on every CLI router (labinv.StartSimulator, served through
// labinv's device servers as fwp-lab serves them). Everything stops at the
// end of the test.
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
	servers := labinv.Servers{}
	srv := &routerServer{rl: rl, cfg: cfg, pub: pub}
	for id := range simulated {
		if _, ok := p.Registry.Lookup(id); ok {
			servers[id] = srv
		}
	}
	t.Cleanup(func() {
		for _, r := range rl.Routers {
			r.sim.Close()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, labinv.StartServers(ctx, lab, p, servers))
	kh := filepath.Join(t.TempDir(), "routers_known_hosts")
	require.NoError(t, os.WriteFile(kh, []byte(strings.Join(srv.known, "")), 0o600))
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

// routerServer is the lab's device server of the simulated routers: the
// inventory's user logs in with the lab's client key, the router's state
// is recorded as its namespace enforces it.
type routerServer struct {
	rl    *RouterLab
	cfg   routerLabConfig
	pub   ssh.PublicKey
	known []string // known_hosts lines
}

func (s *routerServer) Serve(ctx context.Context, lab *testbed.Lab, h *inventory.Host) error {
	if _, ok := lab.Router(h.Name); !ok {
		return nil // a host of a router platform without lab_interfaces: no router to play
	}
	r := &Router{Name: h.Name, Scale: 1}
	o := labinv.SimulatorOptions{Platform: simulated[h.Platform], AuthorizedKeys: []ssh.PublicKey{s.pub}, Config: s.cfg.extra[h.Name],
		Enforced: r.record}
	switch scale := s.cfg.scale[h.Platform]; {
	case s.cfg.fake:
		r.Clock = netsim.NewFakeClock(time.Now().UTC().Truncate(time.Second))
		o.Clock = r.Clock
	case scale > 0:
		o.Clock = netsim.NewScaledClock(time.Now().UTC(), scale)
		r.Scale = scale
	}
	sim, err := labinv.StartSimulator(ctx, lab, h, o)
	if err != nil {
		return err
	}
	r.sim, r.Device, r.Server = sim, sim.Device, sim.Server
	s.rl.Routers[h.Name] = r
	s.known = append(s.known, sim.KnownHostsLine())
	return nil
}

// record keeps what the router's namespace was given, or the failure.
func (r *Router) record(st enforce.State, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	r.history = append(r.history, Seen{At: time.Now(), State: st})
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
	got, err := r.sim.Enforcer.Read(ctx)
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
