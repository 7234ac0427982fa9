package linuxnftables

import (
	"testing"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/intent"
)

// EdgeIntent is the hand-made Intent the conformance suite renders next
// to the seeds (see cases_test.go).
func EdgeIntent() *intent.Intent { return edgeIntent() }

// LabLoader returns the conformance suite's Load: every render is loaded
// into one throwaway namespace's kernel in turn (see labLoad).
func LabLoader(t *testing.T) func(*testing.T, drivers.Config) {
	ns := labNamespace(t)
	return func(t *testing.T, c drivers.Config) { labLoad(t, ns, c) }
}
