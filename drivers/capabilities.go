package drivers

import "time"

// Capabilities is what a platform can express and do. The compiler
// checks every Intent against its device's capabilities before rendering
// and refuses, naming the flow and the capability, what cannot be
// expressed (never silently dropping a rule).
type Capabilities struct {
	// HostFirewall platforms filter their own traffic (input, output);
	// NetworkACL platforms filter transit traffic with ACLs bound to
	// interfaces. A platform may be both.
	HostFirewall bool `json:"host_firewall"`
	NetworkACL   bool `json:"network_acl"`
	// Egress: a host firewall can filter what the host sends.
	Egress bool `json:"egress"`
	IPv6   bool `json:"ipv6"`
	// Stateful platforms track connections, so replies need no rule;
	// stateless ACLs get return-traffic terms from the compiler.
	Stateful bool `json:"stateful"`
	// AddressSets and PortSets: native named sets (nft sets, object-
	// groups, prefix-lists); without them sets are expanded.
	AddressSets bool `json:"address_sets"`
	PortSets    bool `json:"port_sets"`
	Logging     bool `json:"logging"`
	// Reject: can answer a denied packet (TCP reset, ICMP unreachable)
	// rather than only drop it.
	Reject bool `json:"reject"`
	// ICMPTypes: can match individual ICMP types.
	ICMPTypes bool `json:"icmp_types"`
	// CommitConfirm: a device-side revert fires unless confirmed;
	// TimerGranularity is the unit its timer counts in (a minute on a
	// CLI timer, a second on Linux and NETCONF), so a 90 s trial lasts
	// two minutes on a minute timer.
	CommitConfirm    bool          `json:"commit_confirm"`
	TimerGranularity time.Duration `json:"timer_granularity_ns"`
	// ProbeSource: the device can run verify's probes (bash /dev/tcp and
	// /dev/udp over an exec channel).
	ProbeSource bool `json:"probe_source"`
}
