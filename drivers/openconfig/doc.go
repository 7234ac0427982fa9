// Package openconfig renders an Intent's network ACLs as openconfig-acl
// ACL sets (ACL_IPV4 and ACL_IPV6, with openconfig-defined-sets prefix and
// port sets) bound to interfaces, and pushes them over NETCONF with a
// confirmed commit: a vendor-neutral driver for the devices that accept
// OpenConfig ACLs (Arista EOS, Cisco IOS-XR and NX-OS, Junos, when
// enabled).
package openconfig
