// Package engine runs one task per device with bounded concurrency, in
// Ansible-like serial batches that stop when a batch fails too much, and
// reports each device's result as it finishes.
package engine
