package inventory

import (
	"fmt"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// readContainerlab reads the topology-data.json a deployed containerlab
// lab exports (its default template): one host per node, named as in the
// topology, reached at its management IPv4 address (else IPv6, else its
// long name, which containerlab puts in /etc/hosts), owning both
// management addresses. Its roles are its kind (as in containerlab's
// Ansible inventory) and its group, if it has one; its platform is its
// kind. kind, image, longname, fqdn and labels are kept as data.
func readContainerlab(f Format) (*rawInventory, error) {
	nodes, _ := f.top["nodes"].(map[string]any)
	loc := clabLoc{doc: f.doc, fields: map[string]map[string][]any{}}
	raw := &rawInventory{label: f.Path, hosts: map[string]rawHost{}, implicit: map[string]bool{}}
	raw.src.hosts = loc
	for _, name := range sortedKeys(nodes) {
		at := []any{"nodes", name}
		n, ok := nodes[name].(map[string]any)
		if !ok {
			raw.errs = append(raw.errs, f.doc.Errorf(at, "node %s: want a mapping", yamlsrc.Quote(name)))
			continue
		}
		str := func(k string) string {
			if s, ok := n[k].(string); ok {
				return s
			}
			return ""
		}
		kind, group := str("kind"), str("group")
		fields := map[string][]any{"platform": append(at, "kind"), "groups.0": append(at, "kind"), "groups.1": append(at, "group")}
		r := rawHost{Platform: kind, Data: map[string]any{}}
		if kind != "" {
			r.Groups = append(r.Groups, kind)
			raw.implicit[kind] = true
		}
		if group != "" && group != kind {
			r.Groups = append(r.Groups, group)
			raw.implicit[group] = true
		}
		var addrs []any
		for _, k := range []string{"mgmt-ipv4-address", "mgmt-ipv6-address"} {
			if a := str(k); a != "" {
				fields[fmt.Sprintf("data.addresses.%d", len(addrs))] = append(at, k)
				addrs = append(addrs, a)
				if r.Hostname == "" {
					r.Hostname, fields["hostname"] = a, append(at, k)
				}
			}
		}
		if r.Hostname == "" {
			r.Hostname, fields["hostname"] = str("longname"), append(at, "longname")
		}
		if len(addrs) > 0 {
			r.Data["addresses"] = addrs
		}
		for _, k := range []string{"kind", "image", "longname", "fqdn", "labels"} {
			if v, ok := n[k]; ok && v != "" {
				r.Data[k] = v
				fields["data."+k] = append(at, k)
			}
		}
		loc.fields[name] = fields
		raw.hosts[name] = r
	}
	if err := raw.readNetworks(f.Dir); err != nil {
		return nil, err
	}
	return raw, nil
}

// clabLoc locates a host's fields at the node's JSON fields they came
// from.
type clabLoc struct {
	doc    *yamlsrc.Doc
	fields map[string]map[string][]any
}

func (l clabLoc) path(path []any) []any {
	if len(path) == 0 {
		return []any{"nodes"}
	}
	name := fmt.Sprint(path[0])
	node := []any{"nodes", name}
	fields := l.fields[name]
	for n := len(path); n > 1; n-- {
		key := ""
		for i, p := range path[1:n] {
			if i > 0 {
				key += "."
			}
			key += fmt.Sprint(p)
		}
		if p, ok := fields[key]; ok {
			return p
		}
	}
	return node
}

func (l clabLoc) Errorf(path []any, format string, args ...any) error {
	return l.doc.Errorf(l.path(path), format, args...)
}

func (l clabLoc) Where(path ...any) (string, int, int) {
	line, col := l.doc.Pos(l.path(path)...)
	return l.doc.File, line, col
}
