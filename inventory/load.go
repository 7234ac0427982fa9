package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
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

// locator places a message at a field of what was read, as
// "file:line:col: field: message". A YAML document is one; so are the
// readers of formats whose fields have other names (Ansible's
// ansible_host for hostname).
type locator interface {
	Errorf(path []any, format string, args ...any) error
	Where(path ...any) (file string, line, col int)
}

// yamlLoc locates in one YAML document, which may be absent.
type yamlLoc struct{ doc *yamlsrc.Doc }

func (l yamlLoc) Errorf(path []any, format string, args ...any) error {
	if l.doc == nil {
		return &yamlsrc.Error{Field: yamlsrc.FieldName(path), Msg: fmt.Sprintf(format, args...)}
	}
	return l.doc.Errorf(path, format, args...)
}

func (l yamlLoc) Where(path ...any) (string, int, int) {
	if l.doc == nil {
		return "", 0, 0
	}
	line, col := l.doc.Pos(path...)
	return l.doc.File, line, col
}

type source struct {
	hosts, groups, defaults, networks locator
}

// rawInventory is what any format reads, in Nornir's shape: hosts,
// groups (= roles) and defaults, plus networks.yaml.
type rawInventory struct {
	label    string
	hosts    map[string]rawHost
	groups   map[string]rawHost
	defaults rawHost
	networks rawNetworks
	src      source
	// implicit are groups no file defines: named by hosts in formats
	// without a groups file (a single Nornir hosts file, containerlab).
	// They have no attributes and need no definition.
	implicit map[string]bool
	// platformHint says where this format sets a platform, for a host
	// without one.
	platformHint string
	// errs and warnings are the format reader's own.
	errs     []error
	warnings []string
}

// Load reads the inventory at path, in any format Detect accepts, and
// validates it. Every problem found is returned at once, each naming file,
// line and field; the returned error is a *yamlsrc.Invalid that also
// carries the warnings.
func Load(path string, opts ...Option) (*Inventory, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	f, err := Detect(path)
	if err != nil {
		return nil, err
	}
	var raw *rawInventory
	switch f.Kind {
	case NornirDir:
		raw, err = readNornirDir(os.DirFS(f.Dir), f.Dir)
	case NornirFile:
		raw, err = readNornirFile(f)
	case NornirConfig:
		raw, err = readNornirConfig(f)
	case AnsibleINI, AnsibleYAML:
		raw, err = readAnsible(f, &o)
	case Containerlab:
		raw, err = readContainerlab(f)
	}
	if err != nil {
		return nil, err
	}
	return build(raw, o)
}

// LoadFS reads a Nornir SimpleInventory directory (hosts.yaml,
// groups.yaml, defaults.yaml, networks.yaml) from fsys; dir only labels
// error messages.
func LoadFS(fsys fs.FS, dir string, opts ...Option) (*Inventory, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	raw, err := readNornirDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	return build(raw, o)
}

func buildOptions(opts []Option) (options, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// readYAML reads and decodes one YAML file of fsys; a missing optional
// file is nil, nil.
func readYAML(fsys fs.FS, name, label string, required bool, into any) (*yamlsrc.Doc, error) {
	data, err := yamlsrc.ReadFS(fsys, name, label)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	doc, err := yamlsrc.Parse(label, data)
	if err == nil {
		err = doc.Decode(into)
	}
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// readNornirDir reads a SimpleInventory directory.
func readNornirDir(fsys fs.FS, dir string) (*rawInventory, error) {
	raw := &rawInventory{label: dir}
	var errs []error
	read := func(name string, required bool, into any) locator {
		doc, err := readYAML(fsys, name, filepath.Join(dir, name), required, into)
		if err != nil {
			errs = append(errs, err)
		}
		if doc == nil {
			return nil
		}
		return yamlLoc{doc}
	}
	raw.src.hosts = read("hosts.yaml", true, &raw.hosts)
	raw.src.groups = read("groups.yaml", false, &raw.groups)
	raw.src.defaults = read("defaults.yaml", false, &raw.defaults)
	raw.src.networks = read(NetworksFile, false, &raw.networks)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return raw, nil
}

// readNetworks reads networks.yaml from dir into raw when it is there.
func (raw *rawInventory) readNetworks(dir string) error {
	doc, err := readYAML(os.DirFS(dir), NetworksFile, filepath.Join(dir, NetworksFile), false, &raw.networks)
	if err != nil {
		return err
	}
	if doc != nil {
		raw.src.networks = yamlLoc{doc}
	}
	return nil
}

// NetworksFile is fwpush's own file of management and named networks,
// read next to an inventory in any format.
const NetworksFile = "networks.yaml"

// build validates what a format read and resolves every host.
func build(raw *rawInventory, o options) (*Inventory, error) {
	rh, rg, rd, rn, src := raw.hosts, raw.groups, raw.defaults, raw.networks, raw.src
	if rg == nil {
		rg = map[string]rawHost{}
	}
	errs := append([]error(nil), raw.errs...)
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

	inv := &Inventory{Dir: raw.label, opts: o, Hosts: map[string]*Host{}, Groups: map[string]*Group{}, Networks: map[string]*Network{}}
	inv.Warnings = append(append([]string(nil), raw.warnings...), src.warnDataKeys(rh, rg, rd)...)
	if rd.Hostname != "" {
		if _, _, err := checkHostname(rd.Hostname); err != nil {
			errs = append(errs, src.defaults.Errorf([]any{"hostname"}, "%v", err))
		}
	}
	for _, name := range sortedKeys(rh) {
		for _, g := range rh[name].Groups {
			if _, ok := rg[g]; !ok && raw.implicit[g] {
				rg[g] = rawHost{}
			}
		}
	}
	graph := newGroupGraph(rg, rd)
	errs = append(errs, inv.loadGroups(src, rg, raw.implicit, graph)...)
	errs = append(errs, inv.loadNetworks(src, rn)...)
	errs = append(errs, inv.loadHosts(&o, src, rh, rg, raw, graph)...)
	if err := yamlsrc.Fail(errs, inv.Warnings); err != nil {
		return nil, err
	}
	return inv, nil
}

func (inv *Inventory) loadGroups(src source, rg map[string]rawHost, implicit map[string]bool, graph *groupGraph) []error {
	var errs []error
	for _, name := range sortedKeys(rg) {
		g := rg[name]
		inv.Groups[name] = &Group{Name: name, Groups: g.Groups, Data: g.Data}
		if implicit[name] && src.groups == nil {
			continue // checked where a host names it
		}
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
	}
	for _, c := range graph.cycles() {
		errs = append(errs, src.groups.Errorf([]any{c.at, "groups"}, "group cycle: %s", strings.Join(c.path, " -> ")))
	}
	return errs
}

// loadNetworks reads networks.yaml. Without it, or without management
// networks in it, the inventory loads (inventory list, render, explain,
// plan work) but nothing may be pushed (CheckPushable).
func (inv *Inventory) loadNetworks(src source, rn rawNetworks) []error {
	var errs []error
	if src.networks != nil && len(rn.Management) == 0 {
		file, _, _ := src.networks.Where()
		inv.Warnings = append(inv.Warnings, (&yamlsrc.Error{File: file, Field: "management",
			Msg: "no management networks: fwpush refuses to push until it knows where it connects from, so that no policy can lock it out"}).Error())
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

// CheckPushable refuses to push with an inventory that names no
// management network: fwpush could not prove that a policy keeps its own
// access, so a push could lock it out of every device at once.
func (inv *Inventory) CheckPushable() error {
	if len(inv.Management) > 0 {
		return nil
	}
	return fmt.Errorf("inventory %s lists no management networks, so fwpush cannot prove a policy keeps its own access: list where fwpush connects from under management: in %s (next to the inventory) before pushing; inventory list, validate, render, explain and plan work without it",
		inv.Dir, NetworksFile)
}

// hostAddr is one of a host's addresses and where it came from: the
// index of data.addresses, or -1 for the hostname.
type hostAddr struct {
	addr netip.Addr
	at   int
}

func (inv *Inventory) loadHosts(o *options, src source, rh, rg map[string]rawHost, in *rawInventory, graph *groupGraph) []error {
	var errs []error
	implicit, hint := in.implicit, in.platformHint
	if hint == "" {
		hint = "set it on the host, a group or defaults"
	}
	if len(rh) == 0 {
		errs = append(errs, src.hosts.Errorf(nil, "no hosts defined"))
	}
	owner := map[netip.Addr]*Host{}
	byHostname := map[netip.Addr][]*Host{} // the hosts that took an address from their hostname
	for _, name := range sortedKeys(rh) {
		raw := rh[name]
		at := func(field ...any) []any { return append([]any{name}, field...) }
		if err := checkEntityName("host", name); err != nil {
			errs = append(errs, src.hosts.Errorf(at(), "%v", err))
		}
		for i, g := range raw.Groups {
			if _, ok := rg[g]; !ok {
				errs = append(errs, src.hosts.Errorf(at("groups", i), "group %s is not defined in groups.yaml", yamlsrc.Quote(g)))
			} else if implicit[g] && src.groups == nil {
				if err := checkEntityName("group", g); err != nil {
					errs = append(errs, src.hosts.Errorf(at("groups", i), "%v", err))
				}
			}
		}
		r := graph.resolve(raw.Groups)
		h := &Host{Name: name, Groups: raw.Groups, Roles: r.roles}
		h.File, h.Line, h.Col = src.hosts.Where(name)
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
			errs = append(errs, src.hosts.Errorf(at(), "host %q has no platform (%s)", name, hint))
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
		addrs, aerrs := h.parseData(src.hosts, at, info)
		errs = append(errs, aerrs...)
		if a, isAddr, err := checkHostname(h.Hostname); isAddr && err == nil && h.Data["addresses"] != nil && len(aerrs) == 0 && !slices.Contains(h.Addresses, a.Unmap()) {
			inv.Warnings = append(inv.Warnings, src.hosts.Errorf(at("hostname"),
				"fwpush connects to %s, which data.addresses does not list: the policy protects the addresses listed; if %s is this host's own, list it too", a, a).Error())
		}
		for _, a := range addrs {
			other, shared := owner[a.addr], byHostname[a.addr]
			switch {
			case other == nil:
				owner[a.addr] = h
				if a.at < 0 {
					byHostname[a.addr] = []*Host{h}
				}
			case a.at < 0 && len(shared) > 0 && !samePort(shared, h.Port):
				// One address, several forwarded ports (a NAT, vagrant,
				// the Nornir tutorial): a hostname only defaults the
				// address, so each keeps it, with a warning below.
				byHostname[a.addr] = append(shared, h)
			default:
				field := at("hostname")
				if a.at >= 0 {
					field = at("data", "addresses", a.at)
				}
				errs = append(errs, src.hosts.Errorf(field, "address %s is also host %q's", a.addr, other.Name))
			}
		}
		inv.Hosts[name] = h
	}
	for _, a := range sortedAddrKeys(byHostname) {
		hs := byHostname[a]
		if len(hs) < 2 {
			continue
		}
		names := make([]string, len(hs))
		ports := make([]string, len(hs))
		for i, h := range hs {
			names[i], ports[i] = h.Name, strconv.Itoa(h.Port)
		}
		inv.Warnings = append(inv.Warnings, src.hosts.Errorf([]any{hs[1].Name, "hostname"},
			"hosts %s share address %s (their hostname, on ports %s): a policy cannot tell them apart; list each host's own addresses under data.addresses",
			strings.Join(names, ", "), a, strings.Join(ports, ", ")).Error())
	}
	return errs
}

func samePort(hosts []*Host, port int) bool {
	for _, h := range hosts {
		if h.Port == port {
			return true
		}
	}
	return false
}

func sortedAddrKeys[V any](m map[netip.Addr]V) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sortAddrs(out)
	return out
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
