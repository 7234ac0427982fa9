// Package clab holds the containerlab topologies of the lab (real IOS-XE,
// NX-OS and EOS images plus Linux hosts, for users with Docker and those
// images) and turns containerlab's generated Nornir inventory into an
// fwpush inventory for them.
package clab
