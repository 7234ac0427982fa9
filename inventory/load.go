package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// rawHost is one entry of hosts.yaml (or a group, or defaults): the Nornir
// SimpleInventory fields.
type rawHost struct {
	Hostname          string         `yaml:"hostname"`
	Port              int            `yaml:"port"`
	Username          string         `yaml:"username"`
	Password          string         `yaml:"password"`
	Platform          string         `yaml:"platform"`
	Groups            []string       `yaml:"groups"`
	Data              map[string]any `yaml:"data"`
	ConnectionOptions map[string]any `yaml:"connection_options"`
}

type rawNetworks struct {
	Management []string `yaml:"management"`
	Networks   map[string]struct {
		Description string   `yaml:"description"`
		Prefixes    []string `yaml:"prefixes"`
		Roles       []string `yaml:"roles"`
	} `yaml:"networks"`
}

type source struct {
	hosts, groups, defaults, networks *yamlsrc.Doc
}

// Load reads the inventory in dir and validates it. Every problem found is
// returned at once, each naming file, line and field; the returned error
// is a *yamlsrc.Invalid that also carries the warnings.
func Load(dir string, opts ...Option) (*Inventory, error) {
	return LoadFS(os.DirFS(dir), dir, opts...)
}

// LoadFS is Load over any file system; dir only labels error messages.
func LoadFS(fsys fs.FS, dir string, opts ...Option) (*Inventory, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	var src source
	var rh, rg map[string]rawHost
	var rd rawHost
	var rn rawNetworks
	var errs []error
	read := func(name string, required bool, into any) *yamlsrc.Doc {
		path := filepath.Join(dir, name)
		data, err := yamlsrc.ReadFS(fsys, name, path)
		if errors.Is(err, fs.ErrNotExist) && !required {
			return nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("inventory: %w", err))
			return nil
		}
		doc, err := yamlsrc.Parse(path, data)
		if err == nil {
			err = doc.Decode(into)
		}
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		return doc
	}
	src.hosts = read("hosts.yaml", true, &rh)
	src.groups = read("groups.yaml", false, &rg)
	src.defaults = read("defaults.yaml", false, &rd)
	src.networks = read("networks.yaml", true, &rn)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// Secrets are wrapped before anything copies them, so no output,
	// log or run record can print one (see Secret).
	for _, m := range []map[string]rawHost{rh, rg} {
		for _, r := range m {
			hideSecrets(r.Data)
			hideSecrets(r.ConnectionOptions)
		}
	}
	hideSecrets(rd.Data)
	hideSecrets(rd.ConnectionOptions)

	inv := &Inventory{Dir: dir, opts: o, Hosts: map[string]*Host{}, Groups: map[string]*Group{}, Networks: map[string]*Network{}}
	inv.Warnings = src.warnDataKeys(rh, rg, rd)
	if rd.Hostname != "" {
		if _, _, err := checkHostname(rd.Hostname); err != nil {
			errs = append(errs, src.defaults.Errorf([]any{"hostname"}, "%v", err))
		}
	}
	graph := newGroupGraph(rg, rd)
	errs = append(errs, inv.loadGroups(src, rg, graph)...)
	errs = append(errs, inv.loadNetworks(src, rn)...)
	errs = append(errs, inv.loadHosts(&o, src, rh, rg, graph)...)
	if err := yamlsrc.Fail(errs, inv.Warnings); err != nil {
		return nil, err
	}
	return inv, nil
}

func (inv *Inventory) loadGroups(src source, rg map[string]rawHost, graph *groupGraph) []error {
	var errs []error
	for _, name := range sortedKeys(rg) {
		g := rg[name]
		if err := checkEntityName("group", name); err != nil {
			errs = append(errs, src.groups.Errorf([]any{name}, "%v", err))
		}
		if g.Hostname != "" {
			if _, _, err := checkHostname(g.Hostname); err != nil {
				errs = append(errs, src.groups.Errorf([]any{name, "hostname"}, "%v", err))
			}
		}
		for i, parent := range g.Groups {
			if _, ok := rg[parent]; !ok {
				errs = append(errs, src.groups.Errorf([]any{name, "groups", i}, "group %s is not defined in groups.yaml", yamlsrc.Quote(parent)))
			}
		}
		inv.Groups[name] = &Group{Name: name, Groups: g.Groups, Data: g.Data}
	}
	for _, c := range graph.cycles() {
		errs = append(errs, src.groups.Errorf([]any{c.at, "groups"}, "group cycle: %s", strings.Join(c.path, " -> ")))
	}
	return errs
}

func (inv *Inventory) loadNetworks(src source, rn rawNetworks) []error {
	var errs []error
	if len(rn.Management) == 0 {
		errs = append(errs, src.networks.Errorf([]any{"management"},
			"at least one management network is required: fwpush must know where it connects from, so no policy can lock it out"))
	}
	for i, s := range rn.Management {
		p, err := ParsePrefix(s)
		if err != nil {
			errs = append(errs, src.networks.Errorf([]any{"management", i}, "%v", err))
			continue
		}
		inv.Management = append(inv.Management, p)
	}
	for _, name := range sortedKeys(rn.Networks) {
		n := rn.Networks[name]
		if !validName(name) || name == "any" {
			errs = append(errs, src.networks.Errorf([]any{"networks", name}, "network name %s: use lower-case letters, digits and '-', not 'any'", yamlsrc.Quote(name)))
		}
		for i, r := range n.Roles {
			if !validName(r) {
				errs = append(errs, src.networks.Errorf([]any{"networks", name, "roles", i}, "role name %s: use lower-case letters, digits and '-'", yamlsrc.Quote(r)))
			}
		}
		net := &Network{Name: name, Description: n.Description, Roles: n.Roles}
		if len(n.Prefixes) == 0 {
			errs = append(errs, src.networks.Errorf([]any{"networks", name}, "network %s has no prefixes", yamlsrc.Quote(name)))
		}
		for i, s := range n.Prefixes {
			p, err := ParsePrefix(s)
			if err != nil {
				errs = append(errs, src.networks.Errorf([]any{"networks", name, "prefixes", i}, "%v", err))
				continue
			}
			net.Prefixes = append(net.Prefixes, p)
		}
		inv.Networks[name] = net
	}
	return errs
}

func (inv *Inventory) loadHosts(o *options, src source, rh, rg map[string]rawHost, graph *groupGraph) []error {
	var errs []error
	if len(rh) == 0 {
		errs = append(errs, src.hosts.Errorf(nil, "no hosts defined"))
	}
	owner := map[netip.Addr]string{}
	for _, name := range sortedKeys(rh) {
		raw := rh[name]
		at := func(field ...any) []any { return append([]any{name}, field...) }
		if err := checkEntityName("host", name); err != nil {
			errs = append(errs, src.hosts.Errorf(at(), "%v", err))
		}
		for i, g := range raw.Groups {
			if _, ok := rg[g]; !ok {
				errs = append(errs, src.hosts.Errorf(at("groups", i), "group %s is not defined in groups.yaml", yamlsrc.Quote(g)))
			}
		}
		r := graph.resolve(raw.Groups)
		h := &Host{Name: name, Groups: raw.Groups, Roles: r.roles, File: src.hosts.File}
		h.Line, h.Col = src.hosts.Pos(name)
		h.Hostname = or(raw.Hostname, r.hostname)
		h.Username = or(raw.Username, r.username)
		h.Password = Secret(or(raw.Password, r.password))
		h.Data = overlay(r.data, raw.Data)
		h.ConnectionOptions = raw.ConnectionOptions
		if h.ConnectionOptions == nil {
			h.ConnectionOptions = r.connOpts
		}
		if h.Hostname == "" {
			h.Hostname = name // a valid host name is a valid hostname
		}
		if raw.Hostname != "" {
			if _, _, err := checkHostname(raw.Hostname); err != nil {
				errs = append(errs, src.hosts.Errorf(at("hostname"), "%v", err))
			}
		}
		platform := or(raw.Platform, r.platform)
		info, ok := o.resolvePlatform(platform)
		switch {
		case platform == "":
			errs = append(errs, src.hosts.Errorf(at(), "host %q has no platform (set it on the host, a group or defaults)", name))
		case !ok:
			errs = append(errs, src.hosts.Errorf(at("platform"), "unknown platform %q", platform))
		default:
			h.Platform = info.ID
		}
		h.Port = or(raw.Port, r.port)
		if h.Port == 0 {
			h.Port = info.Port
			if h.Port == 0 {
				h.Port = 22 // an unknown platform is reported above
			}
		}
		if h.Port < 1 || h.Port > 65535 {
			errs = append(errs, src.hosts.Errorf(at("port"), "port %d is outside 1-65535", h.Port))
		}
		errs = append(errs, h.parseData(src.hosts, at, info)...)
		for _, a := range h.Addresses {
			if other, dup := owner[a]; dup {
				errs = append(errs, src.hosts.Errorf(at("data", "addresses"), "address %s is also host %q's", a, other))
			}
			owner[a] = name
		}
		inv.Hosts[name] = h
	}
	return errs
}

// or is v unless it is the zero value, then fallback.
func or[T comparable](v, fallback T) T {
	var zero T
	if v != zero {
		return v
	}
	return fallback
}

// overlay is a new map: base's keys, then own's over them.
func overlay(base, own map[string]any) map[string]any {
	if len(base)+len(own) == 0 {
		return nil
	}
	out := make(map[string]any, len(base)+len(own))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// ParsePrefix parses a CIDR or a bare address (as a host prefix), masking
// host bits off so "198.18.1.5/24" is rejected rather than guessed at. A
// zone or an IPv4-mapped address is rejected (see addr.go).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad address or CIDR %s", yamlsrc.Quote(s))
		}
		if err := checkForm(s, a); err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad CIDR %s", yamlsrc.Quote(s))
	}
	if err := checkForm(s, p.Addr()); err != nil {
		return netip.Prefix{}, err
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("bad CIDR %s: host bits set (did you mean %s?)", yamlsrc.Quote(s), p.Masked())
	}
	return p, nil
}

func sortAddrs(a []netip.Addr) {
	sort.Slice(a, func(i, j int) bool { return a[i].Less(a[j]) })
}
