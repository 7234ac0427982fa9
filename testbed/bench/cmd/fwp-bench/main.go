// Command fwp-bench times fwpush against a bare ssh floor and Ansible on a
// netns lab of synthetic hosts (`make bench-push`); run as root:
//
//	fwp-bench [-hosts 100] [-forks 64] [-runs 3] [-ansible-runs 1] [-ansible-check] [-json FILE] [-fwpush bin/fwpush]
//
// The lab always comes down, on error and on SIGINT/SIGTERM too; after a
// SIGKILL, `fwp-lab sweep --prefix bench` removes what is left.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fwpush/fwpush/testbed/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fwp-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := bench.Options{}
	fs.StringVar(&o.Fwpush, "fwpush", "bin/fwpush", "fwpush binary to time")
	fs.IntVar(&o.Hosts, "hosts", 100, "lab hosts")
	fs.IntVar(&o.Roles, "roles", 10, "roles in the synthetic playbook")
	fs.IntVar(&o.Flows, "flows", 60, "flows in the synthetic playbook")
	fs.IntVar(&o.Forks, "forks", 64, "parallelism of xargs -P, fwpush --forks and ansible-playbook -f")
	fs.IntVar(&o.Runs, "runs", 3, "times the floors and fwpush are measured (the median is reported)")
	fs.IntVar(&o.AnsibleRuns, "ansible-runs", 1, "times the Ansible play is measured (minutes each at 100 hosts)")
	fs.BoolVar(&o.AnsibleCheck, "ansible-check", false, "also time ansible-playbook --check --diff (Ansible's dry run)")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", 30*time.Second, "fwpush --connect-timeout and Ansible's timeout")
	fs.DurationVar(&o.OpTimeout, "op-timeout", 8*time.Minute, "limit for each timed command (a 100-host Ansible play takes 3–5 min on 2 vCPUs)")
	fs.DurationVar(&o.ConfirmTimeout, "confirm-timeout", 60*time.Second, "fwpush apply --confirm-timeout")
	timeout := fs.Duration("timeout", 15*time.Minute, "limit for the whole run, lab included")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	fs.BoolVar(&o.Keep, "keep", false, "keep the work directory (system, Ansible project, logs)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	o.Log = func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s fwp-bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	res, err := bench.Run(ctx, o)
	code := 0
	if err != nil {
		fmt.Fprintf(stderr, "fwp-bench: %v\n", err)
		code = 1
	}
	if res == nil {
		return code
	}
	// A failed run still reports what it measured.
	if err := res.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "fwp-bench: %v\n", err)
		return 1
	}
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, res); err != nil {
			fmt.Fprintf(stderr, "fwp-bench: %v\n", err)
			return 1
		}
	}
	return code
}

func writeJSON(path string, res *bench.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = res.WriteJSON(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
