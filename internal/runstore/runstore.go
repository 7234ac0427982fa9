// Package runstore opens the run store a command names: a PostgreSQL URL
// is a store a team shares (pgstore), anything else the embedded bbolt
// file (store). Both are a store.Backend.
package runstore

import (
	"os"
	"strings"

	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/internal/store/pgstore"
)

// Env is the environment variable that names the store when --state
// does not.
const Env = "FWPUSH_STATE"

// Location is the store to use: flag (--state), else $FWPUSH_STATE, else
// the default bbolt file under the user's state directory.
func Location(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv(Env); env != "" {
		return env, nil
	}
	return store.DefaultPath()
}

// Open opens the store at loc for writing (creating the file, or
// migrating the database's schema).
func Open(loc string) (store.Backend, error) {
	if pgstore.IsURL(loc) {
		return pgstore.Open(loc)
	}
	return store.Open(loc)
}

// OpenReadOnly opens the store at loc for reading only: nothing is
// created or migrated, and a store that does not exist yet reads as
// empty.
func OpenReadOnly(loc string) (store.Backend, error) {
	if pgstore.IsURL(loc) {
		return pgstore.OpenReadOnly(loc)
	}
	return store.OpenReadOnly(loc)
}

// Redact is loc as it may be printed or recorded: a URL's password is
// replaced.
func Redact(loc string) string {
	if pgstore.IsURL(loc) {
		return pgstore.Redact(loc)
	}
	return loc
}

// RedactArg is a command-line argument as it may be recorded: a store
// URL's password is replaced, given alone or as --flag=URL.
func RedactArg(arg string) string {
	if flag, val, ok := strings.Cut(arg, "="); ok && strings.HasPrefix(flag, "-") {
		return flag + "=" + Redact(val)
	}
	return Redact(arg)
}
