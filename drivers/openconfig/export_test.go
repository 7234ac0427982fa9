package openconfig

import (
	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/netconfdev"
)

// ExpandCollapse writes a canonical config out as a device without
// defined-sets support holds it, and reads it back.
func ExpandCollapse(text string) (expanded, back string, err error) {
	c, err := parseText(text)
	if err != nil {
		return "", "", err
	}
	x, err := expand(c)
	if err != nil {
		return "", "", err
	}
	return x.text(), collapse(x).text(), nil
}

// Read parses a device's get-config data.
func Read(data string, sets bool) (netconfdev.State, error) { return read(data, sets) }

// Edit is the edit from st to desired.
func Edit(sets bool, st netconfdev.State, desired drivers.Config, m *netconfdev.Marker) (string, error) {
	return schema{sets: sets}.Edit(st, desired, m)
}
