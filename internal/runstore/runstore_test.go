package runstore_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/internal/pgtest"
	"github.com/fwpush/fwpush/internal/runstore"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/internal/store/pgstore"
)

func TestLocation(t *testing.T) {
	t.Setenv("FWPUSH_STATE", "")
	t.Setenv("XDG_STATE_HOME", "/xdg")
	loc, err := runstore.Location("")
	require.NoError(t, err)
	assert.Equal(t, "/xdg/fwpush/runs.db", loc)
	t.Setenv("FWPUSH_STATE", "postgres://db/fwpush")
	loc, err = runstore.Location("")
	require.NoError(t, err)
	assert.Equal(t, "postgres://db/fwpush", loc)
	loc, err = runstore.Location("/tmp/x.db")
	require.NoError(t, err)
	assert.Equal(t, "/tmp/x.db", loc, "the flag wins")
}

func TestRedactArg(t *testing.T) {
	cases := map[string]string{
		"postgres://u:pw@db/x":           "postgres://u:redacted@db/x",
		"--state=postgresql://u:pw@db/x": "--state=postgresql://u:redacted@db/x",
		"--limit=a=b":                    "--limit=a=b",
		"/var/lib/fwpush/runs.db":        "/var/lib/fwpush/runs.db",
	}
	for in, want := range cases {
		assert.Equal(t, want, runstore.RedactArg(in), in)
	}
}

// TestOpenPicksBackend: a URL opens PostgreSQL, a path opens bbolt.
func TestOpenPicksBackend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	st, err := runstore.Open(path)
	require.NoError(t, err)
	assert.IsType(t, &store.Store{}, st)
	ro, err := runstore.OpenReadOnly(path)
	require.NoError(t, err)
	assert.IsType(t, &store.Store{}, ro)

	c := pgtest.StartT(t)
	url := c.NewDB(t)
	pg, err := runstore.Open(url)
	require.NoError(t, err)
	defer pg.Close()
	assert.IsType(t, &pgstore.Store{}, pg)
	ro, err = runstore.OpenReadOnly(url)
	require.NoError(t, err)
	defer ro.Close()
	assert.IsType(t, &pgstore.Store{}, ro)
}
