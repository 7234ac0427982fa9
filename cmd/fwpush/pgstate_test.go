package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/pgtest"
	"github.com/fwpush/fwpush/internal/store"
)

// TestSharedPostgresState: two operators, one PostgreSQL run store. Alice
// applies with --state URL; Bob, with FWPUSH_STATE naming the same
// database, sees her run in history and rolls back what she pushed. The
// URL's password is never printed nor recorded in the run's command.
func TestSharedPostgresState(t *testing.T) {
	devs := fakeFleet(t)
	c := pgtest.StartT(t)
	u, err := url.Parse(c.NewDB(t))
	require.NoError(t, err)
	u.User = url.UserPassword("fwpush", "pw-s3cret") // the throwaway cluster trusts local users
	state := u.String()

	code, out, errOut := fwpush(t, "apply", "-i", waInv, "-p", waPB, "--state", state, "--limit", "web-1", "--confirm-timeout", "10s", "--format", "json")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	var applied struct{ Run string }
	require.NoError(t, json.Unmarshal([]byte(out), &applied), out)
	require.NotEmpty(t, devs["web-1"].Running().String())

	t.Setenv("FWPUSH_STATE", state)
	code, out, errOut = fwpush(t, "history", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var runs []store.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &runs), out)
	require.Len(t, runs, 1)
	assert.Equal(t, applied.Run, runs[0].ID)
	assert.Equal(t, map[string]int{"confirmed": 1}, runs[0].Counts)
	assert.Contains(t, runs[0].Command, "--state postgres://fwpush:redacted@")
	assert.NotContains(t, runs[0].Command, "pw-s3cret")

	code, out, errOut = fwpush(t, "rollback", "web-1", "--confirm-timeout", "10s")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "restore web-1 to its config from before run "+applied.Run)
	assert.Equal(t, "", devs["web-1"].Running().String(), "web-1 back to before Alice's apply")

	code, out, errOut = fwpush(t, "history", "web-1")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 2, strings.Count(out, "confirmed"), out)
	assert.Contains(t, out, "rollback")
	assert.NotContains(t, out+errOut, "pw-s3cret")

	code, _, errOut = fwpush(t, "history", "--state", "postgres://fwpush:pw-s3cret@/nodb?host=/nonexistent&connect_timeout=2")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "run store postgres://fwpush:redacted@")
	assert.NotContains(t, errOut, "pw-s3cret")
}
