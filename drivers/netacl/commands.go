package netacl

import (
	"fmt"

	"github.com/fwpush/fwpush/internal/fault"
)

// Conflicts refuses a change that would replace an ACL fwpush does not
// own: binding an ACL where a foreign one is bound replaces it, and
// fwpush touches nothing but its own.
func (d *Dialect) Conflicts(want *Config, dev *Device) error {
	for _, i := range want.Ifaces {
		cur := dev.Iface(i.Name)
		if cur == nil {
			continue
		}
		for _, s := range Slots {
			if w, c := i.Get(s), cur.Get(s); w != "" && c != "" && !Owned(c) {
				return fmt.Errorf("interface %s: %s %s %s is bound there and is not fwpush's: binding %s would replace it; unbind it or bind fwpush's ACL elsewhere: %w",
					i.Name, d.bindWord(s.V6), c, s.Dir, w, fault.ErrNotApplied)
			}
		}
	}
	return nil
}

// ChangeLines are the configuration lines that move the device's owned
// part to want, make-before-break: every object-group and ACL of want is
// written under generation gen beside those in force, each interface is
// re-pointed in one command per binding (so no packet ever meets a
// missing or half-written list), bindings want no longer has are
// removed, and only then every other owned ACL and object-group is
// deleted. Lines are typed from global configuration mode (or a
// configuration session's top level) and end there.
func (d *Dialect) ChangeLines(want *Config, dev *Device, gen int) []string {
	v := func(n string) string { return Versioned(n, gen) }
	var out []string
	for _, g := range want.Groups {
		cp := *g
		cp.Name = v(g.Name)
		cp.Members = nil
		for _, m := range g.Members {
			mc := *m
			if m.Group != "" {
				mc.Group = v(m.Group)
			}
			cp.Members = append(cp.Members, &mc)
		}
		out = append(out, d.groupHeader(&cp))
		out = append(out, d.groupLines(&cp)...)
		out = append(out, "exit")
	}
	for _, a := range want.ACLs {
		cp := *a
		cp.Name = v(a.Name)
		cp.Entries = nil
		for _, e := range a.Entries {
			ec := *e
			if e.Rule != nil {
				r := *e.Rule
				r.Src, r.Dst = renameAddr(r.Src, v), renameAddr(r.Dst, v)
				r.SrcPorts, r.DstPorts = renamePorts(r.SrcPorts, v), renamePorts(r.DstPorts, v)
				if r.SvcGroup != "" {
					r.SvcGroup = v(r.SvcGroup)
				}
				ec.Rule = &r
			}
			cp.Entries = append(cp.Entries, &ec)
		}
		out = append(out, d.aclHeader(&cp))
		out = append(out, d.aclLines(&cp)...)
		out = append(out, "exit")
	}
	for _, i := range want.Ifaces {
		cp := &Iface{Name: i.Name}
		for _, s := range Slots {
			if n := i.Get(s); n != "" {
				cp.Set(s, v(n))
			}
		}
		out = append(out, "interface "+i.Name)
		out = append(out, d.bindLines(cp)...)
		out = append(out, d.unbindLines(dev.Iface(i.Name), i)...)
		out = append(out, "exit")
	}
	for _, i := range dev.Ifaces {
		if want.Iface(i.Name) != nil {
			continue
		}
		if un := d.unbindLines(i, &Iface{}); len(un) > 0 {
			out = append(out, "interface "+i.Name)
			out = append(out, un...)
			out = append(out, "exit")
		}
	}
	for _, o := range dev.ownedObjects() {
		if o.acl {
			out = append(out, d.noACL(o.name, o.v6))
		} else {
			out = append(out, "no object-group "+string(o.kind)+" "+o.name)
		}
	}
	return out
}

// unbindLines remove the owned bindings of cur (the device's interface,
// nil when absent) in the slots want leaves empty.
func (d *Dialect) unbindLines(cur, want *Iface) []string {
	if cur == nil {
		return nil
	}
	var out []string
	for _, s := range Slots {
		if n := cur.Get(s); Owned(n) && want.Get(s) == "" {
			out = append(out, fmt.Sprintf("no %s %s %s", d.bindWord(s.V6), n, s.Dir))
		}
	}
	return out
}
