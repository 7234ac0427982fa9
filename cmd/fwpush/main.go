// Command fwpush turns a communication matrix into firewall policy on real
// devices: validate, plan (dry-run diff), render, explain, apply.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	os.Exit(runWithSignals(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, sigs, os.Exit))
}

// runWithSignals is run under SIGINT/SIGTERM handling (signals.go): the
// first signal cancels the command, or stops a push softly; a second one
// calls exit at once.
func runWithSignals(args []string, stdin io.Reader, stdout, stderr io.Writer, sigs <-chan os.Signal, exit func(int)) int {
	ctx, iv := withInterrupts(context.Background(), sigs, stderr, exit)
	defer iv.done()
	return run(ctx, args, stdin, stdout, stderr)
}
