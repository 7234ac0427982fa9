package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/internal/listen"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// defaultState is where `up` keeps keys, configs, logs and lab.json, and
// where `down` finds them.
const defaultState = "/run/fwpush-lab"

func up(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fwp-lab up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	inv := fs.String("inventory", "", "Nornir inventory directory (required)")
	state := fs.String("state", defaultState, "lab state directory (must be absent or empty)")
	prefix := fs.String("prefix", "", "namespace prefix: namespaces become fwp-PREFIX-HOST")
	rootLink := fs.Bool("root-link", false, "give this namespace the interface "+testbed.DefaultRootLink+" into the lab (198.18.0.1, 2001:db8::1); otherwise a controller namespace gets them")
	tcp := fs.String("tcp", "", "comma-separated TCP ports every host's listener accepts on")
	udp := fs.String("udp", "", "comma-separated UDP ports every host's listener echoes on")
	playbook := fs.String("playbook", "", "fwpush playbook: listen on the ports its flows open to each host (instead of --tcp/--udp)")
	writeInv := fs.String("write-inventory", "", "write a copy of the inventory here that points fwpush at the lab's known_hosts and key")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *inv == "" {
		fmt.Fprintln(stderr, "fwp-lab up: --inventory is required")
		return 2
	}
	tcpPorts, err1 := parsePorts(*tcp)
	udpPorts, err2 := parsePorts(*udp)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
		return 1
	}
	// Absolute: the simulators `up` starts read both, whatever their
	// working directory.
	invDir, err1 := filepath.Abs(*inv)
	stateDir, err2 := filepath.Abs(*state)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
		return 1
	}
	win := &winsimDaemons{self: self, state: stateDir, inventory: invDir}
	routers := &routerDaemons{self: self, state: stateDir, inventory: invDir}
	topo, i, err := loadTopology(*inv, *playbook, win.servers())
	if err != nil {
		fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
		return 1
	}
	if *playbook == "" {
		for i := range topo.Hosts {
			topo.Hosts[i].TCP, topo.Hosts[i].UDP = tcpPorts, udpPorts
		}
	}
	opts := append(topo.Options(), testbed.WithDir(*state), testbed.WithDetach(), testbed.WithListener(self, "listen"))
	if *prefix != "" {
		opts = append(opts, testbed.WithPrefix(*prefix))
	}
	if *rootLink {
		opts = append(opts, testbed.WithRootLink(""))
	} else {
		opts = append(opts, testbed.WithController())
	}
	start := time.Now()
	lab, err := testbed.Start(ctx, topo.Hosts, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
		return 1
	}
	// One hook serves every device the lab runs no sshd for: the Windows
	// hosts and the CLI routers, each a simulator process of its own.
	servers := labinv.Servers{}
	maps.Copy(servers, win.servers())
	maps.Copy(servers, routers.servers())
	if err := labinv.StartInventoryServers(ctx, lab, i, servers); err != nil {
		fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
		lab.Close()
		return 1
	}
	printLab(stdout, lab, topo.Skipped, *rootLink, time.Since(start))
	win.print(stdout)
	routers.print(stdout)
	if *writeInv != "" {
		err := labinv.WriteInventory(*inv, *writeInv, lab.KnownHostsPath(), lab.ClientKeyPath())
		if err == nil && len(win.hosts) > 0 {
			err = pointAtSimulators(*writeInv, stateDir)
		}
		if err != nil {
			fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "inventory for the lab: %s\n", *writeInv)
	}
	return 0
}

// loadTopology reads the lab an inventory describes: with a playbook,
// listeners on the ports its flows open, and the hosts servers serve in a
// flat lab too; routed when the inventory has lab_segments (see
// testbed/README.md). It returns the inventory too, the playbook's when
// there is one.
func loadTopology(inv, playbook string, servers labinv.Servers) (labinv.Topology, *inventory.Inventory, error) {
	if playbook != "" {
		p, err := project.Load(project.Options{Inventory: inv, Playbook: playbook, Registry: registry()})
		if err != nil {
			return labinv.Topology{}, nil, err
		}
		t, err := labinv.Build(p)
		if err != nil {
			return labinv.Topology{}, nil, err
		}
		if len(t.Segments) == 0 {
			t.Hosts = labinv.SpecsWith(p, servers)
			t.Skipped = nil
			for _, h := range p.Inv.Select(nil) {
				if _, served := servers[h.Platform]; !served && !hasSpec(t.Hosts, h.Name) {
					t.Skipped = append(t.Skipped, fmt.Sprintf("%s (%s)", h.Name, h.Platform))
				}
			}
		}
		return t, p.Inv, nil
	}
	i, err := inventory.Load(inv, inventory.WithPlatforms(registry()))
	if err != nil {
		return labinv.Topology{}, nil, err
	}
	t, err := labinv.FromInventory(i)
	return t, i, err
}

func hasSpec(hosts []testbed.HostSpec, name string) bool {
	for _, h := range hosts {
		if h.Name == name {
			return true
		}
	}
	return false
}

func printLab(w io.Writer, lab *testbed.Lab, skipped []string, rootLink bool, took time.Duration) {
	hosts, routers := lab.Hosts(), lab.Routers()
	fmt.Fprintf(w, "lab up: %d hosts", len(hosts))
	if len(routers) > 0 {
		fmt.Fprintf(w, ", %d routers, %d segments", len(routers), len(lab.Segments()))
	}
	fmt.Fprintf(w, " in %s, state in %s\n", took.Round(time.Millisecond), lab.Dir())
	if len(skipped) > 0 {
		fmt.Fprintf(w, "skipped (not Linux): %s\n", strings.Join(skipped, ", "))
	}
	for _, s := range lab.Segments() {
		fmt.Fprintf(w, "  segment %-12s %s %s\n", s.Name, s.IPv4, s.IPv6)
	}
	var sshTo string
	for _, h := range hosts {
		var addrs []string
		for _, a := range h.Addrs {
			addrs = append(addrs, a.Addr().String())
		}
		note := ""
		if h.Segment != "" {
			note = " [" + h.Segment + "]"
		}
		if h.NoSSHD {
			note += " (no sshd)"
		} else if sshTo == "" {
			sshTo = h.Addrs[0].Addr().String()
		}
		fmt.Fprintf(w, "  %-20s %-28s %s%s\n", h.Name, lab.Namespace(h.Name), strings.Join(addrs, " "), note)
	}
	for _, r := range routers {
		sshd := " (no sshd)"
		if r.SSHD {
			sshd = ""
		}
		fmt.Fprintf(w, "  %-20s %-28s router%s\n", r.Name, lab.Namespace(r.Name), sshd)
		for _, i := range r.Interfaces {
			var addrs []string
			for _, a := range i.Addrs {
				addrs = append(addrs, a.Addr().String())
			}
			fmt.Fprintf(w, "    %-18s %-10s %-8s %s\n", i.Name, i.Linux, i.Segment, strings.Join(addrs, " "))
		}
	}
	via := ""
	if !rootLink {
		via = "ip netns exec " + lab.Namespace(testbed.Controller) + " "
	}
	if sshTo != "" {
		fmt.Fprintf(w, "ssh: %sssh -i %s -o UserKnownHostsFile=%s root@%s\n",
			via, lab.ClientKeyPath(), lab.KnownHostsPath(), sshTo)
	}
}

func down(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fwp-lab down", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", defaultState, "lab state directory written by up")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	lab, err := testbed.Attach(*state)
	if errors.Is(err, testbed.ErrNoLab) {
		fmt.Fprintf(stderr, "fwp-lab down: no lab in %s (leftovers of a crashed lab: fwp-lab sweep --prefix P)\n", *state)
		return 1
	}
	if err == nil {
		err = lab.Close()
	}
	if err != nil {
		fmt.Fprintf(stderr, "fwp-lab down: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "lab down: %d hosts and %d routers removed\n", len(lab.Hosts()), len(lab.Routers()))
	return 0
}

func sweep(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fwp-lab sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	prefix := fs.String("prefix", "", "remove namespaces fwp-PREFIX-*; empty removes every fwp-* lab, tests' included")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := testbed.Sweep(ctx, *prefix); err != nil {
		fmt.Fprintf(stderr, "fwp-lab sweep: %v\n", err)
		return 1
	}
	return 0
}

// listenCmd is the probe listener; `up` runs this same binary as the
// listener so the lab needs no Go toolchain.
func listenCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	return listen.Main(args, stdout, stderr)
}

func parsePorts(s string) ([]uint16, error) {
	var out []uint16
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := strconv.ParseUint(f, 10, 16)
		if err != nil || p == 0 {
			return nil, fmt.Errorf("bad port %q", f)
		}
		out = append(out, uint16(p))
	}
	return out, nil
}
