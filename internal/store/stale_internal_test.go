package store

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReusedPidIsStale: a live pid whose start time differs from the
// holder's is another process, so the lock is stale.
func TestReusedPidIsStale(t *testing.T) {
	host, _ := os.Hostname()
	start, err := procStart(os.Getpid())
	require.NoError(t, err)
	cases := map[string]struct {
		l     Lock
		stale bool
	}{
		"live holder":         {Lock{Hostname: host, PID: os.Getpid(), Start: start}, false},
		"live, start unknown": {Lock{Hostname: host, PID: os.Getpid()}, false},
		"pid reused":          {Lock{Hostname: host, PID: os.Getpid(), Start: start + 1}, true},
		"no pid":              {Lock{Hostname: host}, true},
		"other machine":       {Lock{Hostname: host + ".other", PID: 1 << 30}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.stale, stale(tc.l)) })
	}
}
