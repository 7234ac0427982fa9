package inventory

import "strings"

// Platforms fwpush knows, by canonical id.
const (
	LinuxNftables = "linux-nftables"
	LinuxIptables = "linux-iptables"
	CiscoIOS      = "cisco-ios"
	CiscoNXOS     = "cisco-nxos"
	AristaEOS     = "arista-eos"
	JuniperJunos  = "juniper-junos"
	Windows       = "windows"
)

// platformAliases maps Nornir, NAPALM, Netmiko and scrapli platform names to
// ours, so existing inventories (and containerlab's generated ones) load as
// they are.
var platformAliases = map[string]string{
	"linux-nftables": LinuxNftables, "linux": LinuxNftables, "nftables": LinuxNftables,
	"linux-iptables": LinuxIptables, "iptables": LinuxIptables,
	"cisco-ios": CiscoIOS, "ios": CiscoIOS, "iosxe": CiscoIOS, "ios-xe": CiscoIOS,
	"cisco_ios": CiscoIOS, "cisco_iosxe": CiscoIOS, "cisco_xe": CiscoIOS,
	"cisco-nxos": CiscoNXOS, "nxos": CiscoNXOS, "nxos_ssh": CiscoNXOS, "cisco_nxos": CiscoNXOS,
	"arista-eos": AristaEOS, "eos": AristaEOS, "arista_eos": AristaEOS,
	"juniper-junos": JuniperJunos, "junos": JuniperJunos, "juniper_junos": JuniperJunos, "juniper": JuniperJunos,
	"windows": Windows, "win": Windows,
}

// NormalizePlatform returns the canonical platform id for name, and false
// when the name is unknown.
func NormalizePlatform(name string) (string, bool) {
	p, ok := platformAliases[strings.ToLower(strings.TrimSpace(name))]
	return p, ok
}

// IsNetworkDevice reports whether the platform filters transit traffic with
// interface ACLs rather than its own input/output chains.
func IsNetworkDevice(platform string) bool {
	switch platform {
	case CiscoIOS, CiscoNXOS, AristaEOS, JuniperJunos:
		return true
	}
	return false
}

// DefaultPort is the management port of a platform when the inventory names
// none.
func DefaultPort(platform string) int {
	if platform == Windows {
		return 5986
	}
	return 22
}
