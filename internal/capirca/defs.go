package capirca

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/internal/policy"
)

// Defs are the definitions a policy names: networks (*.net) and services
// (*.svc) of one directory, as aclgen reads them.
type Defs struct {
	Networks map[string]*Def
	Services map[string]*Def
}

// Def is one token and what it stands for, in order.
type Def struct {
	Pos   Pos
	Name  string
	Items []Item
}

// Item is one value of a definition: an address, a port/protocol, or
// another token; Comment is the text after # on its line.
type Item struct {
	Pos     Pos
	Value   string
	Comment string
}

// tokenRE is how Capirca tells a nested token from a value.
var tokenRE = regexp.MustCompile(`^[-_A-Za-z0-9]+$`)

// LoadDefs reads every *.net and *.svc file of dir.
func LoadDefs(dir string) (*Defs, error) {
	d := &Defs{Networks: map[string]*Def{}, Services: map[string]*Def{}}
	for _, kind := range []string{"net", "svc"} {
		files, err := filepath.Glob(filepath.Join(dir, "*."+kind))
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no *.%s definitions", dir, kind)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			if err := d.Parse(f, kind, string(data)); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// Parse adds the definitions of one file (kind "net" or "svc"): lines
// `TOKEN = value value # comment`, and lines of values alone continuing
// the token above.
func (d *Defs) Parse(file, kind, text string) error {
	into := d.Networks
	if kind == "svc" {
		into = d.Services
	}
	var cur *Def
	for i, raw := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		pos := Pos{file, i + 1}
		l := strings.TrimSpace(raw)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		comment := ""
		if j := strings.Index(l, "#"); j >= 0 {
			l, comment = l[:j], strings.TrimSpace(l[j+1:])
		}
		if name, values, ok := strings.Cut(l, "="); ok {
			name = strings.TrimSpace(name)
			if !tokenRE.MatchString(name) {
				return pos.Errorf("token %q: use letters, digits, - and _", name)
			}
			if prev, dup := into[name]; dup {
				return pos.Errorf("%s is defined twice (also at %s)", name, prev.Pos)
			}
			cur = &Def{Pos: pos, Name: name}
			into[name] = cur
			l = values
		}
		if cur == nil {
			return pos.Errorf("a value before any TOKEN = line")
		}
		for _, v := range strings.Fields(l) {
			if kind == "svc" && !tokenRE.MatchString(v) && !portRE.MatchString(v) {
				return pos.Errorf("%s: %q is neither PORT/PROTOCOL, LOW-HIGH/PROTOCOL nor a token", cur.Name, v)
			}
			cur.Items = append(cur.Items, Item{Pos: pos, Value: v, Comment: comment})
		}
	}
	return nil
}

var portRE = regexp.MustCompile(`^(\d+|\d+-\d+)/\w+$`)

// Addr is one address of an expanded network token: the prefix, the
// token that wrote it, and its comment.
type Addr struct {
	Prefix  netip.Prefix
	Token   string
	Comment string
	Pos     Pos
}

// Network expands a network token into its addresses, depth first.
func (d *Defs) Network(name string) ([]Addr, error) {
	return d.network(name, map[string]bool{})
}

func (d *Defs) network(name string, seen map[string]bool) ([]Addr, error) {
	def := d.Networks[name]
	if def == nil {
		return nil, fmt.Errorf("network %s is not defined in any *.net file", name)
	}
	if seen[name] {
		return nil, def.Pos.Errorf("network %s includes itself", name)
	}
	seen[name] = true
	defer delete(seen, name)
	var out []Addr
	for _, it := range def.Items {
		if tokenRE.MatchString(it.Value) {
			more, err := d.network(it.Value, seen)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", it.Pos, name, err)
			}
			out = append(out, more...)
			continue
		}
		p, err := parseAddr(it.Value)
		if err != nil {
			return nil, it.Pos.Errorf("%s: %v", name, err)
		}
		out = append(out, Addr{Prefix: p, Token: name, Comment: it.Comment, Pos: it.Pos})
	}
	return out, nil
}

// parseAddr reads an address or prefix; host bits are cleared, as
// Capirca does.
func parseAddr(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address, a prefix or a token", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// PortRange is one port/protocol range of a service.
type PortRange struct {
	Proto string
	Range policy.PortRange
	Pos   Pos
}

// Service expands a service token into its port ranges.
func (d *Defs) Service(name string) ([]PortRange, error) {
	return d.service(name, map[string]bool{})
}

func (d *Defs) service(name string, seen map[string]bool) ([]PortRange, error) {
	def := d.Services[name]
	if def == nil {
		return nil, fmt.Errorf("service %s is not defined in any *.svc file", name)
	}
	if seen[name] {
		return nil, def.Pos.Errorf("service %s includes itself", name)
	}
	seen[name] = true
	defer delete(seen, name)
	var out []PortRange
	for _, it := range def.Items {
		port, proto, ok := strings.Cut(it.Value, "/")
		if !ok {
			more, err := d.service(it.Value, seen)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", it.Pos, name, err)
			}
			out = append(out, more...)
			continue
		}
		lo, hi, isRange := strings.Cut(port, "-")
		if !isRange {
			hi = lo
		}
		a, errA := strconv.Atoi(lo)
		b, errB := strconv.Atoi(hi)
		if errA != nil || errB != nil || a < 1 || b > 65535 || a > b {
			return nil, it.Pos.Errorf("%s: port %s: want 1-65535, low ≤ high", name, port)
		}
		out = append(out, PortRange{Proto: strings.ToLower(proto), Range: policy.PortRange{Lo: uint16(a), Hi: uint16(b)}, Pos: it.Pos})
	}
	return out, nil
}
