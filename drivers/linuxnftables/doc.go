// Package linuxnftables renders an Intent as the nft table inet fwpush, in
// exactly the text `nft list table inet fwpush` prints back.
package linuxnftables
