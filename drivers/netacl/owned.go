package netacl

import "sort"

// Owned is the part of dev fwpush owns, in canonical form: the FWPUSH-*
// ACLs bound to interfaces, the object-groups they use (nested ones
// included) and those bindings, every name without its generation
// suffix. Objects of older generations or never bound (a change
// interrupted before its swap) are not part of it; Apply removes them.
func (dev *Device) Owned() *Config {
	out := &Config{}
	seenACL := map[string]bool{}
	seenGroup := map[string]bool{}
	var addGroup func(name string)
	addGroup = func(name string) {
		if !Owned(name) || seenGroup[name] {
			return
		}
		seenGroup[name] = true
		g := dev.Group(name)
		if g == nil {
			return
		}
		cp := *g
		cp.Name = base(g.Name)
		cp.Members = nil
		for _, m := range g.Members {
			mc := *m
			if m.Group != "" {
				addGroup(m.Group)
				mc.Group = base(m.Group)
			}
			cp.Members = append(cp.Members, &mc)
		}
		out.Groups = append(out.Groups, &cp)
	}
	for _, i := range dev.Ifaces {
		var keep *Iface
		for _, s := range Slots {
			n := i.Get(s)
			if !Owned(n) {
				continue
			}
			if keep == nil {
				keep = &Iface{Name: i.Name}
				out.Ifaces = append(out.Ifaces, keep)
			}
			keep.Set(s, base(n))
			key := n + "|" + map[bool]string{false: "4", true: "6"}[s.V6]
			if seenACL[key] {
				continue
			}
			seenACL[key] = true
			a := dev.ACL(n, s.V6)
			if a == nil {
				continue
			}
			cp := *a
			cp.Name = base(a.Name)
			cp.Entries = nil
			for _, e := range a.Entries {
				ec := *e
				if e.Rule != nil {
					r := *e.Rule
					r.Src, r.Dst = renameAddr(r.Src, base), renameAddr(r.Dst, base)
					r.SrcPorts, r.DstPorts = renamePorts(r.SrcPorts, base), renamePorts(r.DstPorts, base)
					for _, g := range []string{e.Rule.Src.Group, e.Rule.Dst.Group, e.Rule.SrcPorts.Group, e.Rule.DstPorts.Group, e.Rule.SvcGroup} {
						if g != "" {
							addGroup(g)
						}
					}
					if r.SvcGroup != "" {
						r.SvcGroup = base(r.SvcGroup)
					}
					ec.Rule = &r
				}
				cp.Entries = append(cp.Entries, &ec)
			}
			out.ACLs = append(out.ACLs, &cp)
		}
	}
	out.sort()
	return out
}

// base strips an owned name's generation.
func base(name string) string {
	if b, _, ok := SplitGen(name); ok && Owned(name) {
		return b
	}
	return name
}

func renameAddr(a Addr, f func(string) string) Addr {
	if a.Group != "" {
		a.Group = f(a.Group)
	}
	return a
}

func renamePorts(p Ports, f func(string) string) Ports {
	if p.Group != "" {
		p.Group = f(p.Group)
	}
	return p
}

// object is one owned ACL or object-group on the device.
type object struct {
	acl  bool
	v6   bool
	kind GroupKind
	name string
}

// ownedObjects lists every FWPUSH-* ACL and object-group on the device
// but the lock, ACLs first (they use the groups), each kind sorted.
func (dev *Device) ownedObjects() []object {
	var out []object
	for _, a := range dev.ACLs {
		if Owned(a.Name) && a.Name != LockName {
			out = append(out, object{acl: true, v6: a.V6, name: a.Name})
		}
	}
	for _, g := range dev.Groups {
		if Owned(g.Name) {
			out = append(out, object{kind: g.Kind, name: g.Name})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].acl != out[j].acl {
			return out[i].acl
		}
		return out[i].name < out[j].name
	})
	return out
}

// Generation is the highest generation of any owned object on the
// device (0: none).
func (dev *Device) Generation() int {
	g := 0
	for _, o := range dev.ownedObjects() {
		if _, n, ok := SplitGen(o.name); ok && n > g {
			g = n
		}
	}
	return g
}
