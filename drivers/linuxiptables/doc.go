// Package linuxiptables renders an Intent as iptables and ip6tables FWPUSH-*
// chains, in exactly the text `iptables-save -t filter` prints for them.
package linuxiptables
