// Package netsim is the fwpush lab simulator of three vendor CLIs — Cisco
// IOS-XE, Cisco NX-OS and Arista EOS — served over SSH, for tests and the
// lab. It is not a Cisco or Arista product and says so in its banner and in
// `show version`: it imitates the prompts, modes, error strings, show output
// formats and commit-confirm mechanisms those devices document and print,
// checked against published device output, so that fwpush's drivers can be
// written and tested without real devices. Every change to the simulated
// running configuration is translated into an enforce.State and handed to a
// callback, so a lab namespace can enforce the ACLs on real packets.
//
// README.md beside this file lists, per dialect, what is modelled, its
// sources, and what is not modelled.
package netsim
