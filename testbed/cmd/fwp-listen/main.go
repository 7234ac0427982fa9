// Command fwp-listen is the lab's probe target, started by package testbed
// inside each host's network namespace: TCP banner and UDP echo.
package main

import (
	"os"

	"github.com/fwpush/fwpush/testbed/internal/listen"
)

func main() {
	os.Exit(listen.Main(os.Args[1:], os.Stdout, os.Stderr))
}
