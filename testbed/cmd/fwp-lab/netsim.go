package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/drivers/aristaeos"
	"github.com/fwpush/fwpush/drivers/ciscoios"
	"github.com/fwpush/fwpush/drivers/cisconxos"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/labinv"
	"github.com/fwpush/fwpush/testbed/netsim"
)

// A routed lab's CLI routers are the netsim simulator, one process per
// router (`fwp-lab netsim`), started detached inside the router's
// namespace: it outlives `up`, and `down`, which kills every process in
// the lab's namespaces, stops it with the rest. It serves SSH on the
// router's inventory address and port, and the namespace enforces the
// ACLs the device holds on the packets it routes. Its files are under
// STATE/netsim: each router's SSH host key (also in the lab's
// known_hosts) and log.

// simulatedRouters are the platforms a simulator plays, by the dialect
// that plays them.
var simulatedRouters = map[string]netsim.Platform{
	ciscoios.ID:  netsim.PlatformIOSXE,
	cisconxos.ID: netsim.PlatformNXOS,
	aristaeos.ID: netsim.PlatformEOS,
}

// routersDir is the simulators' directory in the state dir.
func routersDir(state string) string { return filepath.Join(state, "netsim") }

// routerDaemons is the labinv.DeviceServer of the simulated routers: it
// starts one `fwp-lab netsim` per router.
type routerDaemons struct {
	self, state, inventory string

	mu sync.Mutex
	// served are "name (dialect on address)", for printing; unserved the
	// hosts of a simulated platform left without one, with why.
	served, unserved []string
}

// servers is what d serves: the platforms a simulator plays.
func (d *routerDaemons) servers() labinv.Servers {
	servers := labinv.Servers{}
	for id := range simulatedRouters {
		servers[id] = d
	}
	return servers
}

// print says which routers answer, and which do not.
func (d *routerDaemons) print(w io.Writer) {
	if len(d.served) > 0 {
		fmt.Fprintf(w, "routers (the netsim simulator, one process each, logs in %s): %s\n",
			routersDir(d.state), strings.Join(d.served, ", "))
	}
	if len(d.unserved) > 0 {
		fmt.Fprintf(w, "not served (no simulator answers): %s\n", strings.Join(d.unserved, ", "))
	}
}

// Serve starts h's simulator and waits until it listens; its host key is
// made here, so the lab's known_hosts lists it before fwpush connects.
func (d *routerDaemons) Serve(ctx context.Context, lab *testbed.Lab, h *inventory.Host) error {
	if _, ok := lab.Router(h.Name); !ok {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.unserved = append(d.unserved, h.Name+" (not a router of the lab: no lab_interfaces)")
		return nil
	}
	dir := routersDir(d.state)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key, err := netsim.LoadOrCreateHostKey(filepath.Join(dir, h.Name+".host_key"))
	if err != nil {
		return err
	}
	addr := routerAddr(h)
	if err := appendFile(lab.KnownHostsPath(), labinv.SimulatorKnownHostsLine(addr, key.PublicKey())); err != nil {
		return err
	}
	err = startDaemon(ctx, d.self, lab.Namespace(h.Name), filepath.Join(dir, h.Name+".log"),
		"netsim", "--state", d.state, "--inventory", d.inventory, "--host", h.Name)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.served = append(d.served, fmt.Sprintf("%s (%s on %s)", h.Name, simulatedRouters[h.Platform], addr))
	return nil
}

// routerAddr is the address and port fwpush dials for h.
func routerAddr(h *inventory.Host) string {
	port := h.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(h.Hostname, strconv.Itoa(port))
}

// netsimCmd is one router's simulator, as `up` starts it: it serves the
// router on its inventory address inside its namespace, accepting the
// inventory's user with the lab's client key (and the inventory's
// password, if any), enforces the device's ACLs in the namespace, writes
// "ready" to file descriptor 3 once it listens, and runs until SIGINT or
// SIGTERM (or `down`).
func netsimCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return simulatorCmd(ctx, "netsim", "router", args, stderr, func(state, inv, host string) error {
		return serveRouter(ctx, state, inv, host, stderr)
	})
}

// simulatorCmd parses the flags every simulator subcommand takes (the lab
// state, the inventory, the host to serve) and runs serve with them.
func simulatorCmd(ctx context.Context, name, what string, args []string, stderr io.Writer, serve func(state, inv, host string) error) int {
	fs := flag.NewFlagSet("fwp-lab "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", defaultState, "lab state directory written by up")
	inv := fs.String("inventory", "", "Nornir inventory directory (required)")
	host := fs.String("host", "", "the inventory "+what+" to serve (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *inv == "" || *host == "" {
		fmt.Fprintf(stderr, "fwp-lab %s: --inventory and --host are required\n", name)
		return 2
	}
	if err := serve(*state, *inv, *host); err != nil {
		fmt.Fprintf(stderr, "fwp-lab %s: %s: %v\n", name, *host, err)
		return 1
	}
	return 0
}

func serveRouter(ctx context.Context, state, invDir, name string, logw io.Writer) error {
	// The lab is attached only to reach its namespaces: never closed here.
	lab, err := testbed.Attach(state)
	if err != nil {
		return err
	}
	i, err := inventory.Load(invDir, inventory.WithPlatforms(registry()))
	if err != nil {
		return err
	}
	h := i.Hosts[name]
	if h == nil {
		return fmt.Errorf("no such host in %s", invDir)
	}
	sim, ok := simulatedRouters[h.Platform]
	if !ok {
		return fmt.Errorf("%s: no simulator plays this platform", h.Platform)
	}
	key, err := netsim.LoadOrCreateHostKey(filepath.Join(routersDir(state), h.Name+".host_key"))
	if err != nil {
		return err
	}
	pubText, err := os.ReadFile(lab.ClientKeyPath() + ".pub")
	if err != nil {
		return err
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubText)
	if err != nil {
		return fmt.Errorf("%s.pub: %w", lab.ClientKeyPath(), err)
	}
	s, err := labinv.StartSimulator(ctx, lab, h, labinv.SimulatorOptions{
		Platform: sim, HostKey: key, AuthorizedKeys: []ssh.PublicKey{pub},
		Enforced: func(st enforce.State, err error) {
			if err != nil {
				fmt.Fprintf(logw, "%s: %v\n", time.Now().Format(time.RFC3339), err)
			}
		},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	if ready := os.NewFile(3, "ready"); ready != nil {
		fmt.Fprintln(ready, "ready")
		ready.Close()
	}
	fmt.Fprintf(logw, "%s: %s serving %s on %s\n", time.Now().Format(time.RFC3339), h.Name, sim, s.Addr)
	<-ctx.Done()
	return nil
}
