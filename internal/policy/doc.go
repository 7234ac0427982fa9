// Package policy parses playbooks: the communication matrix of roles,
// services and flows, plus push options.
package policy
