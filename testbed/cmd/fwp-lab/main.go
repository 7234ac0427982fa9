// Command fwp-lab starts and stops the netns lab from a Nornir inventory, for
// `make lab-up` and `make lab-down`; an inventory with lab_segments starts
// a routed lab (testbed/README.md):
//
//	fwp-lab up --inventory DIR [--playbook FILE] [--root-link] [--state DIR] [--prefix P] [--tcp 80,443] [--udp 53]
//	fwp-lab down [--state DIR]
//	fwp-lab sweep [--prefix P]
//
// `up` also serves the devices the lab runs no sshd for, each by a
// simulator in its own process, which `up` starts and `down` stops: the
// inventory's Windows hosts (`fwp-lab winsim`; in a flat lab only with a
// playbook, which gives them namespaces) and, in a routed lab, its IOS-XE,
// NX-OS and EOS routers (`fwp-lab netsim`).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/fwpush/fwpush/drivers/all"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: fwp-lab up|down|sweep [flags] (-h for flags)")
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"up": up, "down": down, "sweep": sweep, "listen": listenCmd,
		"winsim": winsimCmd, "netsim": netsimCmd,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "fwp-lab: unknown command %q\n", args[0])
		return 2
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// registry resolves the inventory's platforms; tests add stand-ins for
// platforms whose drivers they do not need.
var registry = all.Registry
