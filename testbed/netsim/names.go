package netsim

import (
	"sort"
	"strconv"
)

// Named ports as each dialect accepts and prints them. IOS-XE and NX-OS
// share Cisco's list (the `eq ?` help of those releases); EOS has its own,
// including names for ports IOS prints as numbers (ssh, https), as its
// `show ip access-lists` output does.
var ciscoTCP = map[string]int{
	"bgp": 179, "chargen": 19, "cmd": 514, "daytime": 13, "discard": 9, "domain": 53,
	"echo": 7, "exec": 512, "finger": 79, "ftp": 21, "ftp-data": 20, "gopher": 70,
	"hostname": 101, "ident": 113, "irc": 194, "klogin": 543, "kshell": 544,
	"login": 513, "lpd": 515, "nntp": 119, "pim-auto-rp": 496, "pop2": 109,
	"pop3": 110, "smtp": 25, "sunrpc": 111, "tacacs": 49, "talk": 517,
	"telnet": 23, "time": 37, "uucp": 540, "whois": 43, "www": 80,
}

var ciscoUDP = map[string]int{
	"biff": 512, "bootpc": 68, "bootps": 67, "discard": 9, "dnsix": 195,
	"domain": 53, "echo": 7, "isakmp": 500, "mobile-ip": 434, "nameserver": 42,
	"netbios-dgm": 138, "netbios-ns": 137, "netbios-ss": 139, "non500-isakmp": 4500,
	"ntp": 123, "pim-auto-rp": 496, "rip": 520, "snmp": 161, "snmptrap": 162,
	"sunrpc": 111, "syslog": 514, "tacacs": 49, "talk": 517, "tftp": 69,
	"time": 37, "who": 513, "xdmcp": 177,
}

var eosTCP = map[string]int{
	"bgp": 179, "domain": 53, "ftp": 21, "ftp-data": 20, "https": 443, "ipp": 631,
	"irc": 194, "msdp": 639, "pkt-krb-ipsec": 1293, "pop3": 110, "smtp": 25,
	"snmp": 161, "ssh": 22, "tacacs": 49, "telnet": 23, "time": 37, "tunnel": 604,
	"ups": 401, "uucp": 540, "vmnet": 175, "www": 80, "z39-50": 210,
}

var eosUDP = map[string]int{
	"bfd": 3784, "bootpc": 68, "bootps": 67, "domain": 53, "ntp": 123, "rip": 520,
	"snmp": 161, "snmptrap": 162, "syslog": 514, "tacacs": 49, "tftp": 69,
	"time": 37,
}

// ICMP type names (type only) and type+code names.
var icmp4Types = map[string]int{
	"echo-reply": 0, "unreachable": 3, "source-quench": 4, "redirect": 5,
	"alternate-address": 6, "echo": 8, "router-advertisement": 9,
	"router-solicitation": 10, "time-exceeded": 11, "ttl-exceeded": 11,
	"parameter-problem": 12, "timestamp-request": 13, "timestamp-reply": 14,
	"information-request": 15, "information-reply": 16, "mask-request": 17,
	"mask-reply": 18, "traceroute": 30, "conversion-error": 31,
}

var icmp4Codes = map[string][2]int{
	"net-unreachable": {3, 0}, "host-unreachable": {3, 1}, "protocol-unreachable": {3, 2},
	"port-unreachable": {3, 3}, "packet-too-big": {3, 4}, "source-route-failed": {3, 5},
	"network-unknown": {3, 6}, "host-unknown": {3, 7}, "host-isolated": {3, 8},
	"dod-net-prohibited": {3, 9}, "dod-host-prohibited": {3, 10},
	"net-tos-unreachable": {3, 11}, "host-tos-unreachable": {3, 12},
	"administratively-prohibited": {3, 13}, "host-precedence-unreachable": {3, 14},
	"precedence-unreachable": {3, 15}, "net-redirect": {5, 0}, "host-redirect": {5, 1},
	"net-tos-redirect": {5, 2}, "host-tos-redirect": {5, 3},
	"ttl-exceeded-transit": {11, 0}, "reassembly-timeout": {11, 1},
	"general-parameter-problem": {12, 0}, "option-missing": {12, 1},
}

var icmp6Types = map[string]int{
	"unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
	"echo-request": 128, "echo-reply": 129, "mld-query": 130, "mld-report": 131,
	"mld-reduction": 132, "router-solicitation": 133, "router-advertisement": 134,
	"nd-ns": 135, "nd-na": 136, "redirect": 137,
}

// Protocol keywords and their numbers; -1 is "any IP protocol".
var protoNames = map[string]int{
	"ip": -1, "icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50,
	"ahp": 51, "eigrp": 88, "ospf": 89, "nos": 94, "pim": 103, "pcp": 108,
	"vrrp": 112, "sctp": 132,
}

func portTable(d dialect, proto string) map[string]int {
	eos := d.name() == PlatformEOS
	switch proto {
	case "tcp":
		if eos {
			return eosTCP
		}
		return ciscoTCP
	case "udp":
		if eos {
			return eosUDP
		}
		return ciscoUDP
	}
	return nil
}

// parsePort reads a port number or a name valid for proto.
func parsePort(d dialect, proto, s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, n >= 0 && n <= 65535
	}
	if proto == "tcp-udp" {
		if p, ok := ciscoTCP[s]; ok {
			if q, ok := ciscoUDP[s]; ok && p == q {
				return p, true
			}
		}
		return 0, false
	}
	p, ok := portTable(d, proto)[s]
	return p, ok
}

// portName prints a port as the dialect prints it: the name when it has
// one (IOS-XE, EOS), else the number.
func portName(d dialect, proto string, p int) string {
	names := make([]string, 0, 2)
	for n, v := range portTable(d, proto) {
		if v == p {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return strconv.Itoa(p)
	}
	sort.Strings(names)
	return names[0]
}

func icmpTypeName(v6 bool, t int) string {
	table := icmp4Types
	if v6 {
		table = icmp6Types
	}
	best := ""
	for n, v := range table {
		if v == t && (best == "" || n < best) {
			if n == "ttl-exceeded" && !v6 {
				// IOS prints type 11 as ttl-exceeded (the fixtures show it so).
				return n
			}
			best = n
		}
	}
	return best
}

func protoName(n int) string {
	best := ""
	for name, v := range protoNames {
		if v == n && name != "ip" {
			best = name
		}
	}
	if best == "" {
		return strconv.Itoa(n)
	}
	return best
}
