package inventory_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/inventory"
)

// TestKnownDataKeysComplete: every data key a driver reads is known, so a
// misspelling of it draws a did-you-mean warning, and none looks like a
// secret, which would hide its value from the driver's plain reads.
func TestKnownDataKeysComplete(t *testing.T) {
	for _, k := range []string{drivers.DataKnownHosts, drivers.DataIdentityFile, drivers.DataProxyJump} {
		assert.Contains(t, inventory.KnownDataKeys, k)
	}
	for _, k := range inventory.KnownDataKeys {
		assert.False(t, inventory.IsSecretKey(k), k)
	}
}
