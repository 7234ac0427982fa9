package netsim

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// ios is the Cisco IOS-XE dialect.
type ios struct {
	trees map[string][]*node
}

type iosState struct {
	revert   *iosRevert
	archives []string // archive files, oldest first
	next     int      // number of the next archive file
}

// iosRevert is a pending Rollback Confirmed Change.
type iosRevert struct {
	t        Timer
	warn     Timer
	deadline time.Time
	minutes  int
	archive  string
	user     string
	owner    *session
}

func newIOS() *ios {
	d := &ios{}
	d.build()
	return d
}

func (d *ios) name() Platform { return PlatformIOSXE }

func (d *ios) initialMode(priv int) string {
	if priv >= 15 {
		return modePriv
	}
	return modeExec
}

func (d *ios) order() []sectionKind {
	return []sectionKind{secHostname, secOpaque, secIface, secGroup, secACL, secArchive}
}

func (d *ios) prompt(s *session) string {
	h := s.dev.hostname()
	switch s.mode {
	case modeExec:
		return h + ">"
	case modePriv:
		return h + "#"
	case modeConfig:
		return h + "(config)#"
	case modeACL:
		return h + "(config-ext-nacl)#"
	case modeACL6:
		return h + "(config-ipv6-acl)#"
	case modeGroup:
		if strings.HasPrefix(s.group, "service|") {
			return h + "(config-service-group)#"
		}
		return h + "(config-network-group)#"
	case modeIface:
		return h + "(config-if)#"
	case modeArchive:
		return h + "(config-archive)#"
	}
	return h + "#"
}

func (d *ios) tree(s *session) []*node { return d.trees[s.mode] }

func (d *ios) parentMode(s *session) string { return modeConfig }

func (d *ios) modeChanged(s *session, from, to string) {
	if to == modeConfig && (from == modePriv || from == modeExec) {
		s.block = 0
	}
}

func (d *ios) sessionClosed(s *session) {
	if r := s.dev.ios.revert; r != nil && r.owner == s {
		r.owner = nil
	}
}

func (d *ios) noGroup(name string) error {
	return refuse("%% Object-group %s does not exist", name)
}

func (d *ios) dupSeq(seq int) error { return refuse("%% Duplicate sequence number") }

// formatError prints IOS's refusals: the caret under the offending token
// and "% Invalid input detected at '^' marker.", "% Incomplete command.",
// `% Ambiguous command:  "..."`.
func (d *ios) formatError(s *session, line string, err error) string {
	switch e := err.(type) {
	case *cliError:
		switch e.kind {
		case errIncomplete:
			return "% Incomplete command.\n\n"
		case errAmbiguous:
			return fmt.Sprintf("%% Ambiguous command:  %q\n", strings.TrimSpace(line))
		}
		toks := tokenize(line)
		if !s.inConfig() && len(toks) == 1 && e.col == toks[0].col {
			// An unknown word in exec mode is taken for a host to telnet to.
			return "% Unknown command or computer name, or unable to find computer address\n"
		}
		return caretError(d.prompt(s), e.col, "% Invalid input detected at '^' marker.") + "\n"
	case *msgError:
		return e.msg + "\n"
	}
	return err.Error() + "\n"
}

func (d *ios) banner(dev *Device) string {
	return "\nfwpush lab simulator (netsim): IOS-XE CLI dialect. Not a Cisco product.\n\n"
}

func (d *ios) build() {
	end := kw("end").do(func(c *cmdCtx) error { c.s.setMode(modePriv); return nil })
	exitCfg := kw("exit").do(func(c *cmdCtx) error {
		if c.s.mode == modeConfig {
			c.s.setMode(modePriv)
		} else {
			c.s.setMode(modeConfig)
		}
		return nil
	})
	term := kw("terminal",
		kw("length", intp("n", 0, 512).do(func(c *cmdCtx) error { c.s.termLen = c.intArg("n"); return nil })),
		kw("width", intp("n", 0, 512).do(func(c *cmdCtx) error { c.s.termWidth = c.intArg("n"); return nil })),
		kw("monitor").do(func(c *cmdCtx) error { return nil }))
	quit := func(c *cmdCtx) error { c.s.killAfter = true; return nil }
	showUser := kw("show",
		kw("version").do(d.showVersion),
		kw("users").do(showUsers),
		kw("clock").do(showClock))
	d.trees = map[string][]*node{}
	d.trees[modeExec] = []*node{
		kw("enable").do(d.enable),
		kw("exit").do(quit), kw("logout").do(quit), kw("quit").do(quit),
		term, showUser,
	}
	acls := func(name string, f func(c *cmdCtx) error) *node { return prm(pWord, name).do(f) }
	show := kw("show",
		kw("version").do(d.showVersion),
		kw("users").do(showUsers),
		kw("clock").do(showClock),
		kw("running-config").do(func(c *cmdCtx) error {
			c.s.printf("%s", d.renderConfig(c.s.dev, c.s.dev.running))
			return nil
		}),
		kw("startup-config").do(func(c *cmdCtx) error {
			body := d.body(c.s.dev.startup)
			c.s.printf("Using %d out of 33554432 bytes\n%s", len(body), body)
			return nil
		}),
		kw("ip", kw("access-lists").do(d.showACLs(false, true)).withNext(acls("name", d.showACLs(false, true)))),
		kw("access-lists").do(d.showACLs(true, true)).withNext(acls("name", d.showACLs(true, true))),
		kw("ipv6", kw("access-list").do(d.showACLs(true, false)).withNext(acls("name", d.showACLs(true, false)))),
		kw("object-group").do(d.showGroups).withNext(prm(pWord, "name").do(d.showGroups)),
		kw("archive").do(d.showArchive).withNext(
			kw("config", kw("rollback", kw("timer").do(d.showRollbackTimer)))),
	)
	copyCmd := kw("copy", kw("running-config",
		kw("startup-config").do(d.copyStartup),
		prm(pWord, "dst").do(d.copyFile)))
	write := kw("write").do(d.writeMemory).withNext(kw("memory").do(d.writeMemory))
	configure := kw("configure",
		kw("terminal").do(d.confT).withNext(kw("revert", kw("timer", intp("min", 1, 120).do(d.confT)))),
		kw("confirm").do(d.confirm),
		kw("revert",
			kw("now").do(d.revertNow),
			kw("timer", intp("min", 1, 120).do(d.revertTimer))),
		kw("replace", prm(pWord, "file").restf(d.replace)))
	d.trees[modePriv] = []*node{
		kw("enable").do(func(c *cmdCtx) error { return nil }),
		kw("disable").do(func(c *cmdCtx) error { c.s.setMode(modeExec); return nil }),
		kw("exit").do(quit), kw("logout").do(quit), kw("quit").do(quit),
		term, show, copyCmd, write, configure,
		kw("archive", kw("config").do(d.archiveConfig)),
	}
	do := kw("do", prm(pLine, "cmd").do(func(c *cmdCtx) error {
		saved := c.s.mode
		c.s.mode = modePriv
		c.s.process(c.arg("cmd"))
		c.s.mode = saved
		return nil
	}))
	groupCmd := func(kind string) *node {
		return kw(kind, prm(pWord, "name").do(func(c *cmdCtx) error {
			return enterGroup(c, kind, c.arg("name"), modeGroup)
		}))
	}
	noGroupCmd := func(kind string) *node {
		return kw(kind, prm(pWord, "name").do(func(c *cmdCtx) error {
			deleteGroup(c.s, kind, c.arg("name"))
			return nil
		}))
	}
	d.trees[modeConfig] = []*node{
		kw("hostname", prm(pWord, "name").do(func(c *cmdCtx) error {
			c.s.cfg().Hostname = c.arg("name")
			c.s.changed()
			return nil
		})),
		kw("ip", kw("access-list",
			kw("extended", prm(pWord, "name").do(func(c *cmdCtx) error {
				return enterACL(c, false, c.arg("name"), modeACL)
			})),
			kw("resequence", prm(pWord, "name", intp("start", 1, 2147483647, intp("inc", 1, 2147483647).do(func(c *cmdCtx) error {
				return resequence(c.s, false, c.arg("name"), c.intArg("start"), c.intArg("inc"))
			})))))),
		kw("ipv6", kw("access-list", prm(pWord, "name").do(func(c *cmdCtx) error {
			return enterACL(c, true, c.arg("name"), modeACL6)
		}))),
		kw("object-group", groupCmd("network"), groupCmd("service")),
		kw("interface").restf(enterIface),
		kw("archive").do(func(c *cmdCtx) error {
			cfg := c.s.cfg()
			if cfg.archive == nil {
				cfg.archive = &Archive{}
				cfg.place(secArchive, "archive", d.order())
				c.s.changed()
			}
			c.s.setMode(modeArchive)
			return nil
		}),
		kw("no",
			kw("hostname").do(func(c *cmdCtx) error { c.s.cfg().Hostname = "Router"; c.s.changed(); return nil }),
			kw("ip", kw("access-list", kw("extended", prm(pWord, "name").do(func(c *cmdCtx) error {
				deleteACL(c.s, false, c.arg("name"))
				return nil
			})))),
			kw("ipv6", kw("access-list", prm(pWord, "name").do(func(c *cmdCtx) error {
				deleteACL(c.s, true, c.arg("name"))
				return nil
			}))),
			kw("object-group", noGroupCmd("network"), noGroupCmd("service")),
			kw("archive").do(func(c *cmdCtx) error {
				cfg := c.s.cfg()
				if cfg.archive != nil {
					cfg.archive = nil
					cfg.unplace(secArchive, "archive")
					c.s.changed()
				}
				return nil
			})),
		end, exitCfg, do,
	}
	sub := func(nodes ...*node) []*node { return append(nodes, end, exitCfg, do) }
	d.trees[modeACL] = sub(aclEntryNodes(2147483647)...)
	d.trees[modeACL6] = sub(iosV6EntryNodes()...)
	d.trees[modeGroup] = sub(iosGroupNodes()...)
	d.trees[modeIface] = sub(ifaceNodes("traffic-filter")...)
	d.trees[modeArchive] = sub(
		kw("path", prm(pWord, "url").do(func(c *cmdCtx) error {
			c.s.cfg().archive.Path = c.arg("url")
			c.s.changed()
			return nil
		})),
		kw("maximum", intp("n", 1, 14).do(func(c *cmdCtx) error {
			c.s.cfg().archive.Maximum = c.intArg("n")
			c.s.changed()
			return nil
		})),
		kw("write-memory").do(func(c *cmdCtx) error {
			c.s.cfg().archive.WriteMemory = true
			c.s.changed()
			return nil
		}),
		kw("time-period", intp("n", 1, 525600).do(func(c *cmdCtx) error {
			c.s.cfg().archive.TimePeriod = c.intArg("n")
			c.s.changed()
			return nil
		})),
		kw("no",
			kw("path").do(func(c *cmdCtx) error { c.s.cfg().archive.Path = ""; c.s.changed(); return nil }),
			kw("maximum").do(func(c *cmdCtx) error { c.s.cfg().archive.Maximum = 0; c.s.changed(); return nil }),
			kw("write-memory").do(func(c *cmdCtx) error { c.s.cfg().archive.WriteMemory = false; c.s.changed(); return nil })),
	)
}

// iosV6EntryNodes: IOS IPv6 ACL lines put the number after `sequence`.
func iosV6EntryNodes() []*node {
	rule := func(action string) *node {
		return kw(action).restf(func(c *cmdCtx, toks []token) error {
			r, err := parseRule(c.s.d, c.s.cfg(), true, action, toks, c.end)
			if err != nil {
				return err
			}
			return addRule(c.s, c.intArg("seq"), r)
		})
	}
	remark := func() *node {
		return kw("remark", prm(pLine, "text").do(func(c *cmdCtx) error {
			return addRemark(c.s, c.intArg("seq"), c.arg("text"))
		}))
	}
	noRule := func(action string) *node {
		return kw(action).restf(func(c *cmdCtx, toks []token) error {
			r, err := parseRule(c.s.d, c.s.cfg(), true, action, toks, c.end)
			if err != nil {
				return err
			}
			return removeRule(c.s, r)
		})
	}
	return []*node{
		rule("permit"), rule("deny"), remark(),
		kw("sequence", intp("seq", 1, 4294967295, rule("permit"), rule("deny"), remark())),
		kw("no", kw("sequence", intp("nseq", 1, 4294967295).do(func(c *cmdCtx) error {
			return removeSeq(c.s, c.intArg("nseq"))
		})), noRule("permit"), noRule("deny")),
	}
}

func (n *node) withNext(more ...*node) *node { n.next = append(n.next, more...); return n }

func (d *ios) enable(c *cmdCtx) error {
	s := c.s
	secret := s.dev.opts.EnableSecret
	if secret == "" {
		return refuse("%% No password set")
	}
	tries := 0
	var ask func(s *session, reply string)
	ask = func(s *session, reply string) {
		if reply == secret {
			s.setMode(modePriv)
			return
		}
		tries++
		if tries >= 3 {
			s.printf("%% Bad secrets\n\n")
			return
		}
		s.ask = &question{prompt: "Password: ", answer: ask}
	}
	s.ask = &question{prompt: "Password: ", answer: ask}
	return nil
}

func showClock(c *cmdCtx) error {
	now := c.s.dev.clock.Now().UTC()
	c.s.printf("*%s UTC %s\n", now.Format("15:04:05.000"), now.Format("Mon Jan 2 2006"))
	return nil
}

func (d *ios) showVersion(c *cmdCtx) error {
	c.s.printf("fwpush lab simulator (netsim), Cisco IOS-XE CLI dialect -- not a Cisco product\n"+
		"Simulated command set: IOS-XE 16.x/17.x ACL, archive and rollback commands\n\n"+
		"%s uptime is 1 day, 0 hours, 0 minutes\n", c.s.dev.hostname())
	return nil
}

// --- rendering -----------------------------------------------------------

func (d *ios) renderConfig(dev *Device, c *Config) string {
	body := d.body(c)
	return fmt.Sprintf("Building configuration...\n\nCurrent configuration : %d bytes\n%s", len(body), body)
}

func (d *ios) body(c *Config) string {
	var b strings.Builder
	b.WriteString("!\n")
	for _, sec := range c.sections {
		switch sec.kind {
		case secOpaque:
			for _, l := range sec.lines {
				b.WriteString(l + "\n")
			}
		case secHostname:
			fmt.Fprintf(&b, "hostname %s\n", c.Hostname)
		case secACL:
			d.writeACL(&b, c.acls[sec.key])
		case secGroup:
			d.writeGroup(&b, c.groups[sec.key])
		case secIface:
			writeIface(&b, c.ifaces[sec.key], " ", "ipv6 traffic-filter")
		case secArchive:
			a := c.archive
			b.WriteString("archive\n")
			if a.Path != "" {
				fmt.Fprintf(&b, " path %s\n", a.Path)
			}
			if a.Maximum > 0 {
				fmt.Fprintf(&b, " maximum %d\n", a.Maximum)
			}
			if a.WriteMemory {
				b.WriteString(" write-memory\n")
			}
			if a.TimePeriod > 0 {
				fmt.Fprintf(&b, " time-period %d\n", a.TimePeriod)
			}
			for _, l := range a.Other {
				b.WriteString(" " + l + "\n")
			}
		}
		b.WriteString("!\n")
	}
	b.WriteString("end\n")
	return b.String()
}

// padAction pads deny to the width of permit, as IOS running-config and
// standard-ACL show output do.
func padAction(body string) string {
	if strings.HasPrefix(body, "deny ") {
		return "deny   " + body[5:]
	}
	return body
}

func (d *ios) writeACL(b *strings.Builder, a *ACL) {
	if a.V6 {
		fmt.Fprintf(b, "ipv6 access-list %s\n", a.Name)
		for _, e := range a.Entries {
			if e.Rule == nil {
				fmt.Fprintf(b, " sequence %d remark %s\n", e.Seq, e.Remark)
			} else {
				fmt.Fprintf(b, " sequence %d %s\n", e.Seq, renderRule(d, true, e.Rule))
			}
		}
		return
	}
	fmt.Fprintf(b, "ip access-list extended %s\n", a.Name)
	for _, e := range a.Entries {
		if e.Rule == nil {
			fmt.Fprintf(b, " %d remark %s\n", e.Seq, e.Remark)
		} else {
			fmt.Fprintf(b, " %d %s\n", e.Seq, padAction(renderRule(d, false, e.Rule)))
		}
	}
	for _, r := range a.Trailing {
		fmt.Fprintf(b, " remark %s\n", r)
	}
}

func (d *ios) writeGroup(b *strings.Builder, g *ObjectGroup) {
	fmt.Fprintf(b, "object-group %s %s\n", g.Kind, g.Name)
	if g.Description != "" {
		fmt.Fprintf(b, " description %s\n", g.Description)
	}
	for _, e := range g.Entries {
		fmt.Fprintf(b, " %s\n", e.Text)
	}
}

// writeIface prints an interface: its lines in order, the ACL bindings
// after the address lines (where IOS, NX-OS and EOS print them).
func writeIface(b *strings.Builder, i *Interface, ind, v6kw string) {
	fmt.Fprintf(b, "interface %s\n", i.Name)
	var binds []string
	if i.In4 != "" {
		binds = append(binds, "ip access-group "+i.In4+" in")
	}
	if i.Out4 != "" {
		binds = append(binds, "ip access-group "+i.Out4+" out")
	}
	if i.In6 != "" {
		binds = append(binds, v6kw+" "+i.In6+" in")
	}
	if i.Out6 != "" {
		binds = append(binds, v6kw+" "+i.Out6+" out")
	}
	at := 0
	for n, l := range i.Lines {
		if strings.HasPrefix(l, "description") || strings.HasPrefix(l, "ip address") || strings.HasPrefix(l, "ipv6 address") || strings.HasPrefix(l, "no ip address") {
			at = n + 1
		}
	}
	for _, l := range i.Lines[:at] {
		b.WriteString(ind + l + "\n")
	}
	for _, l := range binds {
		b.WriteString(ind + l + "\n")
	}
	for _, l := range i.Lines[at:] {
		b.WriteString(ind + l + "\n")
	}
}

// showACLs prints `show ip access-lists`, `show access-lists` and
// `show ipv6 access-list` in IOS's format: no remarks, four-space indent,
// IPv6 numbers at the end of the line.
func (d *ios) showACLs(v6, v4 bool) func(c *cmdCtx) error {
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
			if a.V6 {
				c.s.printf("IPv6 access list %s\n", a.Name)
				for _, e := range a.Entries {
					if e.Rule != nil {
						c.s.printf("    %s sequence %d\n", renderRule(d, true, e.Rule), e.Seq)
					}
				}
				continue
			}
			c.s.printf("Extended IP access list %s\n", a.Name)
			for _, e := range a.Entries {
				if e.Rule != nil {
					c.s.printf("    %d %s\n", e.Seq, renderRule(d, false, e.Rule))
				}
			}
		}
		return nil
	}
}

func (d *ios) showGroups(c *cmdCtx) error {
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
		title := "Network"
		if g.Kind == "service" {
			title = "Service"
		}
		c.s.printf("%s object group %s\n", title, g.Name)
		if g.Description != "" {
			c.s.printf(" Description %s\n", g.Description)
		}
		for _, e := range g.Entries {
			c.s.printf(" %s\n", e.Text)
		}
	}
	return nil
}

// --- object-groups -----------------------------------------------------

func enterGroup(c *cmdCtx, kind, name, mode string) error {
	cfg := c.s.cfg()
	k := groupKey(kind, name)
	if cfg.groups[k] == nil {
		cfg.groups[k] = &ObjectGroup{Kind: kind, Name: name}
		cfg.place(secGroup, k, c.s.d.order())
		c.s.changed()
	}
	c.s.group = k
	c.s.setMode(mode)
	return nil
}

func deleteGroup(s *session, kind, name string) {
	cfg := s.cfg()
	k := groupKey(kind, name)
	if cfg.groups[k] == nil {
		return
	}
	delete(cfg.groups, k)
	cfg.unplace(secGroup, k)
	s.changed()
}

func (s *session) curGroup() *ObjectGroup { return s.cfg().groups[s.group] }

// addMember appends (or replaces the same) member of the current group.
func addMember(s *session, e *GroupEntry) error {
	g := s.curGroup()
	if g == nil {
		return nil
	}
	for _, x := range g.Entries {
		if x.Text == e.Text {
			return nil
		}
	}
	g.Entries = append(g.Entries, e)
	s.changed()
	return nil
}

func removeMember(s *session, text string) error {
	g := s.curGroup()
	if g == nil {
		return nil
	}
	out := g.Entries[:0]
	for _, x := range g.Entries {
		if x.Text == text {
			s.changed()
			continue
		}
		out = append(out, x)
	}
	g.Entries = out
	return nil
}

// iosGroupNodes is the grammar of both IOS object-group sub-modes; each
// command checks it is in the right kind of group.
func iosGroupNodes() []*node {
	netOnly := func(f func(c *cmdCtx) (*GroupEntry, error)) func(c *cmdCtx) error {
		return func(c *cmdCtx) error {
			if !strings.HasPrefix(c.s.group, "network|") {
				return invalidAt(c.toks[0])
			}
			e, err := f(c)
			if err != nil {
				return err
			}
			if c.has("no") {
				return removeMember(c.s, e.Text)
			}
			return addMember(c.s, e)
		}
	}
	hostE := func(c *cmdCtx) (*GroupEntry, error) {
		a, _ := netip.ParseAddr(c.arg("a"))
		return &GroupEntry{Text: "host " + a.String(), Pfx: []netip.Prefix{netip.PrefixFrom(a, 32)}, ICMPType: -1}, nil
	}
	maskE := func(c *cmdCtx) (*GroupEntry, error) {
		a, _ := netip.ParseAddr(c.arg("a"))
		m, _ := netip.ParseAddr(c.arg("m"))
		bits, ok := maskBits(m)
		if !ok {
			return nil, invalidAt(c.toks[len(c.toks)-1])
		}
		p := netip.PrefixFrom(a, bits).Masked()
		return &GroupEntry{Text: p.Addr().String() + " " + m.String(), Pfx: []netip.Prefix{p}, ICMPType: -1}, nil
	}
	rangeE := func(c *cmdCtx) (*GroupEntry, error) {
		lo, _ := netip.ParseAddr(c.arg("a"))
		hi, _ := netip.ParseAddr(c.arg("b"))
		if hi.Less(lo) {
			return nil, invalidAt(c.toks[len(c.toks)-1])
		}
		return &GroupEntry{Text: "range " + lo.String() + " " + hi.String(), Range: [2]netip.Addr{lo, hi}, ICMPType: -1}, nil
	}
	anyE := func(c *cmdCtx) (*GroupEntry, error) { return &GroupEntry{Text: "any", Any: true, ICMPType: -1}, nil }
	groupE := func(c *cmdCtx) error {
		kind := strings.SplitN(c.s.group, "|", 2)[0]
		if c.s.cfg().groups[groupKey(kind, c.arg("g"))] == nil {
			return refuse("%% Object-group %s does not exist", c.arg("g"))
		}
		e := &GroupEntry{Text: "group-object " + c.arg("g"), Group: c.arg("g"), ICMPType: -1}
		if c.has("no") {
			return removeMember(c.s, e.Text)
		}
		return addMember(c.s, e)
	}
	svc := func(c *cmdCtx, toks []token) error {
		if !strings.HasPrefix(c.s.group, "service|") {
			return invalidAt(c.toks[0])
		}
		e, err := parseService(c.s.d, c.kws[len(c.kws)-1], toks, c.end)
		if err != nil {
			return err
		}
		if c.has("no") {
			return removeMember(c.s, e.Text)
		}
		return addMember(c.s, e)
	}
	svcNum := func(c *cmdCtx) error {
		if !strings.HasPrefix(c.s.group, "service|") {
			return invalidAt(c.toks[0])
		}
		n := c.intArg("proto")
		e := &GroupEntry{Text: protoName(n), Proto: protoName(n), ProtoNum: n, ICMPType: -1}
		if c.has("no") {
			return removeMember(c.s, e.Text)
		}
		return addMember(c.s, e)
	}
	members := func() []*node {
		return []*node{
			kw("host", prm(pIPv4, "a").do(netOnly(hostE))),
			prm(pIPv4, "a", prm(pIPv4, "m").do(netOnly(maskE))),
			kw("range", prm(pIPv4, "a", prm(pIPv4, "b").do(netOnly(rangeE)))),
			kw("any").do(netOnly(anyE)),
			kw("group-object", prm(pWord, "g").do(groupE)),
			kw("tcp").restf(svc), kw("udp").restf(svc), kw("tcp-udp").restf(svc),
			kw("icmp").restf(svc), kw("ip").restf(svc),
			intp("proto", 0, 255).do(svcNum),
		}
	}
	desc := kw("description", prm(pLine, "text").do(func(c *cmdCtx) error {
		if g := c.s.curGroup(); g != nil {
			g.Description = c.arg("text")
			c.s.changed()
		}
		return nil
	}))
	return append(members(), desc, kw("no", members()...))
}

// parseService reads an IOS service object-group member after its
// protocol keyword: `tcp eq www`, `udp range 1000 2000`, `icmp echo`.
func parseService(d dialect, proto string, toks []token, end int) (*GroupEntry, error) {
	e := &GroupEntry{Proto: proto, ProtoNum: protoNames[proto], ICMPType: -1}
	if proto == "tcp-udp" {
		e.ProtoNum = 0
	}
	text := []string{proto}
	p := &ruleParser{d: d, toks: toks, end: end}
	switch proto {
	case "icmp":
		if t, ok := p.peek(); ok {
			typ, _, name, ok := icmpByName(false, strings.ToLower(t.text))
			if !ok {
				return nil, invalidAt(t)
			}
			p.i++
			e.ICMPType = typ
			text = append(text, name)
		}
	case "tcp", "udp", "tcp-udp":
		pm, err := p.ports(proto)
		if err != nil {
			return nil, err
		}
		if pm != nil {
			// IOS prints object-group ports as they were typed (fixture
			// cisco_ios_show_object-group.raw: "tcp range 79 www").
			e.Port = pm
			text = append(append(text, pm.Op), pm.Typed...)
		}
	}
	if err := expectEnd(toks[p.i:]); err != nil {
		return nil, err
	}
	e.Text = strings.Join(text, " ")
	return e, nil
}

func maskBits(m netip.Addr) (int, bool) {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for n < 32 && v&(1<<(31-n)) != 0 {
		n++
	}
	if n < 32 && v<<n != 0 {
		return 0, false
	}
	return n, true
}

func resequence(s *session, v6 bool, name string, start, inc int) error {
	a := s.cfg().acls[aclKey(v6, name)]
	if a == nil {
		return nil
	}
	// IOS-XE IPv4 remarks share the number of the rule after them.
	shared := s.d.name() == PlatformIOSXE && !v6
	seq := start
	var pending []*Entry
	for _, e := range a.Entries {
		if shared && e.Rule == nil {
			pending = append(pending, e)
			continue
		}
		for _, p := range pending {
			p.Seq = seq
		}
		pending = nil
		e.Seq = seq
		seq += inc
	}
	for _, p := range pending {
		p.Seq = seq
	}
	s.changed()
	return nil
}
