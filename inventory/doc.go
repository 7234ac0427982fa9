// Package inventory loads devices from a Nornir SimpleInventory directory
// (hosts.yaml, groups.yaml, defaults.yaml) plus fwpush's networks.yaml, and
// resolves every host's attributes, roles and addresses.
package inventory
