// Package inventory loads devices from the inventories users already have
// (a Nornir SimpleInventory directory, hosts file or config.yaml; an
// Ansible INI or YAML inventory with group_vars/ and host_vars/;
// containerlab's generated files) plus fwpush's networks.yaml, resolves
// every host's attributes, roles and addresses, and selects hosts with
// Ansible's host patterns (ParseLimit).
package inventory
