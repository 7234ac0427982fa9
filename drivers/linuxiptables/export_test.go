package linuxiptables

import "github.com/fwpush/fwpush/internal/intent"

// EdgeIntent is the hand-made Intent the conformance suite renders next
// to the seeds (see cases_test.go).
func EdgeIntent() *intent.Intent { return edgeIntent() }
