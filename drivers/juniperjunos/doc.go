// Package juniperjunos renders an Intent's network ACLs as Junos firewall
// filters (one term per rule, prefix lists for address sets, interface
// bindings) and pushes them over NETCONF with a confirmed commit, in
// either of Junos' XML dialects: the native Junos XML API or the
// YANG-compliant standard one.
package juniperjunos
