// Package netconfdev is the push engine NETCONF platforms share: a trial
// is a confirmed commit with persist plus a marker in the owned
// configuration, taken under the candidate's lock, confirmed from a new
// session, undone on every failure path (discard-changes, unlock). The
// platform gives its schema (how its owned part reads and is edited) and
// its dialect (the RPCs).
package netconfdev
