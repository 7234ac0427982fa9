package labinv

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/goccy/go-yaml"

	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/yamlsrc"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
)

// The inventory data keys that describe a routed lab. fwpush itself
// ignores them (see testbed/README.md).
const (
	// KeySegments (defaults.yaml or groups.yaml data) names the segments:
	// {dmz: {ipv4: 198.18.10.0/24, ipv6: "2001:db8:10::/64"}}.
	KeySegments = "lab_segments"
	// KeySegment (host data, may be inherited from a group) puts a host on
	// a segment; without it, the segment holding the host's addresses.
	KeySegment = "lab_segment"
	// KeyInterfaces (host data) makes a host a router:
	// {GigabitEthernet0/1: {segment: dmz, linux: gi0-1, addresses:
	// [198.18.10.254/24, "2001:db8:10::fe/64"], gateway: true}}.
	KeyInterfaces = "lab_interfaces"
)

// Topology is the lab an inventory describes: hosts, and for a routed
// inventory its segments and routers.
type Topology struct {
	Hosts    []testbed.HostSpec
	Segments []testbed.SegmentSpec
	Routers  []testbed.RouterSpec
	// Skipped lists, as "name (platform)", the hosts a flat lab cannot
	// play (every non-Linux one).
	Skipped []string
}

// Options returns the Start options for t's segments and routers; none for
// a flat lab.
func (t Topology) Options() []testbed.Option {
	if len(t.Segments) == 0 {
		return nil
	}
	return []testbed.Option{testbed.WithSegments(t.Segments...), testbed.WithRouters(t.Routers...)}
}

// Build returns the lab p's inventory describes, each host listening on
// the ports p's flows open to it (as Specs). For an inventory without
// lab_segments it is exactly Specs' flat lab.
func Build(p *project.Project) (Topology, error) {
	t, err := FromInventory(p.Inv)
	if err != nil {
		return Topology{}, err
	}
	tcp, udp := flowPorts(p)
	for i := range t.Hosts {
		h := &t.Hosts[i]
		mgmt := uint16(22)
		if h.NoSSHD {
			mgmt = uint16(p.Inv.Hosts[h.Name].Port) // the simulator's, served with Lab.Listen
		}
		h.TCP, h.UDP = ports(tcp[h.Name], mgmt), ports(udp[h.Name], mgmt)
	}
	return t, nil
}

// FromInventory returns the lab inv describes, without listeners. Without
// lab_segments it is the flat lab: every Linux host with the lab's prefix
// lengths, the other hosts skipped. With them, every host becomes a
// namespace: a host with lab_interfaces a router, any other host a host on
// its segment; Linux ones run sshd, the others (network devices, Windows)
// none, as the test serves their management plane. Errors name file, line
// and field.
func FromInventory(inv *inventory.Inventory) (Topology, error) {
	src, err := readSources(inv.Dir)
	if err != nil {
		return Topology{}, err
	}
	segs, err := src.segments()
	if err != nil {
		return Topology{}, err
	}
	var t Topology
	var errs []error
	for _, h := range inv.Select(nil) {
		linux := execHost(inv, h)
		_, hasSeg := h.Data[KeySegment]
		_, hasIfs := h.Data[KeyInterfaces]
		switch {
		case len(segs) == 0 && (hasSeg || hasIfs):
			key := KeySegment
			if hasIfs {
				key = KeyInterfaces
			}
			errs = append(errs, src.errorf(h, key, "%s needs %s (in defaults.yaml or groups.yaml data)", key, KeySegments))
		case len(segs) == 0 && !linux:
			t.Skipped = append(t.Skipped, fmt.Sprintf("%s (%s)", h.Name, h.Platform))
		case len(segs) == 0:
			t.Hosts = append(t.Hosts, flatHost(h))
		case hasSeg && hasIfs:
			errs = append(errs, src.errorf(h, KeyInterfaces, "a host is either on one segment (%s) or a router (%s), not both", KeySegment, KeyInterfaces))
		case hasIfs:
			r, err := src.router(inv, h, segs, linux)
			errs = append(errs, err)
			t.Routers = append(t.Routers, r)
		default:
			s, err := src.host(h, segs, linux)
			errs = append(errs, err)
			t.Hosts = append(t.Hosts, s)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Topology{}, err
	}
	for _, n := range slices.Sorted(maps.Keys(segs)) {
		t.Segments = append(t.Segments, segs[n])
	}
	return t, nil
}

func flatHost(h *inventory.Host) testbed.HostSpec {
	s := testbed.HostSpec{Name: h.Name}
	for _, a := range h.Addresses {
		bits := testbed.LabIPv4.Bits()
		if a.Is6() {
			bits = testbed.LabIPv6.Bits()
		}
		s.Addrs = append(s.Addrs, netip.PrefixFrom(a, bits))
	}
	return s
}

// sources are the inventory's files, parsed again for the lab keys'
// positions (package inventory keeps only merged data).
type sources struct {
	hosts, groups, defaults *yamlsrc.Doc
	rawHosts, rawGroups     map[string]map[string]any
	rawDefaults             map[string]any
}

func readSources(dir string) (*sources, error) {
	s := &sources{}
	read := func(name string, into any) (*yamlsrc.Doc, error) {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			b = nil
		} else if err != nil {
			return nil, err
		}
		doc, err := yamlsrc.Parse(path, b)
		if err == nil {
			err = doc.Decode(into)
		}
		return doc, err
	}
	var err1, err2, err3 error
	s.hosts, err1 = read("hosts.yaml", &s.rawHosts)
	s.groups, err2 = read("groups.yaml", &s.rawGroups)
	s.defaults, err3 = read("defaults.yaml", &s.rawDefaults)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("lab inventory: %w", err)
	}
	return s, nil
}

func dataOf(entry map[string]any) map[string]any {
	d, _ := entry["data"].(map[string]any)
	return d
}

// where locates the definition h's value of key comes from: the host, then
// its groups in resolution order, then defaults (as package inventory
// resolves it).
func (s *sources) where(h *inventory.Host, key string) (*yamlsrc.Doc, []any) {
	if _, ok := dataOf(s.rawHosts[h.Name])[key]; ok {
		return s.hosts, []any{h.Name, "data", key}
	}
	for _, g := range h.Roles {
		if _, ok := dataOf(s.rawGroups[g])[key]; ok {
			return s.groups, []any{g, "data", key}
		}
	}
	if _, ok := dataOf(s.rawDefaults)[key]; ok {
		return s.defaults, []any{"data", key}
	}
	return s.hosts, []any{h.Name}
}

// errorf reports a problem with h's key, at the key's definition; more
// path elements point inside it.
func (s *sources) errorf(h *inventory.Host, key string, format string, args ...any) error {
	return s.errorAt(h, key, nil, format, args...)
}

func (s *sources) errorAt(h *inventory.Host, key string, sub []any, format string, args ...any) error {
	doc, path := s.where(h, key)
	return doc.Errorf(append(path, sub...), "host %s: "+format, append([]any{h.Name}, args...)...)
}

type segmentData struct {
	IPv4 string `yaml:"ipv4"`
	IPv6 string `yaml:"ipv6"`
}

// segments gathers lab_segments from defaults.yaml and every group; a name
// defined twice must be defined the same.
func (s *sources) segments() (map[string]testbed.SegmentSpec, error) {
	type def struct {
		doc  *yamlsrc.Doc
		path []any
		raw  any
	}
	var defs []def
	if v, ok := dataOf(s.rawDefaults)[KeySegments]; ok {
		defs = append(defs, def{s.defaults, []any{"data", KeySegments}, v})
	}
	for _, g := range slices.Sorted(maps.Keys(s.rawGroups)) {
		if v, ok := dataOf(s.rawGroups[g])[KeySegments]; ok {
			defs = append(defs, def{s.groups, []any{g, "data", KeySegments}, v})
		}
	}
	var errs []error
	for _, h := range slices.Sorted(maps.Keys(s.rawHosts)) {
		if _, ok := dataOf(s.rawHosts[h])[KeySegments]; ok {
			errs = append(errs, s.hosts.Errorf([]any{h, "data", KeySegments}, "%s belongs in defaults.yaml or groups.yaml, not on a host", KeySegments))
		}
	}
	out := map[string]testbed.SegmentSpec{}
	where := map[string]string{}
	for _, d := range defs {
		m, ok := d.raw.(map[string]any)
		if !ok {
			errs = append(errs, d.doc.Errorf(d.path, "%s must map segment names to {ipv4, ipv6}", KeySegments))
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(m)) {
			at := append(slices.Clone(d.path), name)
			var sd segmentData
			if err := strictDecode(m[name], &sd); err != nil {
				errs = append(errs, d.doc.Errorf(at, "segment %s: %v", name, err))
				continue
			}
			seg := testbed.SegmentSpec{Name: name}
			var err4, err6 error
			seg.IPv4, err4 = parsePrefix(sd.IPv4, true)
			seg.IPv6, err6 = parsePrefix(sd.IPv6, false)
			if err4 != nil {
				errs = append(errs, d.doc.Errorf(append(at, "ipv4"), "segment %s: %v", name, err4))
			}
			if err6 != nil {
				errs = append(errs, d.doc.Errorf(append(at, "ipv6"), "segment %s: %v", name, err6))
			}
			if err4 != nil || err6 != nil {
				continue
			}
			if prev, dup := out[name]; dup && prev != seg {
				errs = append(errs, d.doc.Errorf(at, "segment %s is already defined differently (%s)", name, where[name]))
				continue
			}
			line, col := d.doc.Pos(at...)
			out[name], where[name] = seg, fmt.Sprintf("%s:%d:%d", d.doc.File, line, col)
		}
	}
	return out, errors.Join(errs...)
}

// parsePrefix parses a segment prefix of one family.
func parsePrefix(s string, v4 bool) (netip.Prefix, error) {
	fam := "IPv6"
	if v4 {
		fam = "IPv4"
	}
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("no %s prefix", fam)
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Is4() != v4 {
		return netip.Prefix{}, fmt.Errorf("%q is not an %s prefix", s, fam)
	}
	return p, nil
}

// strictDecode re-decodes a generic YAML value into v, refusing unknown
// fields. The error is the bare message: positions in the re-encoded text
// mean nothing to the user, who gets the key's own position instead.
func strictDecode(raw any, v any) error {
	b, err := yaml.Marshal(raw)
	if err == nil {
		err = yaml.UnmarshalWithOptions(b, v, yaml.DisallowUnknownField())
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		return errors.New(ye.GetMessage())
	}
	return err
}

// host places a non-router host on its segment.
func (s *sources) host(h *inventory.Host, segs map[string]testbed.SegmentSpec, linux bool) (testbed.HostSpec, error) {
	spec := testbed.HostSpec{Name: h.Name, NoSSHD: !linux}
	if v, ok := h.Data[KeySegment]; ok {
		name, _ := v.(string)
		if _, known := segs[name]; !known {
			return spec, s.errorf(h, KeySegment, "unknown segment %v (defined: %v)", v, slices.Sorted(maps.Keys(segs)))
		}
		spec.Segment = name
	}
	if len(h.Addresses) == 0 {
		return spec, s.hosts.Errorf([]any{h.Name}, "host %s: no address to give it in the lab (hostname or data.addresses)", h.Name)
	}
	if spec.Segment == "" {
		for _, n := range slices.Sorted(maps.Keys(segs)) {
			if segs[n].IPv4.Contains(h.Addresses[0]) || segs[n].IPv6.Contains(h.Addresses[0]) {
				spec.Segment = n
				break
			}
		}
		if spec.Segment == "" {
			return spec, s.hosts.Errorf([]any{h.Name}, "host %s: %s is in no lab segment: set data.%s or change the address", h.Name, h.Addresses[0], KeySegment)
		}
	}
	seg := segs[spec.Segment]
	for _, a := range h.Addresses {
		p := seg.IPv6
		if a.Is4() {
			p = seg.IPv4
		}
		if !p.Contains(a) {
			return spec, s.hosts.Errorf([]any{h.Name}, "host %s: %s is outside its segment %s (%s)", h.Name, a, seg.Name, p)
		}
		spec.Addrs = append(spec.Addrs, netip.PrefixFrom(a, p.Bits()))
	}
	return spec, nil
}

type ifaceData struct {
	Segment   string   `yaml:"segment"`
	Linux     string   `yaml:"linux"`
	Addresses []string `yaml:"addresses"`
	Gateway   bool     `yaml:"gateway"`
}

var linuxNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)

// router turns a host with lab_interfaces into a router namespace.
func (s *sources) router(inv *inventory.Inventory, h *inventory.Host, segs map[string]testbed.SegmentSpec, linux bool) (testbed.RouterSpec, error) {
	// A Linux router is managed over SSH, a NETCONF one over sshd's
	// netconf subsystem (the test starts netconfd behind it); the others'
	// management plane is the test's.
	r := testbed.RouterSpec{Name: h.Name, SSHD: linux || netconfHost(inv, h)}
	raw, ok := h.Data[KeyInterfaces].(map[string]any)
	if !ok || len(raw) == 0 {
		return r, s.errorf(h, KeyInterfaces, "%s must map the device's interface names to {segment, linux, addresses}", KeyInterfaces)
	}
	owned := map[netip.Addr]bool{}
	var errs []error
	for _, dev := range slices.Sorted(maps.Keys(raw)) {
		var d ifaceData
		if err := strictDecode(raw[dev], &d); err != nil {
			errs = append(errs, s.errorAt(h, KeyInterfaces, []any{dev}, "interface %s: %v", dev, err))
			continue
		}
		i := testbed.RouterInterface{Name: dev, Linux: d.Linux, Segment: d.Segment, Gateway: d.Gateway}
		if i.Linux == "" {
			if !linuxNameRE.MatchString(dev) || dev == "lo" {
				errs = append(errs, s.errorAt(h, KeyInterfaces, []any{dev}, "interface %s: not a Linux interface name: set linux (1 to 15 of A-Z a-z 0-9 _ . -)", dev))
				continue
			}
			i.Linux = dev
		}
		seg, ok := segs[d.Segment]
		if !ok {
			errs = append(errs, s.errorAt(h, KeyInterfaces, []any{dev, "segment"}, "interface %s: unknown segment %q (defined: %v)", dev, d.Segment, slices.Sorted(maps.Keys(segs))))
			continue
		}
		for k, a := range d.Addresses {
			p, err := ifaceAddr(a, seg)
			if err != nil {
				errs = append(errs, s.errorAt(h, KeyInterfaces, []any{dev, "addresses", k}, "interface %s: %v", dev, err))
				continue
			}
			i.Addrs = append(i.Addrs, p)
			owned[p.Addr()] = true
		}
		r.Interfaces = append(r.Interfaces, i)
	}
	if err := errors.Join(errs...); err != nil {
		return r, err
	}
	// fwpush reaches the device at its hostname and its inventory
	// addresses: the lab must give it those, on some interface.
	reach := h.Addresses
	if a, err := netip.ParseAddr(h.Hostname); err == nil && !slices.Contains(reach, a.Unmap()) {
		reach = append([]netip.Addr{a.Unmap()}, reach...)
	}
	for _, a := range reach {
		if !owned[a] {
			errs = append(errs, s.hosts.Errorf([]any{h.Name}, "host %s: fwpush reaches it at %s, which none of its %s holds", h.Name, a, KeyInterfaces))
		}
	}
	for k, acl := range h.ACLs {
		if _, ok := raw[acl.Interface]; !ok {
			errs = append(errs, s.hosts.Errorf([]any{h.Name, "data", "acls", k, "interface"}, "host %s: acl interface %s is not in its %s", h.Name, acl.Interface, KeyInterfaces))
		}
	}
	return r, errors.Join(errs...)
}

// ifaceAddr parses a router interface address: with the segment's prefix
// length, or bare (it gets the segment's).
func ifaceAddr(s string, seg testbed.SegmentSpec) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return netip.Prefix{}, fmt.Errorf("bad address %q", s)
		}
		p = netip.PrefixFrom(a, -1)
	}
	sp := seg.IPv6
	if p.Addr().Is4() {
		sp = seg.IPv4
	}
	if !sp.Contains(p.Addr()) {
		return netip.Prefix{}, fmt.Errorf("%s is outside segment %s (%s)", p.Addr(), seg.Name, sp)
	}
	if p.Bits() >= 0 && p.Bits() != sp.Bits() {
		return netip.Prefix{}, fmt.Errorf("%s: segment %s is a /%d", s, seg.Name, sp.Bits())
	}
	return netip.PrefixFrom(p.Addr(), sp.Bits()), nil
}

// execHost says whether h is a host fwpush reaches over SSH exec channels
// (a Linux host): the lab gives it a real sshd and probe listeners.
func execHost(inv *inventory.Inventory, h *inventory.Host) bool {
	info, ok := inv.Platform(h.Platform)
	return ok && info.Transport == "ssh"
}

// netconfHost says whether h is reached over NETCONF.
func netconfHost(inv *inventory.Inventory, h *inventory.Host) bool {
	info, ok := inv.Platform(h.Platform)
	return ok && info.Transport == "netconf"
}
