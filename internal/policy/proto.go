package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// Proto is an IP protocol number.
type Proto uint8

// The protocols the renderers name; any other number is allowed too.
const (
	ICMP   Proto = 1
	TCP    Proto = 6
	UDP    Proto = 17
	GRE    Proto = 47
	ESP    Proto = 50
	AH     Proto = 51
	ICMPv6 Proto = 58
	OSPF   Proto = 89
	VRRP   Proto = 112
	SCTP   Proto = 132
)

var protoNames = map[string]Proto{
	"icmp": ICMP, "tcp": TCP, "udp": UDP, "gre": GRE, "esp": ESP, "ah": AH,
	"icmpv6": ICMPv6, "ipv6-icmp": ICMPv6, "ospf": OSPF, "vrrp": VRRP, "sctp": SCTP,
	"igmp": 2, "pim": 103,
}

func (p Proto) String() string {
	switch p {
	case ICMPv6:
		return "icmpv6"
	case 2:
		return "igmp"
	case 103:
		return "pim"
	}
	for n, v := range protoNames {
		if v == p && n != "ipv6-icmp" {
			return n
		}
	}
	return strconv.Itoa(int(p))
}

// HasPorts reports whether the protocol carries port numbers.
func (p Proto) HasPorts() bool { return p == TCP || p == UDP || p == SCTP }

// IsICMP reports whether the protocol is ICMP or ICMPv6.
func (p Proto) IsICMP() bool { return p == ICMP || p == ICMPv6 }

// MarshalText renders the protocol by name in JSON.
func (p Proto) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// ParseProto accepts a name or a number 0-255.
func ParseProto(s string) (Proto, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if p, ok := protoNames[s]; ok {
		return p, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("unknown protocol %s", yamlsrc.Quote(s))
	}
	return Proto(n), nil
}

// ICMP type names, per family.
var icmpTypes = map[string]int{
	"echo-reply": 0, "destination-unreachable": 3, "source-quench": 4, "redirect": 5,
	"echo-request": 8, "router-advertisement": 9, "router-solicitation": 10,
	"time-exceeded": 11, "parameter-problem": 12, "timestamp-request": 13, "timestamp-reply": 14,
}

var icmpv6Types = map[string]int{
	"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
	"echo-request": 128, "echo-reply": 129, "mld-listener-query": 130, "mld-listener-report": 131,
	"mld-listener-done": 132, "nd-router-solicit": 133, "nd-router-advert": 134,
	"nd-neighbor-solicit": 135, "nd-neighbor-advert": 136, "nd-redirect": 137, "mld2-listener-report": 143,
}

// ParseICMPType accepts a type name of the protocol's family or a number.
func ParseICMPType(p Proto, s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	table := icmpTypes
	if p == ICMPv6 {
		table = icmpv6Types
	}
	if t, ok := table[s]; ok {
		return t, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("unknown %s type %s", p, yamlsrc.Quote(s))
	}
	return n, nil
}

// ICMPTypeName names an ICMP type of the protocol's family, or gives its
// number.
func ICMPTypeName(p Proto, t int) string {
	table := icmpTypes
	if p == ICMPv6 {
		table = icmpv6Types
	}
	names := make([]string, 0, 1)
	for n, v := range table {
		if v == t {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return strconv.Itoa(int(t))
	}
	sort.Strings(names)
	return names[0]
}
