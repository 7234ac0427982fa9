// Package e2e holds the end-to-end tests: every seed system pushed for real
// to a lab of network namespaces with real sshd and kernel firewalls.
package e2e
