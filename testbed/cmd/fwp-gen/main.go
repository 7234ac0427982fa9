// Command fwp-gen writes a synthetic inventory and playbook for scale runs:
// fwp-gen -hosts 5000 -flows 2000 DIR.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fwpush/fwpush/testbed/gen"
)

func main() {
	var s gen.Spec
	flag.IntVar(&s.Hosts, "hosts", 5000, "hosts")
	flag.IntVar(&s.Roles, "roles", 100, "roles")
	flag.IntVar(&s.Flows, "flows", 2000, "flows")
	flag.IntVar(&s.IptablesEvery, "iptables-every", 3, "every n-th host on iptables (the rest on nftables)")
	flag.Uint64Var(&s.Seed, "seed", 1, "random seed")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: fwp-gen [flags] DIR")
		os.Exit(2)
	}
	if err := gen.Write(flag.Arg(0), s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
