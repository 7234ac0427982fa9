package main

import (
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/testbed/labinv"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/internal/listen"
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
	hosts, skipped, err := testbed.HostsFromInventory(*inv)
	if err != nil {
		fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
		return 1
	}
	for i := range hosts {
		hosts[i].TCP, hosts[i].UDP = tcpPorts, udpPorts
	}
	if *playbook != "" {
		p, err := project.Load(project.Options{Inventory: *inv, Playbook: *playbook})
		if err != nil {
			fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
			return 1
		}
		hosts = labinv.Specs(p)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
		return 1
	}
	opts := []testbed.Option{testbed.WithDir(*state), testbed.WithDetach(), testbed.WithListener(self, "listen")}
	if *prefix != "" {
		opts = append(opts, testbed.WithPrefix(*prefix))
	}
	if *rootLink {
		opts = append(opts, testbed.WithRootLink(""))
	} else {
		opts = append(opts, testbed.WithController())
	}
	start := time.Now()
	lab, err := testbed.Start(ctx, hosts, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
		return 1
	}
	printLab(stdout, lab, skipped, *rootLink, time.Since(start))
	if *writeInv != "" {
		if err := labinv.WriteInventory(*inv, *writeInv, lab.KnownHostsPath(), lab.ClientKeyPath()); err != nil {
			fmt.Fprintf(stderr, "fwp-lab up: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "inventory for the lab: %s\n", *writeInv)
	}
	return 0
}

func printLab(w io.Writer, lab *testbed.Lab, skipped []string, rootLink bool, took time.Duration) {
	hosts := lab.Hosts()
	fmt.Fprintf(w, "lab up: %d hosts in %s, state in %s\n", len(hosts), took.Round(time.Millisecond), lab.Dir())
	if len(skipped) > 0 {
		fmt.Fprintf(w, "skipped (not Linux): %s\n", strings.Join(skipped, ", "))
	}
	for _, h := range hosts {
		var addrs []string
		for _, a := range h.Addrs {
			addrs = append(addrs, a.Addr().String())
		}
		fmt.Fprintf(w, "  %-20s %-28s %s\n", h.Name, lab.Namespace(h.Name), strings.Join(addrs, " "))
	}
	via := ""
	if !rootLink {
		via = "ip netns exec " + lab.Namespace(testbed.Controller) + " "
	}
	fmt.Fprintf(w, "ssh: %sssh -i %s -o UserKnownHostsFile=%s root@%s\n",
		via, lab.ClientKeyPath(), lab.KnownHostsPath(), hosts[0].Addrs[0].Addr())
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
	fmt.Fprintf(stdout, "lab down: %d hosts removed\n", len(lab.Hosts()))
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
