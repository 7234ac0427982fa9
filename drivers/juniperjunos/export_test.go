package juniperjunos

import (
	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/netconfdev"
)

// Hooks for the external tests.
var (
	ParseText    = func(s string) (string, error) { c, err := parseText(s); return c.text(), err }
	Read         = read
	NestedErrors = nestedErrors
)

// Edit is the dialect's edit of the owned part from st to desired.
func Edit(dialect string, st netconfdev.State, desired drivers.Config, m *netconfdev.Marker) (string, error) {
	return schema{dialect: dialect}.Edit(st, desired, m)
}
