package netsim

import (
	"fmt"
	"strings"
	"time"

	udiff "github.com/aymanbagabas/go-udiff"
)

// eos is the Arista EOS dialect.
type eos struct {
	trees map[string][]*node
}

type eosState struct {
	sessions map[string]*eosSession
	order    []string
	auto     int
}

// eosSession is an EOS configuration session: a private full copy of the
// running configuration, committed by replacing the running one.
type eosSession struct {
	name     string
	cs       *cfgSession
	state    string // pending, pendingCommitTimer, completed
	user     string
	attached *session
	timer    Timer
	deadline time.Time
	rollback *Config // running config before a commit timer
}

const eosMaxPending = 5
const eosMaxCompleted = 1

func newEOS() *eos {
	d := &eos{}
	d.build()
	return d
}

func (d *eos) name() Platform { return PlatformEOS }

func (d *eos) initialMode(priv int) string {
	if priv >= 15 {
		return modePriv
	}
	return modeExec
}

func (d *eos) order() []sectionKind {
	return []sectionKind{secHostname, secOpaque, secIface, secACL}
}

// prompt: EOS shows the first six characters of a session's name and the
// list's name in ACL modes: R1(config-s-fwpush-acl-FOO)#.
func (d *eos) prompt(s *session) string {
	h := s.dev.hostname()
	if s.mode == modeExec {
		return h + ">"
	}
	if s.mode == modePriv {
		return h + "#"
	}
	sub := "config"
	if s.cfgs != nil {
		n := s.cfgs.name
		if len(n) > 6 {
			n = n[:6]
		}
		sub = "config-s-" + n
	}
	switch s.mode {
	case modeACL:
		sub += "-acl-" + s.acl
	case modeACL6:
		sub += "-ipv6-acl-" + s.acl
	case modeIface:
		sub += "-if-" + ifaceShort(s.ifname)
	}
	return h + "(" + sub + ")#"
}

func (d *eos) tree(s *session) []*node { return d.trees[s.mode] }

func (d *eos) parentMode(s *session) string {
	if s.cfgs != nil {
		return modeSession
	}
	return modeConfig
}

func (d *eos) modeChanged(s *session, from, to string) {
	if (to == modeConfig || to == modeSession) && (from == modePriv || from == modeExec) {
		s.block = 0
	}
}

func (d *eos) sessionClosed(s *session) {
	for _, es := range s.dev.eos.sessions {
		if es.attached == s {
			es.attached = nil
		}
	}
}

func (d *eos) noGroup(name string) error { return refuse("%% Invalid input") }

func (d *eos) dupSeq(seq int) error { return refuse("%% Error: Duplicate sequence number") }

// formatError: EOS prints "% Invalid input", "% Incomplete command",
// "% Ambiguous command", without a caret.
func (d *eos) formatError(s *session, line string, err error) string {
	switch e := err.(type) {
	case *cliError:
		switch e.kind {
		case errIncomplete:
			return "% Incomplete command\n"
		case errAmbiguous:
			return "% Ambiguous command\n"
		}
		return "% Invalid input\n"
	case *msgError:
		return e.msg + "\n"
	}
	return err.Error() + "\n"
}

func (d *eos) banner(dev *Device) string {
	return "fwpush lab simulator (netsim): EOS CLI dialect. Not an Arista product.\n"
}

func (d *eos) build() {
	d.trees = map[string][]*node{}
	term := kw("terminal",
		kw("length", intp("n", 0, 32767).do(func(c *cmdCtx) error { c.s.termLen = c.intArg("n"); return nil })),
		kw("width", intp("n", 10, 32767).do(func(c *cmdCtx) error { c.s.termWidth = c.intArg("n"); return nil })))
	quit := func(c *cmdCtx) error { c.s.killAfter = true; return nil }
	show := d.showTree()
	d.trees[modeExec] = []*node{
		kw("enable").do(d.enable), kw("exit").do(quit), kw("logout").do(quit), term,
		kw("show", kw("version").do(d.showVersion)),
	}
	sessionName := prm(pWord, "name").do(d.confSession).withNext(
		kw("commit").do(d.execCommit).withNext(kw("timer", prm(pWord, "hms").do(d.execCommit))),
		kw("abort").do(d.execAbort))
	d.trees[modePriv] = []*node{
		kw("enable").do(func(c *cmdCtx) error { return nil }),
		kw("disable").do(func(c *cmdCtx) error { c.s.setMode(modeExec); return nil }),
		kw("configure").do(d.confT).withNext(
			kw("terminal").do(d.confT),
			kw("session").do(d.confSession).withNext(sessionName)),
		kw("copy", kw("running-config", kw("startup-config").do(d.save))),
		kw("write").do(d.save).withNext(kw("memory").do(d.save)),
		kw("exit").do(quit), kw("logout").do(quit), term, show,
	}
	end := kw("end").do(func(c *cmdCtx) error {
		d.leave(c.s)
		c.s.setMode(modePriv)
		return nil
	})
	exitCfg := kw("exit").do(func(c *cmdCtx) error {
		switch c.s.mode {
		case modeConfig, modeSession:
			d.leave(c.s)
			c.s.setMode(modePriv)
		default:
			c.s.setMode(d.parentMode(c.s))
		}
		return nil
	})
	aclCmd := func(no bool) []*node {
		mk := func(v6 bool) *node {
			return kw("access-list", prm(pWord, "name").do(func(c *cmdCtx) error {
				if no {
					deleteACL(c.s, v6, c.arg("name"))
					return nil
				}
				m := modeACL
				if v6 {
					m = modeACL6
				}
				return enterACL(c, v6, c.arg("name"), m)
			}))
		}
		return []*node{kw("ip", mk(false)), kw("ipv6", mk(true))}
	}
	global := func() []*node {
		return []*node{
			kw("hostname", prm(pWord, "name").do(func(c *cmdCtx) error {
				c.s.cfg().Hostname = c.arg("name")
				c.s.changed()
				return nil
			})),
			aclCmd(false)[0], aclCmd(false)[1],
			kw("interface").restf(enterIface),
			kw("no", aclCmd(true)...),
			end, exitCfg, show,
		}
	}
	d.trees[modeConfig] = global()
	d.trees[modeSession] = append(global(),
		kw("commit").do(d.commit).withNext(kw("timer", prm(pWord, "hms").do(d.commit))),
		kw("abort").do(d.abortCmd))
	sessionCmds := []*node{
		kw("commit").do(d.commit).withNext(kw("timer", prm(pWord, "hms").do(d.commit))),
		kw("abort").do(d.abortCmd),
	}
	sub := func(nodes ...*node) []*node {
		return append(nodes, end, exitCfg, show, sessionCmds[0], sessionCmds[1])
	}
	aclNodes := func() []*node {
		return mergeNo(append(aclEntryNodes(4294967295),
			kw("resequence").do(d.reseq).withNext(intp("start", 1, 4294967295).do(d.reseq).withNext(intp("inc", 1, 4294967295).do(d.reseq))),
			kw("statistics", kw("per-entry").do(func(c *cmdCtx) error { return aclOption(c.s, "statistics per-entry", true) })),
			kw("counters", kw("per-entry").do(func(c *cmdCtx) error { return aclOption(c.s, "counters per-entry", true) })),
			kw("no", kw("statistics", kw("per-entry").do(func(c *cmdCtx) error { return aclOption(c.s, "statistics per-entry", false) })),
				kw("counters", kw("per-entry").do(func(c *cmdCtx) error { return aclOption(c.s, "counters per-entry", false) })))))
	}
	d.trees[modeACL] = sub(aclNodes()...)
	d.trees[modeACL6] = sub(aclNodes()...)
	d.trees[modeIface] = sub(ifaceNodes("access-group")...)
}

// leave takes the CLI session out of its configuration session, which
// stays pending for a later `configure session NAME`.
func (d *eos) leave(s *session) {
	if s.cfgs != nil {
		if es := s.dev.eos.sessions[s.cfgs.name]; es != nil && es.attached == s {
			es.attached = nil
		}
	}
	s.cfgs = nil
}

func (d *eos) reseq(c *cmdCtx) error {
	start, inc := c.intArg("start"), c.intArg("inc")
	if start == 0 {
		start = 10
	}
	if inc == 0 {
		inc = 10
	}
	return resequence(c.s, c.s.aclV6, c.s.acl, start, inc)
}

func (d *eos) enable(c *cmdCtx) error {
	secret := c.s.dev.opts.EnableSecret
	if secret == "" {
		c.s.setMode(modePriv)
		return nil
	}
	c.s.ask = &question{prompt: "Password: ", answer: func(s *session, reply string) {
		if reply == secret {
			s.setMode(modePriv)
			return
		}
		s.printf("%% Access denied\n")
	}}
	return nil
}

func (d *eos) showVersion(c *cmdCtx) error {
	c.s.printf("fwpush lab simulator (netsim), Arista EOS CLI dialect -- not an Arista product\n" +
		"Simulated command set: EOS 4.2x ACL and configuration-session commands\n")
	return nil
}

func (d *eos) confT(c *cmdCtx) error {
	c.s.dev.configCmds++
	c.s.setMode(modeConfig)
	return nil
}

func (d *eos) save(c *cmdCtx) error {
	dev := c.s.dev
	dev.mutatingCmds++
	dev.startup = dev.running.clone()
	dev.logf("save", "running-config saved to startup-config by %s", c.s.user)
	c.s.printf("Copy completed successfully.\n")
	return nil
}

func (d *eos) sessions(dev *Device) map[string]*eosSession {
	if dev.eos.sessions == nil {
		dev.eos.sessions = map[string]*eosSession{}
	}
	return dev.eos.sessions
}

// confSession is `configure session [NAME]`: a new session starts as a
// copy of the running configuration.
func (d *eos) confSession(c *cmdCtx) error {
	dev := c.s.dev
	dev.configCmds++
	ss := d.sessions(dev)
	name := c.arg("name")
	if name == "" {
		dev.eos.auto++
		name = fmt.Sprintf("session%d", dev.eos.auto)
	}
	es := ss[name]
	switch {
	case es == nil:
		pending := 0
		for _, x := range ss {
			if x.state != "completed" {
				pending++
			}
		}
		if pending >= eosMaxPending {
			return refuse("%% Cannot create session %s: maximum number of pending sessions (%d) reached", name, eosMaxPending)
		}
		es = &eosSession{name: name, state: "pending", user: c.s.user,
			cs: &cfgSession{name: name, cfg: dev.running.clone(), base: dev.running.clone(), user: c.s.user}}
		ss[name] = es
		dev.eos.order = append(dev.eos.order, name)
		dev.logf("session", "config session %s created by %s", name, c.s.user)
	case es.state == "completed":
		return refuse("%% Cannot enter session %s (session already completed)", name)
	case es.state == "pendingCommitTimer":
		return refuse("%% Cannot enter session %s (commit timer pending; commit or abort it)", name)
	case es.attached != nil && es.attached != c.s:
		return refuse("%% Cannot enter session %s (session in use by another terminal)", name)
	}
	es.attached = c.s
	c.s.cfgs = es.cs
	c.s.setMode(modeSession)
	return nil
}

func parseHMS(s string) (time.Duration, bool) {
	var h, m, sec int
	if n, err := fmt.Sscanf(s, "%d:%d:%d", &h, &m, &sec); err != nil || n != 3 {
		return 0, false
	}
	if fmt.Sprintf("%02d:%02d:%02d", h, m, sec) != s || m > 59 || sec > 59 {
		return 0, false
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	return d, d > 0
}

// commit is `commit` / `commit timer hh:mm:ss` inside a session.
func (d *eos) commit(c *cmdCtx) error {
	es := d.sessions(c.s.dev)[c.s.cfgs.name]
	if err := d.doCommit(c, es); err != nil {
		return err
	}
	c.s.cfgs = nil
	c.s.setMode(modePriv)
	return nil
}

func (d *eos) doCommit(c *cmdCtx, es *eosSession) error {
	dev := c.s.dev
	hms := c.arg("hms")
	if es.state == "pendingCommitTimer" {
		if hms != "" {
			return refuse("%% Cannot commit session %s: a commit timer is already pending for it", es.name)
		}
		// The second commit confirms the change.
		dev.mutatingCmds++
		es.timer.Stop()
		es.timer = nil
		es.rollback = nil
		d.complete(dev, es)
		dev.logf("commit-confirmed", "session %s confirmed by %s", es.name, c.s.user)
		return nil
	}
	if hms != "" {
		dur, ok := parseHMS(hms)
		if !ok {
			return invalidAt(c.toks[len(c.toks)-1])
		}
		for _, o := range dev.eos.sessions {
			if o.state == "pendingCommitTimer" {
				return refuse("%% Cannot commit session %s: session %s has a pending commit timer", es.name, o.name)
			}
		}
		dev.mutatingCmds++
		es.rollback = dev.running.clone()
		dev.setRunning(es.cs.cfg.clone())
		es.state = "pendingCommitTimer"
		es.attached = nil
		es.deadline = dev.clock.Now().Add(dur)
		es.timer = dev.clock.AfterFunc(dur, func() { d.expire(dev, es) })
		dev.logf("commit-timer", "session %s committed, reverts in %s unless confirmed", es.name, hms)
		return nil
	}
	dev.mutatingCmds++
	dev.setRunning(es.cs.cfg.clone())
	d.complete(dev, es)
	dev.logf("commit", "session %s committed by %s", es.name, c.s.user)
	return nil
}

// complete marks a session completed, keeping only the newest completed
// sessions as EOS does.
func (d *eos) complete(dev *Device, es *eosSession) {
	es.state = "completed"
	es.attached = nil
	var done []string
	for _, n := range dev.eos.order {
		if x := dev.eos.sessions[n]; x != nil && x.state == "completed" {
			done = append(done, n)
		}
	}
	for len(done) > eosMaxCompleted {
		d.drop(dev, done[0])
		done = done[1:]
	}
}

func (d *eos) drop(dev *Device, name string) {
	delete(dev.eos.sessions, name)
	out := dev.eos.order[:0]
	for _, n := range dev.eos.order {
		if n != name {
			out = append(out, n)
		}
	}
	dev.eos.order = out
}

func (d *eos) expire(dev *Device, es *eosSession) {
	dev.mu.Lock()
	if dev.eos.sessions[es.name] != es || es.state != "pendingCommitTimer" {
		dev.mu.Unlock()
		return
	}
	dev.setRunning(es.rollback)
	es.timer = nil
	d.drop(dev, es.name)
	dev.logf("commit-timer-expired", "session %s rolled back", es.name)
	dev.mu.Unlock()
	dev.deliver()
}

func (d *eos) abortCmd(c *cmdCtx) error {
	dev := c.s.dev
	dev.mutatingCmds++
	d.abort(dev, d.sessions(dev)[c.s.cfgs.name])
	c.s.cfgs = nil
	c.s.setMode(modePriv)
	return nil
}

// abort discards a session; one with a pending commit timer is rolled
// back at once.
func (d *eos) abort(dev *Device, es *eosSession) {
	if es.state == "pendingCommitTimer" {
		es.timer.Stop()
		dev.setRunning(es.rollback)
		dev.logf("commit-timer-aborted", "session %s rolled back", es.name)
	} else {
		dev.logf("session-abort", "session %s", es.name)
	}
	d.drop(dev, es.name)
}

// execCommit is `configure session NAME commit [timer hh:mm:ss]` from
// exec mode, typically from a new connection to confirm a commit timer.
func (d *eos) execCommit(c *cmdCtx) error {
	dev := c.s.dev
	dev.configCmds++
	es := d.sessions(dev)[c.arg("name")]
	if es == nil || es.state == "completed" {
		return refuse("%% Cannot commit session %s: no such pending session", c.arg("name"))
	}
	return d.doCommit(c, es)
}

func (d *eos) execAbort(c *cmdCtx) error {
	dev := c.s.dev
	dev.configCmds++
	es := d.sessions(dev)[c.arg("name")]
	if es == nil {
		return refuse("%% Cannot abort session %s: no such session", c.arg("name"))
	}
	dev.mutatingCmds++
	d.abort(dev, es)
	return nil
}

func (d *eos) showTree() *node {
	name := func(f func(c *cmdCtx) error) *node { return prm(pWord, "name").do(f) }
	return kw("show",
		kw("version").do(d.showVersion),
		kw("users").do(showUsers),
		kw("clock").do(func(c *cmdCtx) error {
			now := c.s.dev.clock.Now().UTC()
			c.s.printf("%s\nTimezone: UTC\nClock source: local\n", now.Format("Mon Jan _2 15:04:05 2006"))
			return nil
		}),
		kw("running-config").do(func(c *cmdCtx) error {
			c.s.printf("%s", d.renderConfig(c.s.dev, c.s.dev.running))
			return nil
		}),
		kw("startup-config").do(func(c *cmdCtx) error {
			c.s.printf("%s", strings.Replace(d.renderConfig(c.s.dev, c.s.dev.startup), "show running-config", "show startup-config", 1))
			return nil
		}),
		kw("ip", kw("access-lists").do(d.showACLs(false)).withNext(name(d.showACLs(false)))),
		kw("ipv6", kw("access-lists").do(d.showACLs(true)).withNext(name(d.showACLs(true)))),
		kw("configuration", kw("sessions").do(d.showSessions).withNext(kw("detail").do(d.showSessions))),
		kw("session-config").do(d.showSessionConfig).withNext(
			kw("diffs").do(d.showDiffs),
			kw("named", prm(pWord, "sname").do(d.showSessionConfig).withNext(kw("diffs").do(d.showDiffs)))),
	)
}

// renderConfig prints EOS's running-config: "!" between blocks, three-space
// indentation, numbered ACL lines.
func (d *eos) renderConfig(dev *Device, c *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "! Command: show running-config\n! device: %s (fwpush lab simulator, EOS dialect)\n!\n", c.Hostname)
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
		case secIface:
			writeIface(&b, c.ifaces[sec.key], "   ", "ipv6 access-group")
		}
		b.WriteString("!\n")
	}
	b.WriteString("end\n")
	return b.String()
}

func (d *eos) writeACL(b *strings.Builder, a *ACL) {
	kwd := "ip"
	if a.V6 {
		kwd = "ipv6"
	}
	fmt.Fprintf(b, "%s access-list %s\n", kwd, a.Name)
	for _, o := range a.Options {
		fmt.Fprintf(b, "   %s\n", o)
	}
	for _, e := range a.Entries {
		if e.Rule == nil {
			fmt.Fprintf(b, "   %d remark %s\n", e.Seq, e.Remark)
		} else {
			fmt.Fprintf(b, "   %d %s\n", e.Seq, renderRule(d, a.V6, e.Rule))
		}
	}
}

// showACLs prints `show ip access-lists` as EOS does (fixture
// arista_eos_show_ip_access-lists.raw): eight-space indent, a blank line
// after each list.
func (d *eos) showACLs(v6 bool) func(c *cmdCtx) error {
	return func(c *cmdCtx) error {
		cfg := c.s.dev.running
		name := c.arg("name")
		for _, sec := range cfg.sections {
			if sec.kind != secACL {
				continue
			}
			a := cfg.acls[sec.key]
			if a.V6 != v6 || (name != "" && a.Name != name) {
				continue
			}
			title := "IP"
			if v6 {
				title = "IPv6"
			}
			c.s.printf("%s Access List %s\n", title, a.Name)
			for _, o := range a.Options {
				c.s.printf("        %s\n", o)
			}
			for _, e := range a.Entries {
				if e.Rule == nil {
					c.s.printf("        %d remark %s\n", e.Seq, e.Remark)
				} else {
					c.s.printf("        %d %s\n", e.Seq, renderRule(d, v6, e.Rule))
				}
			}
			c.s.printf("\n")
		}
		return nil
	}
}

// showSessions prints `show configuration sessions [detail]`.
func (d *eos) showSessions(c *cmdCtx) error {
	dev := c.s.dev
	c.s.printf("Maximum number of completed sessions: %d\nMaximum number of pending sessions: %d\n\n", eosMaxCompleted, eosMaxPending)
	if len(dev.eos.order) == 0 {
		return nil
	}
	c.s.printf("  %-20s %-20s %-10s %-14s\n", "Name", "State", "User", "Terminal")
	c.s.printf("  %s %s %s %s\n", strings.Repeat("-", 20), strings.Repeat("-", 20), strings.Repeat("-", 10), strings.Repeat("-", 14))
	for _, n := range dev.eos.order {
		es := dev.eos.sessions[n]
		term := ""
		if es.attached != nil {
			term = es.attached.tty
		}
		c.s.printf("  %-20s %-20s %-10s %-14s\n", n, es.state, es.user, term)
	}
	return nil
}

func (d *eos) namedSession(c *cmdCtx) (*eosSession, error) {
	name := c.arg("sname")
	if name == "" && c.s.cfgs != nil {
		name = c.s.cfgs.name
	}
	es := d.sessions(c.s.dev)[name]
	if es == nil {
		return nil, refuse("%% Session %s not found", name)
	}
	return es, nil
}

func (d *eos) showSessionConfig(c *cmdCtx) error {
	es, err := d.namedSession(c)
	if err != nil {
		return err
	}
	c.s.printf("%s", d.renderConfig(c.s.dev, es.cs.cfg))
	return nil
}

// showDiffs prints the unified diff of running-config against the
// session's configuration (`show session-config diffs`).
func (d *eos) showDiffs(c *cmdCtx) error {
	es, err := d.namedSession(c)
	if err != nil {
		return err
	}
	body := func(cfg *Config) string {
		s := d.renderConfig(c.s.dev, cfg)
		return s[strings.Index(s, "!\n")+2:]
	}
	from, to := body(c.s.dev.running), body(es.cs.cfg)
	if from == to {
		return nil
	}
	diff := udiff.Unified("system:/running-config", "session:/"+es.name+"-session-config", from, to)
	c.s.printf("%s", diff)
	return nil
}
