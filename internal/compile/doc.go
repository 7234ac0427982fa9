// Package compile turns a playbook and an inventory into one Intent per
// device: resolved addresses, merged sets, always-on rules, default deny.
package compile
