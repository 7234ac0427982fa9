package linuxnftables

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
)

// famSet is one family's half of an Intent set, as an nft named set.
type famSet struct {
	ident    string
	fam      int
	prefixes []netip.Prefix
	used     bool
}

type renderer struct {
	in   *intent.Intent
	sets map[string]*[2]famSet // Intent set name → its v4 and v6 halves
}

// chainOf maps host-firewall bindings to our base chains; the order here is
// the order nft lists them in.
var chainOf = []struct {
	kind  intent.BindingKind
	chain string
}{{intent.Input, "input"}, {intent.Output, "output"}}

func render(in *intent.Intent) (string, error) {
	r := &renderer{in: in, sets: map[string]*[2]famSet{}}
	names := make([]string, 0, len(in.Sets))
	for _, s := range in.Sets {
		if _, dup := r.sets[s.Name]; dup {
			return "", fmt.Errorf("address set %q defined twice", s.Name)
		}
		r.sets[s.Name] = &[2]famSet{}
		names = append(names, s.Name)
	}
	ids := identifiers(names)
	for _, s := range in.Sets {
		halves := r.sets[s.Name]
		for i, fam := range []int{4, 6} {
			halves[i] = famSet{ident: fmt.Sprintf("%s_v%d", ids[s.Name], fam), fam: fam, prefixes: intent.Aggregate(s.Family(fam))}
		}
	}
	filters := map[intent.BindingKind]*intent.Filter{}
	for _, f := range in.Filters {
		switch f.Binding.Kind {
		case intent.Input, intent.Output:
		default:
			return "", fmt.Errorf("filter %s: binding %q: nftables renders host firewalls only: %w", f.Name, f.Binding.Kind, fault.ErrUnsupported)
		}
		if filters[f.Binding.Kind] != nil {
			return "", fmt.Errorf("filter %s: a second %s filter", f.Name, f.Binding.Kind)
		}
		filters[f.Binding.Kind] = f
	}
	var chains []string
	for _, c := range chainOf {
		if f := filters[c.kind]; f != nil {
			text, err := r.chain(c.chain, f)
			if err != nil {
				return "", fmt.Errorf("filter %s: %w", f.Name, err)
			}
			chains = append(chains, text)
		}
	}
	if len(chains) == 0 {
		return "", fmt.Errorf("no input or output filter")
	}
	var used []famSet
	for _, halves := range r.sets {
		for _, h := range halves {
			if h.used {
				used = append(used, h)
			}
		}
	}
	sort.Slice(used, func(i, j int) bool { return used[i].ident < used[j].ident })
	blocks := make([]string, 0, len(used)+len(chains))
	for _, s := range used {
		blocks = append(blocks, setBlock(s))
	}
	blocks = append(blocks, chains...)
	return "table " + Table + " {\n" + strings.Join(blocks, "\n") + "}\n", nil
}

// setBlock prints a named set as nft lists it. nft wraps elements with
// ",\n\t\t\t     ": IPv4 addresses two to a line, IPv6 one to a line; a
// host prefix prints as a bare address.
func setBlock(s famSet) string {
	typ, perLine := "ipv4_addr", 2
	if s.fam == 6 {
		typ, perLine = "ipv6_addr", 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = { ", s.ident, typ)
	for i, p := range s.prefixes {
		if i > 0 {
			if i%perLine == 0 {
				b.WriteString(",\n\t\t\t     ")
			} else {
				b.WriteString(", ")
			}
		}
		if p.IsSingleIP() {
			b.WriteString(p.Addr().String())
		} else {
			b.WriteString(p.String())
		}
	}
	b.WriteString(" }\n\t}\n")
	return b.String()
}

func (r *renderer) chain(name string, f *intent.Filter) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "\tchain %s {\n\t\ttype filter hook %s priority filter; policy drop;\n", name, name)
	for _, rule := range f.Rules {
		lines, err := r.rule(name, rule)
		if err != nil {
			return "", fmt.Errorf("rule %s: %w", rule.ID, err)
		}
		for _, l := range lines {
			b.WriteString("\t\t" + l + "\n")
		}
	}
	if f.LogDrops {
		// limit 10/minute with nft's default burst of 5, which it omits.
		b.WriteString("\t\tlimit rate 10/minute log prefix \"fwpush " + name + " drop: \"\n")
	}
	b.WriteString("\t}\n")
	return b.String(), nil
}
