package netconflab

import (
	"encoding/xml"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/enforce"
)

// The agent's reading of committed openconfig-acl configuration, written
// apart from the driver: every ACL set bound to an interface of the lab's
// router, its entries in sequence order, first match decides, and a packet
// no entry matches is dropped (OpenConfig's default for an ACL set).

const openconfigFilter = `<acl xmlns="http://openconfig.net/yang/acl"/><defined-sets xmlns="http://openconfig.net/yang/defined-sets"/>`

type ocConfig struct {
	Sets []struct {
		Name    string `xml:"name"`
		Type    string `xml:"type"`
		Entries []struct {
			Seq  string `xml:"sequence-id"`
			IPv4 *ocIP  `xml:"ipv4"`
			IPv6 *ocIP  `xml:"ipv6"`
			Tr   struct {
				SrcPort    string `xml:"source-port"`
				SrcPortSet string `xml:"source-port-set"`
				DstPort    string `xml:"destination-port"`
				DstPortSet string `xml:"destination-port-set"`
				Builtin    string `xml:"builtin-detail"`
			} `xml:"transport>config"`
			Action string `xml:"actions>config>forwarding-action"`
			Log    string `xml:"actions>config>log-action"`
		} `xml:"acl-entries>acl-entry"`
	} `xml:"acl>acl-sets>acl-set"`
	Ifs []struct {
		ID      string    `xml:"id"`
		Ingress []ocBound `xml:"ingress-acl-sets>ingress-acl-set"`
		Egress  []ocBound `xml:"egress-acl-sets>egress-acl-set"`
	} `xml:"acl>interfaces>interface"`
	V4    []ocPrefixSet `xml:"defined-sets>ipv4-prefix-sets>ipv4-prefix-set"`
	V6    []ocPrefixSet `xml:"defined-sets>ipv6-prefix-sets>ipv6-prefix-set"`
	Ports []struct {
		Name  string   `xml:"name"`
		Ports []string `xml:"config>port"`
	} `xml:"defined-sets>port-sets>port-set"`
}

type ocIP struct {
	Src      string `xml:"config>source-address"`
	SrcSet   string `xml:"config>source-address-prefix-set"`
	Dst      string `xml:"config>destination-address"`
	DstSet   string `xml:"config>destination-address-prefix-set"`
	Protocol string `xml:"config>protocol"`
	ICMP4    string `xml:"icmpv4>config>type"`
	ICMP6    string `xml:"icmpv6>config>type"`
}

type ocBound struct {
	Set  string `xml:"set-name"`
	Type string `xml:"type"`
}

type ocPrefixSet struct {
	Name     string   `xml:"name"`
	Prefixes []string `xml:"config>prefix"`
}

func ident(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func openconfigState(data string, r testbed.RouterSpec) (enforce.State, error) {
	var c ocConfig
	if strings.TrimSpace(data) != "" {
		if err := xml.Unmarshal([]byte("<data>"+data+"</data>"), &c); err != nil {
			return enforce.State{}, fmt.Errorf("openconfig config: %w", err)
		}
	}
	prefixes := map[string][]netip.Prefix{}
	for fam, sets := range map[int][]ocPrefixSet{4: c.V4, 6: c.V6} {
		for _, s := range sets {
			for _, p := range s.Prefixes {
				pp, err := netip.ParsePrefix(strings.TrimSpace(p))
				if err != nil {
					return enforce.State{}, fmt.Errorf("prefix set %s: %w", s.Name, err)
				}
				k := strconv.Itoa(fam) + strings.TrimSpace(s.Name)
				prefixes[k] = append(prefixes[k], pp)
			}
		}
	}
	portSets := map[string][]string{}
	for _, p := range c.Ports {
		portSets[strings.TrimSpace(p.Name)] = p.Ports
	}
	type setKey struct{ name, typ string }
	rules := map[setKey][]enforce.Rule{}
	for _, s := range c.Sets {
		k := setKey{strings.TrimSpace(s.Name), ident(s.Type)}
		fam := 4
		if k.typ == "ACL_IPV6" {
			fam = 6
		}
		entries := s.Entries
		sort.SliceStable(entries, func(i, j int) bool {
			a, _ := strconv.Atoi(strings.TrimSpace(entries[i].Seq))
			b, _ := strconv.Atoi(strings.TrimSpace(entries[j].Seq))
			return a < b
		})
		for _, e := range entries {
			rule := enforce.Rule{Family: fam, Comment: k.name + " " + strings.TrimSpace(e.Seq), Log: ident(e.Log) == "LOG_SYSLOG"}
			switch ident(e.Action) {
			case "ACCEPT":
				rule.Action = enforce.Permit
			case "REJECT":
				rule.Action = enforce.Reject
			default:
				rule.Action = enforce.Deny
			}
			ip := e.IPv4
			if fam == 6 {
				ip = e.IPv6
			}
			matchable := true
			if ip != nil {
				side := func(literal, set string) []netip.Prefix {
					var out []netip.Prefix
					if p, err := netip.ParsePrefix(strings.TrimSpace(literal)); err == nil {
						out = append(out, p)
					}
					if set = strings.TrimSpace(set); set != "" {
						out = append(out, prefixes[strconv.Itoa(fam)+set]...)
						if len(out) == 0 {
							matchable = false
						}
					}
					return out
				}
				rule.Src, rule.Dst = side(ip.Src, ip.SrcSet), side(ip.Dst, ip.DstSet)
				if p := ident(ip.Protocol); p != "" {
					n, err := ocProto(p)
					if err != nil {
						return enforce.State{}, fmt.Errorf("%s entry %s: %w", k.name, e.Seq, err)
					}
					rule.Proto = n
				}
				if t := ident(ip.ICMP4 + ip.ICMP6); t != "" {
					n, ok := ocICMP[fam][t]
					if !ok {
						return enforce.State{}, fmt.Errorf("%s entry %s: ICMP type %s", k.name, e.Seq, t)
					}
					rule.ICMPTypes = []uint8{n}
				}
			}
			var err error
			if rule.SrcPorts, err = ocPorts(e.Tr.SrcPort, portSets[strings.TrimSpace(e.Tr.SrcPortSet)]); err != nil {
				return enforce.State{}, fmt.Errorf("%s entry %s: %w", k.name, e.Seq, err)
			}
			if rule.DstPorts, err = ocPorts(e.Tr.DstPort, portSets[strings.TrimSpace(e.Tr.DstPortSet)]); err != nil {
				return enforce.State{}, fmt.Errorf("%s entry %s: %w", k.name, e.Seq, err)
			}
			if ident(e.Tr.Builtin) == "TCP_ESTABLISHED" {
				rule.Established = true
			}
			if matchable {
				rules[k] = append(rules[k], rule)
			}
		}
	}
	var st enforce.State
	for _, in := range c.Ifs {
		linux, ok := r.LinuxName(strings.TrimSpace(in.ID))
		if !ok {
			continue
		}
		for _, d := range []struct {
			dir   enforce.Direction
			bound []ocBound
		}{{enforce.In, in.Ingress}, {enforce.Out, in.Egress}} {
			if len(d.bound) == 0 {
				continue
			}
			f := &enforce.Filter{Default: enforce.Permit}
			var names []string
			for _, b := range d.bound {
				k := setKey{strings.TrimSpace(b.Set), ident(b.Type)}
				fam := 4
				if k.typ == "ACL_IPV6" {
					fam = 6
				}
				names = append(names, k.name+"/"+k.typ)
				f.Rules = append(f.Rules, rules[k]...)
				f.Rules = append(f.Rules, enforce.Rule{Action: enforce.Deny, Family: fam, Comment: k.name + " default drop"})
			}
			f.Name = strings.Join(names, "+")
			st.Bindings = append(st.Bindings, enforce.Binding{Interface: linux, Direction: d.dir, Filter: f, TransitOnly: d.dir == enforce.Out})
		}
	}
	sort.Slice(st.Bindings, func(i, j int) bool {
		return st.Bindings[i].Interface+string(st.Bindings[i].Direction) < st.Bindings[j].Interface+string(st.Bindings[j].Direction)
	})
	return st, nil
}

var ocProtoIDs = map[string]uint8{"IP_TCP": 6, "IP_UDP": 17, "IP_ICMP": 1, "IP_IGMP": 2, "IP_PIM": 103, "IP_RSVP": 46,
	"IP_GRE": 47, "IP_AUTH": 51, "IP_L2TP": 115, "IP_IN_IP": 4}

func ocProto(s string) (uint8, error) {
	if n, ok := ocProtoIDs[s]; ok {
		return n, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("protocol %q", s)
	}
	return uint8(n), nil
}

var ocICMP = map[int]map[string]uint8{
	4: {"ECHO_REPLY": 0, "DST_UNREACHABLE": 3, "REDIRECT": 5, "ECHO": 8, "ROUTER_ADVERTISEMENT": 9, "ROUTER_SOLICITATION": 10,
		"TIME_EXCEEDED": 11, "PARAM_PROBLEM": 12, "TIMESTAMP": 13, "TIMESTAMP_REPLY": 14, "TRACEROUTE": 30},
	6: {"DESTINATION_UNREACHABLE": 1, "PACKET_TOO_BIG": 2, "TIME_EXCEEDED": 3, "PARAMETER_PROBLEM": 4, "ECHO_REQUEST": 128,
		"ECHO_REPLY": 129, "MULTICAST_LISTENER_QUERY": 130, "MULTICAST_LISTENER_REPORT": 131, "MULTICAST_LISTENER_DONE": 132,
		"ROUTER_SOLICITATION": 133, "ROUTER_ADVERTISEMENT": 134, "NEIGHBOR_SOLICITATION": 135, "NEIGHBOR_ADVERTISEMENT": 136, "REDIRECT": 137},
}

// ocPorts reads a port (80), a range (8000..8080), ANY, or a port set's
// members.
func ocPorts(inline string, set []string) ([]enforce.PortRange, error) {
	vals := set
	if s := strings.TrimSpace(inline); s != "" {
		vals = append([]string{s}, vals...)
	}
	var out []enforce.PortRange
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if v == "ANY" {
			return nil, nil
		}
		lo, hi, isRange := strings.Cut(v, "..")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.ParseUint(lo, 10, 16)
		h, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || l > h {
			return nil, fmt.Errorf("port %q", v)
		}
		out = append(out, enforce.PortRange{Lo: uint16(l), Hi: uint16(h)})
	}
	return out, nil
}
