// Package testbed builds a lab of Linux hosts as network namespaces, each
// with a real sshd, a probe listener and its own kernel firewall, joined by a
// bridge — or, in a routed lab, by segments and router namespaces — for
// fwpush's integration tests and `make lab-up`.
package testbed
