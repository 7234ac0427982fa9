package netsim

import (
	"fmt"
	"strings"
)

func (d *nxos) showTree() *node {
	name := func(f func(c *cmdCtx) error) *node { return prm(pWord, "name").do(f) }
	return kw("show",
		kw("version").do(d.showVersion),
		kw("users").do(showUsers),
		kw("clock").do(func(c *cmdCtx) error {
			now := c.s.dev.clock.Now().UTC()
			c.s.printf("%s UTC %s\n", now.Format("15:04:05.000"), now.Format("Mon Jan 02 2006"))
			return nil
		}),
		kw("running-config").do(func(c *cmdCtx) error {
			c.s.printf("%s", d.renderConfig(c.s.dev, c.s.dev.running))
			return nil
		}).withNext(kw("aclmgr").do(d.showAclmgr)),
		kw("startup-config").do(func(c *cmdCtx) error {
			c.s.printf("%s", strings.Replace(d.renderConfig(c.s.dev, c.s.dev.startup), "!Command: show running-config", "!Command: show startup-config", 1))
			return nil
		}),
		kw("ip", kw("access-lists").do(d.showACLs(true, false)).withNext(name(d.showACLs(true, false)))),
		kw("ipv6", kw("access-lists").do(d.showACLs(false, true)).withNext(name(d.showACLs(false, true)))),
		kw("access-lists").do(d.showACLs(true, true)).withNext(name(d.showACLs(true, true))),
		kw("object-group").do(d.showGroups).withNext(name(d.showGroups)),
		kw("checkpoint", kw("summary").do(d.showCheckpoints)),
		kw("configuration", kw("session").do(d.showSessions).withNext(
			kw("summary").do(d.showSessionSummary), name(d.showSessions))),
	)
}

func (d *nxos) showVersion(c *cmdCtx) error {
	c.s.printf("fwpush lab simulator (netsim), Cisco NX-OS CLI dialect -- not a Cisco product\n" +
		"Simulated command set: NX-OS 9.3 ACL, Session Manager, checkpoint/rollback and EEM commands\n")
	return nil
}

func (d *nxos) header(dev *Device, what string) string {
	t := dev.clock.Now().UTC().Format("Mon Jan _2 15:04:05 2006")
	return fmt.Sprintf("\n!Command: %s\n!Running configuration last done at: %s\n!Time: %s\n\nversion 9.3(8) Bios:version  \n", what, t, t)
}

// renderConfig prints the running configuration with NX-OS's two-space
// indentation and numbered ACL and object-group lines.
func (d *nxos) renderConfig(dev *Device, c *Config) string {
	var b strings.Builder
	b.WriteString(d.header(dev, "show running-config"))
	for _, sec := range c.sections {
		switch sec.kind {
		case secOpaque:
			for _, l := range sec.lines {
				b.WriteString(l + "\n")
			}
		case secHostname:
			fmt.Fprintf(&b, "hostname %s\n", c.Hostname)
		case secGroup:
			d.writeGroup(&b, c.groups[sec.key])
		case secACL:
			d.writeACL(&b, c.acls[sec.key])
		case secIface:
			writeIface(&b, c.ifaces[sec.key], "  ", "ipv6 traffic-filter")
		case secApplet:
			a := c.applets[sec.key]
			fmt.Fprintf(&b, "event manager applet %s\n", a.Name)
			for _, l := range a.Lines {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (d *nxos) writeACL(b *strings.Builder, a *ACL) {
	kwd := "ip"
	if a.V6 {
		kwd = "ipv6"
	}
	fmt.Fprintf(b, "%s access-list %s\n", kwd, a.Name)
	for _, o := range a.Options {
		fmt.Fprintf(b, "  %s\n", o)
	}
	for _, e := range a.Entries {
		if e.Rule == nil {
			fmt.Fprintf(b, "  %d remark %s\n", e.Seq, e.Remark)
		} else {
			fmt.Fprintf(b, "  %d %s\n", e.Seq, renderRule(d, a.V6, e.Rule))
		}
	}
}

func (d *nxos) writeGroup(b *strings.Builder, g *ObjectGroup) {
	fmt.Fprintf(b, "object-group %s %s\n", g.Kind, g.Name)
	for _, e := range g.Entries {
		fmt.Fprintf(b, "  %d %s\n", e.Seq, e.Text)
	}
}

// showAclmgr is `show running-config aclmgr`: object-groups, ACLs and the
// interfaces' ACL lines only.
func (d *nxos) showAclmgr(c *cmdCtx) error {
	dev := c.s.dev
	cfg := dev.running
	var b strings.Builder
	b.WriteString(d.header(dev, "show running-config aclmgr"))
	for _, sec := range cfg.sections {
		switch sec.kind {
		case secGroup:
			d.writeGroup(&b, cfg.groups[sec.key])
		case secACL:
			d.writeACL(&b, cfg.acls[sec.key])
		}
	}
	for _, sec := range cfg.sections {
		if sec.kind != secIface {
			continue
		}
		i := cfg.ifaces[sec.key]
		if i.In4 == "" && i.Out4 == "" && i.In6 == "" && i.Out6 == "" {
			continue
		}
		writeIface(&b, &Interface{Name: i.Name, In4: i.In4, Out4: i.Out4, In6: i.In6, Out6: i.Out6}, "  ", "ipv6 traffic-filter")
	}
	c.s.printf("%s\n", b.String())
	return nil
}

// showACLs prints `show ip access-lists` in NX-OS's format (fixtures
// cisco_nxos_show_access-lists*.raw): eight-space indent, remarks shown.
func (d *nxos) showACLs(v4, v6 bool) func(c *cmdCtx) error {
	return func(c *cmdCtx) error {
		cfg := c.s.dev.running
		name := c.arg("name")
		for _, sec := range cfg.sections {
			if sec.kind != secACL {
				continue
			}
			a := cfg.acls[sec.key]
			if (a.V6 && !v6) || (!a.V6 && !v4) || (name != "" && a.Name != name) {
				continue
			}
			title := "IP"
			if a.V6 {
				title = "IPv6"
			}
			c.s.printf("%s access list %s\n", title, a.Name)
			for _, o := range a.Options {
				c.s.printf("        %s\n", o)
			}
			for _, e := range a.Entries {
				if e.Rule == nil {
					c.s.printf("        %d remark %s\n", e.Seq, e.Remark)
				} else {
					c.s.printf("        %d %s\n", e.Seq, renderRule(d, a.V6, e.Rule))
				}
			}
		}
		c.s.printf("\n")
		return nil
	}
}

func (d *nxos) showGroups(c *cmdCtx) error {
	cfg := c.s.dev.running
	name := c.arg("name")
	for _, sec := range cfg.sections {
		if sec.kind != secGroup {
			continue
		}
		g := cfg.groups[sec.key]
		if name != "" && g.Name != name {
			continue
		}
		title := map[string]string{"ip address": "IPv4 address", "ip port": "IPv4 port", "ipv6 address": "IPv6 address"}[g.Kind]
		c.s.printf("%s object-group %s\n", title, g.Name)
		for _, e := range g.Entries {
			c.s.printf("        %d %s\n", e.Seq, e.Text)
		}
	}
	c.s.printf("\n")
	return nil
}

// showCheckpoints prints `show checkpoint summary` (fixture
// genie-ShowCheckpointSummary).
func (d *nxos) showCheckpoints(c *cmdCtx) error {
	dev := c.s.dev
	for i, n := range dev.nxos.cpOrder {
		cp := dev.nxos.checkpoints[n]
		desc := cp.desc
		if desc == "" {
			desc = "None"
		}
		size := len(d.renderConfig(dev, cp.cfg))
		c.s.printf("\n%d) %s:\nCreated by %s\nCreated at %s\nSize is %s bytes\nUser Checkpoint Summary\n"+
			"-----------------------------------------------------\nDescription: %s\n",
			i+1, n, cp.user, cp.created.UTC().Format("Mon, 15:04:05 02 Jan 2006"), commas(size), desc)
	}
	c.s.printf("\n")
	return nil
}

func commas(n int) string {
	s := itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// showSessionSummary prints `show configuration session summary` (fixture
// cisco_nxos_show_configuration_session_summary.raw).
func (d *nxos) showSessionSummary(c *cmdCtx) error {
	dev := c.s.dev
	line := strings.Repeat("-", 68)
	c.s.printf("Session Manager Database:\n%s\n%-24s%-24s%s\n%s\n", line, "Name", "Session Owner", "Creation Time", line)
	for _, n := range dev.nxos.order {
		ns := dev.nxos.sessions[n]
		if ns == nil {
			continue
		}
		c.s.printf("%-24s%-24s%s\n", n, ns.cs.user, ns.created.UTC().Format("15:04:05 UTC Jan 02 2006"))
	}
	c.s.printf("\nNumber of active configuration sessions = %d\n\n", len(dev.nxos.sessions))
	return nil
}

func (d *nxos) showSessions(c *cmdCtx) error {
	dev := c.s.dev
	name := c.arg("name")
	for _, n := range sortedKeys(dev.nxos.sessions) {
		if name != "" && n != name {
			continue
		}
		ns := dev.nxos.sessions[n]
		c.s.printf("config session %s\n", n)
		for i, l := range ns.cmds {
			c.s.printf("%04d  %s\n", i+1, l)
		}
		c.s.printf("\n")
	}
	return nil
}
