package journal_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func holdOpen(t *testing.T, path string) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	require.NoError(t, err)
	fmt.Print("held")
	time.Sleep(30 * time.Second) // killed by the parent long before
	_ = db.Close()
}
