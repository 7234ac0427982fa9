// Package linuxhost is the session mechanism both Linux drivers share: one
// SSH connection per host, staged files under /var/lib/fwpush, a revert
// timer detached from the session (setsid) and armed before any change,
// confirm from any later session, and persistence by temp file + rename
// only once a change is confirmed. The drivers supply the dialect: how to
// fetch, check, apply and persist their own part.
package linuxhost
