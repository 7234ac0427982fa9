// Package store is fwpush's run store: one embedded bbolt file holding every
// run, each device's journal entry (plan, before/after snapshots, phase,
// outcome) and the per-device locks. It is opened for one short transaction
// at a time, so several fwpush processes can share it.
package store
