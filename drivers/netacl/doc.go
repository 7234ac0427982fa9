// Package netacl is what the CLI network platforms (IOS-XE, NX-OS, EOS)
// share: one model of the part of a device fwpush owns — ACLs and
// object-groups named FWPUSH-* and their interface bindings — rendered
// from an Intent, printed and parsed in each dialect's syntax, changed
// make-before-break under versioned names, and a session that drives it
// through each platform's own commit-confirm mechanism.
package netacl
