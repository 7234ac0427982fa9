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

// The agent's reading of a committed Junos configuration, written apart
// from the driver on purpose: a driver bug must not be mirrored in what
// the lab enforces. It reads every filter and binding, fwpush's or not,
// as Junos would enforce them: terms in order, the first whose from
// matches decides, and a packet no term matches is discarded.

const junosFilter = `<configuration xmlns="http://yang.juniper.net/junos/conf/root">` +
	`<firewall xmlns="http://yang.juniper.net/junos/conf/firewall"/>` +
	`<policy-options xmlns="http://yang.juniper.net/junos/conf/policy-options"/>` +
	`<interfaces xmlns="http://yang.juniper.net/junos/conf/interfaces"/></configuration>`

type jConfig struct {
	Lists []struct {
		Name  string   `xml:"name"`
		Items []string `xml:"prefix-list-item>name"`
	} `xml:"policy-options>prefix-list"`
	Inet  []jFilter `xml:"firewall>family>inet>filter"`
	Inet6 []jFilter `xml:"firewall>family>inet6>filter"`
	Ifs   []struct {
		Name  string `xml:"name"`
		Units []struct {
			Name  string  `xml:"name"`
			Inet  *jIfFam `xml:"family>inet"`
			Inet6 *jIfFam `xml:"family>inet6"`
		} `xml:"unit"`
	} `xml:"interfaces>interface"`
}

type jIfFam struct {
	Input  string `xml:"filter>input>filter-name"`
	Output string `xml:"filter>output>filter-name"`
}

type jFilter struct {
	Name  string `xml:"name"`
	Terms []struct {
		Name string `xml:"name"`
		From struct {
			SrcLists []string  `xml:"source-prefix-list>name"`
			DstLists []string  `xml:"destination-prefix-list>name"`
			SrcAddrs []string  `xml:"source-address>name"`
			DstAddrs []string  `xml:"destination-address>name"`
			Protocol []string  `xml:"protocol"`
			Next     []string  `xml:"next-header"`
			SrcPorts []string  `xml:"source-port"`
			DstPorts []string  `xml:"destination-port"`
			ICMP     []string  `xml:"icmp-type"`
			TCPEst   *struct{} `xml:"tcp-established"`
		} `xml:"from"`
		Then struct {
			Accept  *struct{} `xml:"accept"`
			Discard *struct{} `xml:"discard"`
			Reject  *struct{} `xml:"reject"`
			Syslog  *struct{} `xml:"syslog"`
		} `xml:"then"`
	} `xml:"term"`
}

// junosState translates running into what the router enforces.
func junosState(data string, r testbed.RouterSpec) (enforce.State, error) {
	var c jConfig
	if strings.TrimSpace(data) != "" {
		if err := xml.Unmarshal([]byte(data), &c); err != nil {
			return enforce.State{}, fmt.Errorf("junos config: %w", err)
		}
	}
	lists := map[string][]netip.Prefix{}
	for _, l := range c.Lists {
		for _, it := range l.Items {
			p, err := netip.ParsePrefix(strings.TrimSpace(it))
			if err != nil {
				return enforce.State{}, fmt.Errorf("prefix-list %s: %w", l.Name, err)
			}
			lists[strings.TrimSpace(l.Name)] = append(lists[strings.TrimSpace(l.Name)], p)
		}
	}
	filters := map[int]map[string]jFilter{4: {}, 6: {}}
	for _, f := range c.Inet {
		filters[4][strings.TrimSpace(f.Name)] = f
	}
	for _, f := range c.Inet6 {
		filters[6][strings.TrimSpace(f.Name)] = f
	}
	// One enforce filter per Linux interface and direction, holding the
	// bound inet and inet6 filters' rules, each family closed by Junos'
	// implicit discard; a family with no filter bound passes.
	type slot struct{ linux, dir string }
	bound := map[slot]map[int]string{}
	for _, in := range c.Ifs {
		for _, u := range in.Units {
			linux, ok := linuxName(r, strings.TrimSpace(in.Name), strings.TrimSpace(u.Name))
			if !ok {
				continue // not an interface of the lab's router
			}
			for fam, f := range map[int]*jIfFam{4: u.Inet, 6: u.Inet6} {
				if f == nil {
					continue
				}
				for dir, name := range map[string]string{"in": f.Input, "out": f.Output} {
					if name = strings.TrimSpace(name); name != "" {
						k := slot{linux, dir}
						if bound[k] == nil {
							bound[k] = map[int]string{}
						}
						bound[k][fam] = name
					}
				}
			}
		}
	}
	var st enforce.State
	keys := make([]slot, 0, len(bound))
	for k := range bound {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].linux+keys[i].dir < keys[j].linux+keys[j].dir })
	for _, k := range keys {
		ef := &enforce.Filter{Name: "junos", Default: enforce.Permit}
		var names []string
		for _, fam := range []int{4, 6} {
			name, ok := bound[k][fam]
			if !ok {
				continue
			}
			names = append(names, name)
			f, ok := filters[fam][name]
			if !ok {
				return enforce.State{}, fmt.Errorf("interface %s %s: filter %s (family %d) is not defined", k.linux, k.dir, name, fam)
			}
			rules, err := junosRules(f, fam, lists)
			if err != nil {
				return enforce.State{}, err
			}
			ef.Rules = append(ef.Rules, rules...)
			ef.Rules = append(ef.Rules, enforce.Rule{Action: enforce.Deny, Family: fam, Comment: "implicit discard"})
		}
		ef.Name = strings.Join(names, "+")
		b := enforce.Binding{Interface: k.linux, Direction: enforce.Direction(k.dir), Filter: ef}
		// An output filter sees what the router forwards, not what it
		// sends itself; an input filter sees both.
		b.TransitOnly = k.dir == "out"
		st.Bindings = append(st.Bindings, b)
	}
	return st, nil
}

// linuxName maps a Junos interface and unit to the lab router's Linux
// interface: its lab_interfaces name it "ge-0/0/1.0", or "ge-0/0/1" for
// unit 0.
func linuxName(r testbed.RouterSpec, iface, unit string) (string, bool) {
	for _, n := range []string{iface + "." + unit, iface} {
		if n == iface && unit != "0" {
			continue
		}
		if l, ok := r.LinuxName(n); ok {
			return l, true
		}
	}
	return "", false
}

func junosRules(f jFilter, fam int, lists map[string][]netip.Prefix) ([]enforce.Rule, error) {
	var out []enforce.Rule
	for _, t := range f.Terms {
		r := enforce.Rule{Family: fam, Comment: strings.TrimSpace(t.Name)}
		switch {
		case t.Then.Accept != nil:
			r.Action = enforce.Permit
		case t.Then.Discard != nil:
			r.Action = enforce.Deny
		case t.Then.Reject != nil:
			r.Action = enforce.Reject
		default:
			r.Action = enforce.Permit // Junos accepts when a term names no action
		}
		r.Log = t.Then.Syslog != nil
		fr := t.From
		matchable := true
		addrs := func(lnames, literal []string) []netip.Prefix {
			var ps []netip.Prefix
			for _, n := range lnames {
				for _, p := range lists[strings.TrimSpace(n)] {
					if p.Addr().Is4() == (fam == 4) {
						ps = append(ps, p)
					}
				}
			}
			for _, s := range literal {
				if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil && p.Addr().Is4() == (fam == 4) {
					ps = append(ps, p)
				}
			}
			if len(lnames)+len(literal) > 0 && len(ps) == 0 {
				matchable = false // lists with nothing of this family match nothing
			}
			return ps
		}
		r.Src = addrs(fr.SrcLists, fr.SrcAddrs)
		r.Dst = addrs(fr.DstLists, fr.DstAddrs)
		protos := append(append([]string(nil), fr.Protocol...), fr.Next...)
		if len(protos) > 1 {
			return nil, fmt.Errorf("filter %s term %s: the lab translates one protocol per term", f.Name, t.Name)
		}
		if len(protos) == 1 {
			p, err := protoNumber(strings.TrimSpace(protos[0]))
			if err != nil {
				return nil, fmt.Errorf("filter %s term %s: %w", f.Name, t.Name, err)
			}
			r.Proto = p
		}
		var err error
		if r.SrcPorts, err = portRanges(fr.SrcPorts); err != nil {
			return nil, fmt.Errorf("filter %s term %s: %w", f.Name, t.Name, err)
		}
		if r.DstPorts, err = portRanges(fr.DstPorts); err != nil {
			return nil, fmt.Errorf("filter %s term %s: %w", f.Name, t.Name, err)
		}
		for _, ty := range fr.ICMP {
			n, err := icmpNumber(fam, strings.TrimSpace(ty))
			if err != nil {
				return nil, fmt.Errorf("filter %s term %s: %w", f.Name, t.Name, err)
			}
			r.ICMPTypes = append(r.ICMPTypes, n)
		}
		if fr.TCPEst != nil {
			r.Established, r.Proto = true, 6
		}
		if matchable {
			out = append(out, r)
		}
	}
	return out, nil
}

var protoNumbers = map[string]uint8{"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
	"icmp6": 58, "icmpv6": 58, "ospf": 89, "pim": 103, "vrrp": 112, "sctp": 132}

func protoNumber(s string) (uint8, error) {
	if n, ok := protoNumbers[s]; ok {
		return n, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("protocol %q", s)
	}
	return uint8(n), nil
}

func portRanges(vals []string) ([]enforce.PortRange, error) {
	var out []enforce.PortRange
	for _, v := range vals {
		v = strings.TrimSpace(v)
		lo, hi, isRange := strings.Cut(v, "-")
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

var icmpNumbers = map[int]map[string]uint8{
	4: {"echo-reply": 0, "unreachable": 3, "source-quench": 4, "redirect": 5, "echo-request": 8, "router-advertisement": 9,
		"router-solicit": 10, "time-exceeded": 11, "parameter-problem": 12, "timestamp": 13, "timestamp-reply": 14},
	6: {"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4, "echo-request": 128,
		"echo-reply": 129, "router-solicit": 133, "router-advertisement": 134, "neighbor-solicit": 135,
		"neighbor-advertisement": 136, "redirect": 137},
}

func icmpNumber(fam int, s string) (uint8, error) {
	if n, ok := icmpNumbers[fam][s]; ok {
		return n, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("icmp-type %q", s)
	}
	return uint8(n), nil
}
