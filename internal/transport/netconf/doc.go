// Package netconf is fwpush's NETCONF client (RFC 6241 over SSH, RFC 6242): hello and capabilities, both framings, message-id matching, rpc-error parsing and the operations of a commit-confirmed push.
package netconf
