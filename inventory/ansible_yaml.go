package inventory

import (
	"fmt"

	"github.com/goccy/go-yaml"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// yamlMap is a YAML mapping in document order.
type yamlMap struct{ items yaml.MapSlice }

// readYAML reads an Ansible YAML inventory: each top-level key a group,
// with hosts (entries, each with its variables), vars and children (groups
// of the same shape). A section written as one name is that name with
// nothing under it.
func (a *ansInv) readYAML(doc *yamlsrc.Doc) error {
	var top yaml.MapSlice
	if err := doc.DecodeOrdered(&top); err != nil {
		return err
	}
	for _, it := range top {
		name := fmt.Sprint(it.Key)
		a.yamlGroup(doc, name, it.Value, []any{name})
	}
	return nil
}

func (a *ansInv) yamlGroup(doc *yamlsrc.Doc, name string, v any, path []any) {
	at := origin{doc: doc, path: path}
	g := a.group(name, at)
	if v == nil {
		return
	}
	m, ok := v.(yaml.MapSlice)
	if !ok {
		a.errorf(at, yamlsrc.FieldName(path), "group %s: want a mapping of hosts, vars and children", yamlsrc.Quote(name))
		return
	}
	for _, it := range m {
		key := fmt.Sprint(it.Key)
		sub := append(append([]any{}, path...), key)
		val := it.Value
		if s, isStr := val.(string); isStr {
			val = yaml.MapSlice{{Key: s}}
		}
		if val == nil {
			continue
		}
		section, ok := val.(yaml.MapSlice)
		if !ok {
			a.errorf(origin{doc: doc, path: sub}, yamlsrc.FieldName(sub), "%s of group %s: want a mapping", key, yamlsrc.Quote(name))
			continue
		}
		switch key {
		case "vars":
			for _, x := range section {
				k := fmt.Sprint(x.Key)
				a.setGroupVar(g, k, plainValue(x.Value), origin{doc: doc, path: append(append([]any{}, sub...), k)})
			}
		case "children":
			for _, x := range section {
				child := fmt.Sprint(x.Key)
				cpath := append(append([]any{}, sub...), child)
				a.yamlGroup(doc, child, x.Value, cpath)
				a.addChild(name, child, origin{doc: doc, path: cpath})
			}
		case "hosts":
			for _, x := range section {
				a.yamlHost(doc, name, x, sub)
			}
		default:
			a.errorf(origin{doc: doc, path: sub}, yamlsrc.FieldName(sub), "group %s: unexpected key %s: a group has hosts, vars and children", yamlsrc.Quote(name), yamlsrc.Quote(key))
		}
	}
}

// yamlHost reads one entry of a group's hosts: a host name, range or
// name:port, and its variables.
func (a *ansInv) yamlHost(doc *yamlsrc.Doc, group string, x yaml.MapItem, sub []any) {
	entry, ok := x.Key.(string)
	hpath := append(append([]any{}, sub...), fmt.Sprint(x.Key))
	at := origin{doc: doc, path: hpath}
	if !ok {
		a.errorf(at, yamlsrc.FieldName(hpath), "host %s: quote a host name that YAML reads as a number", yamlsrc.Quote(fmt.Sprint(x.Key)))
		return
	}
	names, port, err := expandHostPattern(entry)
	if err != nil {
		a.errorf(at, yamlsrc.FieldName(hpath), "%v", err)
		return
	}
	var vars yaml.MapSlice
	switch v := x.Value.(type) {
	case nil:
	case yaml.MapSlice:
		vars = v
	default:
		a.errorf(at, yamlsrc.FieldName(hpath), "host %s: want a mapping of its variables", yamlsrc.Quote(entry))
		return
	}
	for _, n := range names {
		h := a.addHost(n, group, port, at)
		for _, kv := range vars {
			k := fmt.Sprint(kv.Key)
			h.vars[k] = ansVar{val: plainValue(kv.Value), at: origin{doc: doc, path: append(append([]any{}, hpath...), k)}}
		}
	}
}

// plainValue turns ordered mappings back into the maps fwpush's data
// holds.
func plainValue(v any) any {
	switch x := v.(type) {
	case yaml.MapSlice:
		m := make(map[string]any, len(x))
		for _, it := range x {
			m[fmt.Sprint(it.Key)] = plainValue(it.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	}
	return v
}
