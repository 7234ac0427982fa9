package openconfig

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Not every device takes openconfig-defined-sets references in its ACL
// entries: netconfd 2.13, the lab's validating server, accepts them and
// silently drops them on commit, and devices add support release by
// release. A host whose data sets openconfig_defined_sets: false (the
// default) gets every entry written out: one entry per source prefix,
// destination prefix, source port and destination port of its sets, its
// sequence number times 1000 plus its position, and a tag in its
// description naming the sets it came from, so the device's entries read
// back into the same canonical form Render produced. Every entry's
// sequence number is multiplied, expanded or not, so the device keeps
// Render's order. With
// openconfig_defined_sets: true the sets and references are written as
// they are.

// expandBase spreads an entry's expansion: entry 10 becomes 10001, 10002…
const expandBase = 1000

var tagRE = regexp.MustCompile(` \[fwpush( (src|dst|sport|dport)=[^ \]]+)*\]$`)

// expand writes c without sets: every entry referencing a set becomes one
// entry per combination of its members.
func expand(c Config) (Config, error) {
	prefixes := map[string][]netip.Prefix{}
	for _, s := range c.PrefixSets {
		prefixes[fmt.Sprint(s.Family, s.Name)] = s.Prefixes
	}
	ports := map[string][]string{}
	for _, s := range c.PortSets {
		ports[s.Name] = s.Ports
	}
	out := Config{Bindings: c.Bindings}
	for _, set := range c.ACLSets {
		fam := 4
		if set.Type == IPv6 {
			fam = 6
		}
		x := ACLSet{Name: set.Name, Type: set.Type, Description: set.Description}
		for _, e := range set.Entries {
			var tag []string
			addrs := func(literal, ref, key string) ([]string, error) {
				if ref == "" {
					return []string{literal}, nil
				}
				ps, ok := prefixes[fmt.Sprint(fam, ref)]
				if !ok {
					return nil, fmt.Errorf("acl-set %s entry %d: no IPv%d prefix set %s", set.Name, e.Seq, fam, ref)
				}
				tag = append(tag, key+"="+ref)
				var out []string
				for _, p := range ps {
					out = append(out, p.String())
				}
				return out, nil
			}
			portList := func(literal, ref, key string) ([]string, error) {
				if ref == "" {
					return []string{literal}, nil
				}
				ps, ok := ports[ref]
				if !ok {
					return nil, fmt.Errorf("acl-set %s entry %d: no port set %s", set.Name, e.Seq, ref)
				}
				tag = append(tag, key+"="+ref)
				return ps, nil
			}
			srcs, err := addrs(e.SrcAddr, e.SrcSet, "src")
			if err != nil {
				return Config{}, err
			}
			dsts, err := addrs(e.DstAddr, e.DstSet, "dst")
			if err != nil {
				return Config{}, err
			}
			sports, err := portList(e.SrcPort, e.SrcPortSet, "sport")
			if err != nil {
				return Config{}, err
			}
			dports, err := portList(e.DstPort, e.DstPortSet, "dport")
			if err != nil {
				return Config{}, err
			}
			if len(tag) == 0 {
				e.Seq *= expandBase
				x.Entries = append(x.Entries, e)
				continue
			}
			desc := e.Description + " [fwpush " + strings.Join(tag, " ") + "]"
			k := 0
			for _, s := range srcs {
				for _, d := range dsts {
					for _, sp := range sports {
						for _, dp := range dports {
							k++
							y := e
							y.Seq = e.Seq*expandBase + k
							y.Description = desc
							y.SrcAddr, y.SrcSet, y.DstAddr, y.DstSet = s, "", d, ""
							y.SrcPort, y.SrcPortSet, y.DstPort, y.DstPortSet = sp, "", dp, ""
							x.Entries = append(x.Entries, y)
						}
					}
				}
			}
			if k >= expandBase {
				return Config{}, fmt.Errorf("acl-set %s entry %d expands to %d entries, more than %d: set openconfig_defined_sets: true on a device that takes them", set.Name, e.Seq, k, expandBase-1)
			}
		}
		out.ACLSets = append(out.ACLSets, x)
	}
	out.normalize()
	return out, nil
}

// collapse reads an expanded config back into the form expand started
// from: entries of one block become one, naming the sets their tag
// names, and each set holds what its entries matched.
func collapse(c Config) Config {
	out := Config{Bindings: c.Bindings}
	prefixes := map[string]map[netip.Prefix]bool{}
	families := map[string]int{}
	ports := map[string][]string{}
	seenPort := map[string]bool{}
	addPort := func(set, p string) {
		if !seenPort[set+"\x00"+p] {
			seenPort[set+"\x00"+p] = true
			ports[set] = append(ports[set], p)
		}
	}
	addPrefix := func(set string, fam int, s string) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return
		}
		k := fmt.Sprint(fam, set)
		if prefixes[k] == nil {
			prefixes[k] = map[netip.Prefix]bool{}
		}
		prefixes[k][p] = true
		families[k] = fam
	}
	for _, set := range c.ACLSets {
		fam := 4
		if set.Type == IPv6 {
			fam = 6
		}
		x := ACLSet{Name: set.Name, Type: set.Type, Description: set.Description}
		byBlock := map[int]int{} // block → index in x.Entries
		for _, e := range set.Entries {
			tag := tagRE.FindString(e.Description)
			if tag == "" {
				e.Seq /= expandBase
				x.Entries = append(x.Entries, e)
				continue
			}
			refs := map[string]string{}
			for _, f := range strings.Fields(strings.Trim(strings.TrimPrefix(strings.TrimSpace(tag), "[fwpush"), "]")) {
				k, v, _ := strings.Cut(f, "=")
				refs[k] = v
			}
			if ref := refs["src"]; ref != "" {
				addPrefix(ref, fam, e.SrcAddr)
			}
			if ref := refs["dst"]; ref != "" {
				addPrefix(ref, fam, e.DstAddr)
			}
			if ref := refs["sport"]; ref != "" {
				addPort(ref, e.SrcPort)
			}
			if ref := refs["dport"]; ref != "" {
				addPort(ref, e.DstPort)
			}
			block := e.Seq / expandBase
			if _, ok := byBlock[block]; ok {
				continue
			}
			y := e
			y.Seq = block
			y.Description = strings.TrimSuffix(e.Description, tag)
			if ref := refs["src"]; ref != "" {
				y.SrcAddr, y.SrcSet = "", ref
			}
			if ref := refs["dst"]; ref != "" {
				y.DstAddr, y.DstSet = "", ref
			}
			if ref := refs["sport"]; ref != "" {
				y.SrcPort, y.SrcPortSet = "", ref
			}
			if ref := refs["dport"]; ref != "" {
				y.DstPort, y.DstPortSet = "", ref
			}
			byBlock[block] = len(x.Entries)
			x.Entries = append(x.Entries, y)
		}
		out.ACLSets = append(out.ACLSets, x)
	}
	for k, ps := range prefixes {
		name := strings.TrimPrefix(k, fmt.Sprint(families[k]))
		s := PrefixSet{Name: name, Family: families[k]}
		for p := range ps {
			s.Prefixes = append(s.Prefixes, p)
		}
		out.PrefixSets = append(out.PrefixSets, s)
	}
	for name, ps := range ports {
		out.PortSets = append(out.PortSets, PortSet{Name: name, Ports: ps})
	}
	out.normalize()
	return out
}
