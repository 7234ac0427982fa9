package netsim

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// nxos is the Cisco NX-OS dialect.
type nxos struct {
	trees map[string][]*node
}

type nxosState struct {
	checkpoints map[string]*checkpoint
	cpOrder     []string
	sessions    map[string]*nxSession
	order       []string // session names in creation order
	armed       map[string]*armedApplet
}

type checkpoint struct {
	name    string
	cfg     *Config
	user    string
	created time.Time
	desc    string
}

// nxSession is an NX-OS Session Manager session: the commands entered,
// replayed on the running configuration at commit, all or nothing.
type nxSession struct {
	cs       *cfgSession
	cmds     []string
	created  time.Time
	attached *session
}

type armedApplet struct {
	name     string
	t        Timer
	deadline time.Time
}

func newNXOS() *nxos {
	d := &nxos{}
	d.build()
	return d
}

func (d *nxos) name() Platform { return PlatformNXOS }

// NX-OS logs network-admin users straight into exec mode with `#`.
func (d *nxos) initialMode(priv int) string { return modePriv }

func (d *nxos) order() []sectionKind {
	return []sectionKind{secHostname, secOpaque, secGroup, secACL, secApplet, secIface}
}

func (d *nxos) prompt(s *session) string {
	h := s.dev.hostname()
	sub := map[string]string{
		modeConfig: "config", modeACL: "config-acl", modeACL6: "config-ipv6-acl",
		modeIface: "config-if", modeApplet: "config-applet", modeSession: "config-s",
	}[s.mode]
	if s.mode == modeGroup {
		sub = map[string]string{"ip address": "config-ipaddr-ogroup", "ip port": "config-port-ogroup",
			"ipv6 address": "config-ipv6addr-ogroup"}[strings.SplitN(s.group, "|", 2)[0]]
	}
	if sub == "" {
		return h + "# "
	}
	if s.cfgs != nil && s.mode != modeSession {
		sub = "config-s-" + strings.TrimPrefix(sub, "config-")
	}
	return h + "(" + sub + ")# "
}

func (d *nxos) tree(s *session) []*node {
	if s.cfgs != nil && s.mode != modeSession {
		return d.trees["s-"+s.mode]
	}
	return d.trees[s.mode]
}

func (d *nxos) parentMode(s *session) string {
	if s.cfgs != nil {
		return modeSession
	}
	return modeConfig
}

func (d *nxos) modeChanged(s *session, from, to string) {
	if to == modeConfig && from == modePriv || to == modeSession && from == modePriv {
		s.block = 0
	}
	if from == modeApplet && s.cfgs == nil {
		d.register(s.dev, s.applet)
	}
}

func (d *nxos) sessionClosed(s *session) {
	if s.mode == modeApplet {
		d.register(s.dev, s.applet)
	}
	for _, ns := range s.dev.nxos.sessions {
		if ns.attached == s {
			ns.attached = nil
		}
	}
}

func (d *nxos) noGroup(name string) error {
	return refuse("ERROR: object-group %s does not exist", name)
}

func (d *nxos) dupSeq(seq int) error {
	return refuse("ERROR: Duplicate sequence number")
}

// formatError prints NX-OS's refusals: a caret under the offending token
// and "% Invalid command at '^' marker." (or the parameter's own
// complaint), "% Incomplete command at '^' marker.", "% Ambiguous command
// at '^' marker.".
func (d *nxos) formatError(s *session, line string, err error) string {
	switch e := err.(type) {
	case *cliError:
		msg := "Invalid command"
		switch {
		case e.kind == errIncomplete:
			msg = "Incomplete command"
		case e.kind == errAmbiguous:
			msg = "Ambiguous command"
		case e.detail != "":
			msg = e.detail
		}
		return caretError(d.prompt(s), e.col, "% "+msg+" at '^' marker.")
	case *msgError:
		return e.msg + "\n"
	}
	return err.Error() + "\n"
}

func (d *nxos) banner(dev *Device) string {
	return "fwpush lab simulator (netsim): NX-OS CLI dialect. Not a Cisco product.\n"
}

func (d *nxos) build() {
	d.trees = map[string][]*node{}
	term := kw("terminal",
		kw("length", intp("n", 0, 511).do(func(c *cmdCtx) error { c.s.termLen = c.intArg("n"); return nil })),
		kw("width", intp("n", 24, 511).do(func(c *cmdCtx) error { c.s.termWidth = c.intArg("n"); return nil })))
	quit := func(c *cmdCtx) error { c.s.killAfter = true; return nil }
	show := d.showTree()
	end := kw("end").do(func(c *cmdCtx) error { c.s.cfgs = nil; c.s.setMode(modePriv); return nil })
	exitCfg := kw("exit").do(func(c *cmdCtx) error {
		switch c.s.mode {
		case modeConfig:
			c.s.setMode(modePriv)
		case modeSession:
			c.s.cfgs = nil
			c.s.setMode(modePriv)
		default:
			c.s.setMode(d.parentMode(c.s))
		}
		return nil
	})
	d.trees[modePriv] = []*node{
		kw("configure").do(d.confT).withNext(
			kw("terminal").do(d.confT),
			kw("session", prm(pWord, "name").do(d.confSession))),
		kw("checkpoint", prm(pWord, "name").do(d.checkpoint).withNext(
			kw("description", prm(pLine, "desc").do(d.checkpoint)))),
		kw("no", kw("checkpoint", prm(pWord, "name").do(d.noCheckpoint))),
		kw("rollback", kw("running-config", kw("checkpoint", prm(pWord, "name").do(d.rollbackCmd).withNext(
			kw("atomic").do(d.rollbackCmd), kw("best-effort").do(d.rollbackCmd),
			kw("stop-at-first-failure").do(d.rollbackCmd))))),
		kw("copy", kw("running-config", kw("startup-config").do(d.copyStartup))),
		kw("exit").do(quit), term, show,
	}
	do := kw("do", prm(pLine, "cmd").do(func(c *cmdCtx) error {
		saved, cs := c.s.mode, c.s.cfgs
		c.s.mode, c.s.cfgs = modePriv, nil
		c.s.process(c.arg("cmd"))
		c.s.mode, c.s.cfgs = saved, cs
		return nil
	}))
	acl := kw("ip", kw("access-list", prm(pWord, "name").do(func(c *cmdCtx) error {
		return enterACL(c, false, c.arg("name"), modeACL)
	})))
	acl6 := kw("ipv6", kw("access-list", prm(pWord, "name").do(func(c *cmdCtx) error {
		return enterACL(c, true, c.arg("name"), modeACL6)
	})))
	og := func(no bool) *node {
		mk := func(kind string) *node {
			return prm(pWord, "name").do(func(c *cmdCtx) error {
				if no {
					deleteGroup(c.s, kind, c.arg("name"))
					return nil
				}
				return enterGroup(c, kind, c.arg("name"), modeGroup)
			})
		}
		return kw("object-group",
			kw("ip", kw("address", mk("ip address")), kw("port", mk("ip port"))),
			kw("ipv6", kw("address", mk("ipv6 address"))))
	}
	noACL := kw("ip", kw("access-list", prm(pWord, "name").do(func(c *cmdCtx) error {
		deleteACL(c.s, false, c.arg("name"))
		return nil
	})))
	noACL6 := kw("ipv6", kw("access-list", prm(pWord, "name").do(func(c *cmdCtx) error {
		deleteACL(c.s, true, c.arg("name"))
		return nil
	})))
	applet := kw("event", kw("manager", kw("applet", prm(pWord, "name").do(d.enterApplet))))
	noApplet := kw("event", kw("manager", kw("applet", prm(pWord, "name").do(d.noApplet))))
	hostname := prm(pWord, "name").do(func(c *cmdCtx) error {
		c.s.cfg().Hostname = c.arg("name")
		c.s.changed()
		return nil
	})
	d.trees[modeConfig] = []*node{
		kw("hostname", hostname), kw("switchname", hostname),
		acl, acl6, og(false), kw("interface").restf(enterIface), applet,
		kw("no", noACL, noACL6, og(true), noApplet),
		end, exitCfg, do, show,
	}
	// Session Manager takes ACL configuration only (ACLs, object-groups,
	// interface bindings), then verify/commit/abort.
	d.trees[modeSession] = []*node{
		acl, acl6, og(false), kw("interface").restf(enterIface),
		kw("no", noACL, noACL6, og(true)),
		kw("verify").do(d.verify), kw("commit").do(d.commit), kw("abort").do(d.abort),
		end, exitCfg, do, show,
	}
	sub := func(nodes ...*node) []*node { return append(nodes, end, exitCfg, do, show) }
	aclNodes := func() []*node {
		return append(aclEntryNodes(2147483647),
			kw("statistics", kw("per-entry").do(func(c *cmdCtx) error { return aclOption(c.s, "statistics per-entry", true) })),
			kw("no", kw("statistics", kw("per-entry").do(func(c *cmdCtx) error { return aclOption(c.s, "statistics per-entry", false) }))))
	}
	d.trees[modeACL] = sub(mergeNo(aclNodes())...)
	d.trees[modeACL6] = sub(mergeNo(aclNodes())...)
	d.trees[modeGroup] = sub(nxGroupNodes()...)
	d.trees[modeIface] = sub(ifaceNodes("traffic-filter")...)
	d.trees[modeApplet] = sub(d.appletNodes()...)
	for _, m := range []string{modeACL, modeACL6, modeGroup, modeIface} {
		d.trees["s-"+m] = append(append([]*node(nil), d.trees[m]...), kw("verify").do(d.verify), kw("commit").do(d.commit), kw("abort").do(d.abort))
	}
}

// mergeNo folds several `no` keyword nodes into one, so `no` is not
// ambiguous with itself.
func mergeNo(nodes []*node) []*node {
	var out []*node
	var no *node
	for _, n := range nodes {
		if n.kw == "no" {
			if no == nil {
				no = kw("no")
				out = append(out, no)
			}
			no.next = append(no.next, n.next...)
			continue
		}
		out = append(out, n)
	}
	return out
}

func aclOption(s *session, opt string, on bool) error {
	a := s.curACL()
	if a == nil {
		return nil
	}
	out := a.Options[:0]
	for _, o := range a.Options {
		if o != opt {
			out = append(out, o)
		}
	}
	a.Options = out
	if on {
		a.Options = append(a.Options, opt)
	}
	s.changed()
	return nil
}

// nxGroupNodes: NX-OS object-group members carry sequence numbers.
func nxGroupNodes() []*node {
	add := func(c *cmdCtx, e *GroupEntry) error {
		g := c.s.curGroup()
		if g == nil {
			return nil
		}
		if c.has("no") {
			if n := c.intArg("seq"); n > 0 && e == nil {
				out := g.Entries[:0]
				for _, x := range g.Entries {
					if x.Seq != n {
						out = append(out, x)
					}
				}
				g.Entries = out
				c.s.changed()
				return nil
			}
			return removeMember(c.s, e.Text)
		}
		e.Seq = c.intArg("seq")
		if e.Seq == 0 {
			e.Seq = g.maxSeq() + 10
		}
		for _, x := range g.Entries {
			if x.Seq == e.Seq {
				return refuse("ERROR: Duplicate sequence number")
			}
		}
		g.Entries = append(g.Entries, e)
		sortGroup(g)
		c.s.changed()
		return nil
	}
	member := func(c *cmdCtx, toks []token) error {
		kind := strings.SplitN(c.s.group, "|", 2)[0]
		p := &ruleParser{d: c.s.d, cfg: c.s.cfg(), v6: kind == "ipv6 address", toks: toks, end: c.end}
		if kind == "ip port" {
			p.i = 0
			// reuse the port-operator grammar: the first token is the operator
			pm, err := p.ports("tcp")
			if err != nil {
				return err
			}
			if pm == nil {
				if len(toks) == 0 {
					return &cliError{kind: errIncomplete, col: c.end}
				}
				return invalidAt(toks[0])
			}
			if err := expectEnd(toks[p.i:]); err != nil {
				return err
			}
			return add(c, &GroupEntry{Text: strings.Join(renderPorts(c.s.d, "tcp", pm), " "), Port: pm, ICMPType: -1})
		}
		a, err := p.addr()
		if err != nil {
			return err
		}
		if err := expectEnd(toks[p.i:]); err != nil {
			return err
		}
		if a.Kind == AddrAny || a.Kind == AddrGroup {
			return invalidAt(toks[0])
		}
		e := &GroupEntry{ICMPType: -1}
		switch a.Kind {
		case AddrHost:
			e.Text = "host " + a.IP.String()
			e.Pfx = []netip.Prefix{netip.PrefixFrom(a.IP, a.IP.BitLen())}
		case AddrPrefix:
			e.Text = a.IP.String() + "/" + strconv.Itoa(a.Bits)
			e.Pfx = []netip.Prefix{netip.PrefixFrom(a.IP, a.Bits).Masked()}
		case AddrWild:
			e.Text = a.IP.String() + " " + a.Wild.String()
			w := a
			e.Wild = &w
		}
		return add(c, e)
	}
	// The member forms start with host, an address, or a port operator.
	starts := func() []*node {
		return []*node{
			kw("host").restf(func(c *cmdCtx, toks []token) error { return member(c, c.toks[len(c.toks)-len(toks)-1:]) }),
			prm(pWord, "first").restf(func(c *cmdCtx, toks []token) error { return member(c, c.toks[len(c.toks)-len(toks)-1:]) }),
		}
	}
	seqd := intp("seq", 1, 4294967295, starts()...)
	noSeq := intp("seq", 1, 4294967295).do(func(c *cmdCtx) error { return add(c, nil) })
	return []*node{seqd, kw("no", append([]*node{noSeq}, starts()...)...), starts()[0], starts()[1]}
}

func sortGroup(g *ObjectGroup) {
	for i := 1; i < len(g.Entries); i++ {
		for j := i; j > 0 && g.Entries[j].Seq < g.Entries[j-1].Seq; j-- {
			g.Entries[j], g.Entries[j-1] = g.Entries[j-1], g.Entries[j]
		}
	}
}

// --- config sessions, checkpoints, rollback -------------------------------

func (d *nxos) confT(c *cmdCtx) error {
	c.s.dev.configCmds++
	c.s.printf("Enter configuration commands, one per line. End with CNTL/Z.\n")
	c.s.setMode(modeConfig)
	return nil
}

func (d *nxos) confSession(c *cmdCtx) error {
	dev := c.s.dev
	dev.configCmds++
	if dev.nxos.sessions == nil {
		dev.nxos.sessions = map[string]*nxSession{}
	}
	name := c.arg("name")
	ns := dev.nxos.sessions[name]
	if ns == nil {
		if len(dev.nxos.sessions) >= 32 {
			return refuse("ERROR: Maximum number of sessions (32) reached")
		}
		ns = &nxSession{cs: &cfgSession{name: name, cfg: dev.running.clone(), user: c.s.user, tty: c.s.tty}, created: dev.clock.Now()}
		dev.nxos.sessions[name] = ns
		dev.nxos.order = append(dev.nxos.order, name)
		dev.logf("session", "config session %s created by %s", name, c.s.user)
	}
	ns.attached = c.s
	c.s.cfgs = ns.cs
	c.s.printf("Config Session started, Session ID is %d\nEnter configuration commands, one per line. End with CNTL/Z.\n", len(dev.nxos.sessions))
	c.s.setMode(modeSession)
	return nil
}

// The session records each accepted line; session.process calls this
// through the dialect after a line succeeds in a session mode.
func (d *nxos) record(s *session, line string) {
	if ns := s.dev.nxos.sessions[s.cfgs.name]; ns != nil {
		ns.cmds = append(ns.cmds, strings.TrimSpace(line))
	}
}

// replay applies a session's commands to a copy of the running config, as
// Session Manager does at verify and commit; any failure fails the whole.
func (d *nxos) replay(dev *Device, ns *nxSession) (*Config, error) {
	cs := &cfgSession{name: ns.cs.name, cfg: dev.running.clone()}
	s := &session{dev: dev, d: d, mode: modeSession, cfgs: cs, user: "session-manager"}
	for _, l := range ns.cmds {
		s.out.Reset()
		s.processLine(l)
		if s.failed {
			return nil, fmt.Errorf("%s", strings.TrimSpace(s.out.String()))
		}
	}
	return cs.cfg, nil
}

func (d *nxos) verify(c *cmdCtx) error {
	dev := c.s.dev
	ns := dev.nxos.sessions[c.s.cfgs.name]
	if dev.failCommit {
		dev.failCommit = false
		return refuse("Verification Failed")
	}
	if _, err := d.replay(dev, ns); err != nil {
		return refuse("Verification Failed")
	}
	c.s.printf("Verification Successful\n")
	return nil
}

func (d *nxos) commit(c *cmdCtx) error {
	dev := c.s.dev
	name := c.s.cfgs.name
	ns := dev.nxos.sessions[name]
	if dev.failCommit {
		dev.failCommit = false
		dev.logf("session-commit-failed", "%s (injected)", name)
		return refuse("Verification Failed\nCommit Failed")
	}
	n, err := d.replay(dev, ns)
	if err != nil {
		dev.logf("session-commit-failed", "%s: %v", name, err)
		return refuse("Verification Failed\nCommit Failed")
	}
	dev.mutatingCmds++
	dev.setRunning(n)
	d.reconcileApplets(dev)
	delete(dev.nxos.sessions, name)
	dev.logf("session-commit", "%s committed (%d commands)", name, len(ns.cmds))
	c.s.printf("Commit Successful\n")
	c.s.cfgs = nil
	c.s.setMode(modePriv)
	return nil
}

func (d *nxos) abort(c *cmdCtx) error {
	dev := c.s.dev
	delete(dev.nxos.sessions, c.s.cfgs.name)
	dev.logf("session-abort", "%s", c.s.cfgs.name)
	c.s.cfgs = nil
	c.s.setMode(modePriv)
	return nil
}

func (d *nxos) checkpoint(c *cmdCtx) error {
	dev := c.s.dev
	if dev.nxos.checkpoints == nil {
		dev.nxos.checkpoints = map[string]*checkpoint{}
	}
	name := c.arg("name")
	if dev.nxos.checkpoints[name] != nil {
		return refuse("ERROR: Checkpoint name already in use")
	}
	dev.mutatingCmds++
	dev.nxos.checkpoints[name] = &checkpoint{name: name, cfg: dev.running.clone(), user: c.s.user, created: dev.clock.Now(), desc: c.arg("desc")}
	dev.nxos.cpOrder = append(dev.nxos.cpOrder, name)
	dev.logf("checkpoint", "%s created", name)
	c.s.printf("Done\n")
	return nil
}

func (d *nxos) noCheckpoint(c *cmdCtx) error {
	dev := c.s.dev
	name := c.arg("name")
	if dev.nxos.checkpoints[name] == nil {
		return refuse("ERROR: Checkpoint %s does not exist", name)
	}
	dev.mutatingCmds++
	delete(dev.nxos.checkpoints, name)
	out := dev.nxos.cpOrder[:0]
	for _, n := range dev.nxos.cpOrder {
		if n != name {
			out = append(out, n)
		}
	}
	dev.nxos.cpOrder = out
	dev.logf("checkpoint", "%s deleted", name)
	return nil
}

func (d *nxos) rollbackCmd(c *cmdCtx) error {
	dev := c.s.dev
	cp := dev.nxos.checkpoints[c.arg("name")]
	if cp == nil {
		return refuse("ERROR: Checkpoint %s does not exist", c.arg("name"))
	}
	dev.mutatingCmds++
	d.rollbackTo(dev, cp)
	c.s.printf("Note: Applying config parallelly may fail Rollback verification\n" +
		"Collecting Running-Config\n#Generating Rollback Patch\nExecuting Rollback Patch\n" +
		"Generating Running-config for verification\nGenerating Patch for verification\n" +
		"Verification is Successful.\n\nRollback completed successfully.\n\n")
	return nil
}

func (d *nxos) rollbackTo(dev *Device, cp *checkpoint) {
	dev.setRunning(cp.cfg.clone())
	d.reconcileApplets(dev)
	dev.logf("rollback", "running-config rolled back to checkpoint %s", cp.name)
}

func (d *nxos) copyStartup(c *cmdCtx) error {
	dev := c.s.dev
	dev.mutatingCmds++
	dev.startup = dev.running.clone()
	dev.logf("save", "running-config saved to startup-config by %s", c.s.user)
	c.s.printf("[########################################] 100%%\nCopy complete.\n")
	return nil
}

// --- EEM applets: the device-side timer NX-OS offers ----------------------

func (d *nxos) enterApplet(c *cmdCtx) error {
	cfg := c.s.cfg()
	name := c.arg("name")
	if cfg.applets[name] == nil {
		cfg.applets[name] = &Applet{Name: name}
		cfg.place(secApplet, name, d.order())
		c.s.changed()
	}
	c.s.applet = name
	c.s.setMode(modeApplet)
	return nil
}

func (d *nxos) noApplet(c *cmdCtx) error {
	dev := c.s.dev
	cfg := c.s.cfg()
	name := c.arg("name")
	if cfg.applets[name] == nil {
		return nil
	}
	delete(cfg.applets, name)
	cfg.unplace(secApplet, name)
	c.s.changed()
	d.reconcileApplets(dev)
	return nil
}

func (d *nxos) appletNodes() []*node {
	set := func(c *cmdCtx, line string, update func(a *Applet)) error {
		a := c.s.cfg().applets[c.s.applet]
		if a == nil {
			return nil
		}
		key := strings.Join(strings.Fields(line)[:2], " ")
		if strings.HasPrefix(line, "event ") {
			key = "event"
		}
		replaced := false
		for i, l := range a.Lines {
			k := strings.Join(strings.Fields(l)[:2], " ")
			if strings.HasPrefix(l, "event ") {
				k = "event"
			}
			if k == key {
				a.Lines[i] = line
				replaced = true
			}
		}
		if !replaced {
			a.Lines = append(a.Lines, line)
		}
		update(a)
		c.s.changed()
		return nil
	}
	countdown := intp("sec", 1, 2147483647).do(func(c *cmdCtx) error {
		line := "event timer countdown time " + c.arg("sec")
		if c.arg("tname") != "" {
			line += " name " + c.arg("tname")
		}
		return set(c, line, func(a *Applet) { a.Countdown = c.intArg("sec") })
	})
	countdown.next = []*node{kw("name", prm(pWord, "tname").do(countdown.run))}
	action := prm(pWord, "label", kw("cli", kw("command").restf(func(c *cmdCtx, toks []token) error {
		if len(toks) == 0 {
			return &cliError{kind: errIncomplete, col: c.end}
		}
		raw := strings.TrimSpace(c.line[toks[0].col:])
		cmd := raw
		if strings.HasPrefix(raw, `"`) {
			if len(raw) < 2 || !strings.HasSuffix(raw, `"`) {
				return invalidAt(toks[0])
			}
			cmd = raw[1 : len(raw)-1]
		}
		label := c.arg("label")
		return set(c, fmt.Sprintf("action %s cli command %s", label, raw), func(a *Applet) {
			out := a.Actions[:0]
			for _, x := range a.Actions {
				if x.Label != label {
					out = append(out, x)
				}
			}
			a.Actions = append(out, appletAction{Label: label, Command: cmd})
			sortActions(a)
		})
	})))
	return []*node{
		kw("event", kw("timer", kw("countdown", kw("time", countdown)))),
		kw("action", action),
		kw("description", prm(pLine, "text").do(func(c *cmdCtx) error {
			return set(c, "description "+c.arg("text"), func(*Applet) {})
		})),
	}
}

func sortActions(a *Applet) {
	less := func(x, y string) bool {
		fx, errx := strconv.ParseFloat(x, 64)
		fy, erry := strconv.ParseFloat(y, 64)
		if errx == nil && erry == nil {
			return fx < fy
		}
		return x < y
	}
	for i := 1; i < len(a.Actions); i++ {
		for j := i; j > 0 && less(a.Actions[j].Label, a.Actions[j-1].Label); j-- {
			a.Actions[j], a.Actions[j-1] = a.Actions[j-1], a.Actions[j]
		}
	}
}

// register arms an applet's countdown when its configuration is complete
// (the sub-mode is left), as EEM registers a policy.
func (d *nxos) register(dev *Device, name string) {
	a := dev.running.applets[name]
	if a == nil || a.Countdown == 0 || len(a.Actions) == 0 {
		return
	}
	if dev.nxos.armed == nil {
		dev.nxos.armed = map[string]*armedApplet{}
	}
	if old := dev.nxos.armed[name]; old != nil {
		old.t.Stop()
	}
	dur := time.Duration(a.Countdown) * time.Second
	aa := &armedApplet{name: name, deadline: dev.clock.Now().Add(dur)}
	aa.t = dev.clock.AfterFunc(dur, func() { d.fire(dev, aa) })
	dev.nxos.armed[name] = aa
	dev.logf("eem-armed", "applet %s fires in %ds", name, a.Countdown)
}

// reconcileApplets stops the countdown of applets the running config no
// longer has (removed, or rolled back away).
func (d *nxos) reconcileApplets(dev *Device) {
	for n, a := range dev.nxos.armed {
		if dev.running.applets[n] == nil {
			a.t.Stop()
			delete(dev.nxos.armed, n)
			dev.logf("eem-cancelled", "applet %s removed", n)
		}
	}
}

// fire runs the applet's actions in order in a privileged CLI session.
func (d *nxos) fire(dev *Device, aa *armedApplet) {
	dev.mu.Lock()
	if dev.nxos.armed[aa.name] != aa {
		dev.mu.Unlock()
		return
	}
	delete(dev.nxos.armed, aa.name)
	a := dev.running.applets[aa.name]
	dev.logf("eem-fired", "applet %s", aa.name)
	if a != nil {
		s := &session{dev: dev, d: d, mode: modePriv, user: "eem", priv: 15, tty: "eem"}
		for _, act := range a.Actions {
			s.out.Reset()
			s.processLine(act.Command)
			dev.logf("eem-action", "%s: %s -> %s", act.Label, act.Command, strings.TrimSpace(s.out.String()))
		}
	}
	dev.mu.Unlock()
	dev.deliver()
}
