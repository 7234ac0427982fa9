// Package clab holds the containerlab topologies of the lab (real IOS-XE,
// NX-OS, EOS and vJunos images plus Linux hosts, for users with Docker and
// those images), runs them for fwpush's opt-in tests (FWPUSH_CLAB=1), and
// turns containerlab's generated Nornir inventory into an fwpush
// inventory for them. It is lab code: fwpush never uses it.
package clab
