//go:build standins

package main

import "github.com/fwpush/fwpush/drivers/driverstest"

// Built with -tags standins (the tests do), fwp-lab also knows the router
// and Windows platforms the tests' inventories name, as stand-ins.
func init() { registry = driverstest.LabRegistry }
