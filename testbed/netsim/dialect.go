package netsim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// dialect is one vendor CLI: its modes and grammar, prompts, error wording
// and output formats. Everything a dialect decides is in its own file
// (ios.go, nxos.go, eos.go); the shared mechanics are here.
type dialect interface {
	name() Platform
	initialMode(priv int) string
	prompt(s *session) string
	tree(s *session) []*node
	parentMode(s *session) string
	modeChanged(s *session, from, to string)
	formatError(s *session, line string, err error) string
	renderConfig(dev *Device, c *Config) string
	order() []sectionKind
	sessionClosed(s *session)
	banner(dev *Device) string
	noGroup(name string) error
}

func dialectFor(p Platform) (dialect, error) {
	switch p {
	case PlatformIOSXE:
		return newIOS(), nil
	case PlatformNXOS:
		return newNXOS(), nil
	case PlatformEOS:
		return newEOS(), nil
	}
	return nil, fmt.Errorf("netsim: unknown platform %q (want %s, %s or %s)", p, PlatformIOSXE, PlatformNXOS, PlatformEOS)
}

// caretError prints the Cisco-style caret line under the offending column
// of the echoed command (prompt included), then the message.
func caretError(prompt string, col int, msg string) string {
	return strings.Repeat(" ", len(prompt)+col) + "^\n" + msg + "\n"
}

// --- ACL editing shared by the dialects -------------------------------

// enterACL creates (if needed) and enters an ACL in the edited config.
func enterACL(c *cmdCtx, v6 bool, name string, mode string) error {
	s := c.s
	cfg := s.cfg()
	k := aclKey(v6, name)
	if cfg.acls[k] == nil {
		cfg.acls[k] = &ACL{Name: name, V6: v6}
		cfg.place(secACL, k, s.d.order())
		s.changed()
	}
	s.acl, s.aclV6 = name, v6
	s.setMode(mode)
	return nil
}

func (s *session) curACL() *ACL {
	return s.cfg().acls[aclKey(s.aclV6, s.acl)]
}

// addRule adds a parsed rule at seq (0: next free number, +10).
func addRule(s *session, seq int, r *Rule) error {
	a := s.curACL()
	if a == nil {
		return refuse("%% ACL %s no longer exists", s.acl)
	}
	if seq == 0 {
		seq = a.maxSeq() + 10
	} else if a.ruleAt(seq) != nil || ((s.d.name() != PlatformIOSXE || a.V6) && a.hasSeq(seq)) {
		return s.d.(interface{ dupSeq(int) error }).dupSeq(seq)
	}
	if s.d.name() == PlatformIOSXE && !a.V6 && len(a.Trailing) > 0 {
		for _, t := range a.Trailing {
			a.Entries = append(a.Entries, &Entry{Seq: seq, Remark: t})
		}
		a.Trailing = nil
	}
	a.Entries = append(a.Entries, &Entry{Seq: seq, Rule: r})
	a.sortEntries()
	s.changed()
	return nil
}

func addRemark(s *session, seq int, text string) error {
	a := s.curACL()
	if a == nil {
		return refuse("%% ACL %s no longer exists", s.acl)
	}
	if s.d.name() == PlatformIOSXE && !a.V6 {
		// IOS-XE attaches an IPv4 remark to the rule that follows it.
		if seq == 0 {
			a.Trailing = append(a.Trailing, text)
		} else {
			a.Entries = append(a.Entries, &Entry{Seq: seq, Remark: text})
			a.sortEntries()
		}
		s.changed()
		return nil
	}
	if seq == 0 {
		seq = a.maxSeq() + 10
	} else if a.hasSeq(seq) {
		return s.d.(interface{ dupSeq(int) error }).dupSeq(seq)
	}
	a.Entries = append(a.Entries, &Entry{Seq: seq, Remark: text})
	a.sortEntries()
	s.changed()
	return nil
}

// removeRule deletes the entry equal to r (`no permit ...`).
func removeRule(s *session, r *Rule) error {
	a := s.curACL()
	if a == nil {
		return nil
	}
	want := renderRule(s.d, a.V6, r)
	for _, e := range a.Entries {
		if e.Rule != nil && renderRule(s.d, a.V6, e.Rule) == want {
			seq := e.Seq
			out := a.Entries[:0]
			for _, x := range a.Entries {
				if x.Seq == seq && (x.Rule != nil || (s.d.name() == PlatformIOSXE && !a.V6)) {
					continue
				}
				out = append(out, x)
			}
			a.Entries = out
			s.changed()
			return nil
		}
	}
	return nil
}

func removeSeq(s *session, seq int) error {
	a := s.curACL()
	if a == nil {
		return nil
	}
	if a.removeSeq(seq) {
		s.changed()
	}
	return nil
}

func deleteACL(s *session, v6 bool, name string) {
	cfg := s.cfg()
	k := aclKey(v6, name)
	if cfg.acls[k] == nil {
		return
	}
	delete(cfg.acls, k)
	cfg.unplace(secACL, k)
	s.changed()
}

// aclEntryNode is the grammar of lines inside an ACL sub-mode shared by
// the dialects: [SEQ] permit|deny ..., [SEQ] remark TEXT, no SEQ,
// no permit|deny ....
func aclEntryNodes(maxSeq int) []*node {
	rule := func(action string) *node {
		return kw(action).restf(func(c *cmdCtx, toks []token) error {
			r, err := parseRule(c.s.d, c.s.cfg(), c.s.aclV6, action, toks, c.end)
			if err != nil {
				return err
			}
			return addRule(c.s, c.intArg("seq"), r)
		})
	}
	remark := kw("remark", prm(pLine, "text").do(func(c *cmdCtx) error {
		return addRemark(c.s, c.intArg("seq"), c.arg("text"))
	}))
	noRule := func(action string) *node {
		return kw(action).restf(func(c *cmdCtx, toks []token) error {
			r, err := parseRule(c.s.d, c.s.cfg(), c.s.aclV6, action, toks, c.end)
			if err != nil {
				return err
			}
			return removeRule(c.s, r)
		})
	}
	return []*node{
		rule("permit"), rule("deny"), remark,
		intp("seq", 1, maxSeq, rule("permit"), rule("deny"), kw("remark", prm(pLine, "text").do(func(c *cmdCtx) error {
			return addRemark(c.s, c.intArg("seq"), c.arg("text"))
		}))),
		kw("no", intp("nseq", 1, maxSeq).do(func(c *cmdCtx) error {
			return removeSeq(c.s, c.intArg("nseq"))
		}), noRule("permit"), noRule("deny")),
	}
}

// --- interfaces ------------------------------------------------------

// findIface resolves a typed interface name ("gi0/1", "Ethernet 1/1",
// "et1") against the configured interfaces by type prefix and number.
func findIface(cfg *Config, typed string) *Interface {
	typed = strings.ReplaceAll(typed, " ", "")
	if i := cfg.iface(typed); i != nil {
		return i
	}
	cut := strings.IndexFunc(typed, unicode.IsDigit)
	if cut <= 0 {
		return nil
	}
	tp, num := strings.ToLower(typed[:cut]), typed[cut:]
	var hits []*Interface
	for _, i := range cfg.ifaces {
		c := strings.IndexFunc(i.Name, unicode.IsDigit)
		if c <= 0 {
			continue
		}
		if strings.HasPrefix(strings.ToLower(i.Name[:c]), tp) && i.Name[c:] == num {
			hits = append(hits, i)
		}
	}
	if len(hits) == 1 {
		return hits[0]
	}
	return nil
}

func enterIface(c *cmdCtx, toks []token) error {
	if len(toks) == 0 {
		return &cliError{kind: errIncomplete, col: c.end}
	}
	typed := c.line[toks[0].col:]
	i := findIface(c.s.cfg(), strings.TrimSpace(typed))
	if i == nil {
		return invalidAt(toks[0])
	}
	c.s.ifname = i.Name
	c.s.setMode(modeIface)
	return nil
}

func (s *session) curIface() *Interface { return s.cfg().iface(s.ifname) }

// bind sets (or with name "" clears) an interface's ACL binding; setting
// one replaces the previous binding of that side in one step.
func bind(s *session, v6 bool, dir, name string) error {
	i := s.curIface()
	if i == nil {
		return nil
	}
	p := &i.In4
	switch {
	case !v6 && dir == "out":
		p = &i.Out4
	case v6 && dir == "in":
		p = &i.In6
	case v6 && dir == "out":
		p = &i.Out6
	}
	if *p != name {
		*p = name
		s.changed()
	}
	return nil
}

func unbind(s *session, v6 bool, dir, name string) error {
	i := s.curIface()
	if i == nil {
		return nil
	}
	cur := i.In4
	switch {
	case !v6 && dir == "out":
		cur = i.Out4
	case v6 && dir == "in":
		cur = i.In6
	case v6 && dir == "out":
		cur = i.Out6
	}
	if name != "" && name != cur {
		return nil
	}
	return bind(s, v6, dir, "")
}

// ifaceLine keeps a plain interface line (description, ip address,
// shutdown) in order; `no X` removes the line starting with X.
func ifaceLine(s *session, line string) error {
	i := s.curIface()
	if i == nil {
		return nil
	}
	line = strings.TrimSpace(line)
	key := ifaceKey(line)
	for n, l := range i.Lines {
		if ifaceKey(l) == key {
			i.Lines[n] = line
			s.changed()
			return nil
		}
	}
	i.Lines = append(i.Lines, line)
	s.changed()
	return nil
}

func ifaceNo(s *session, what string) error {
	i := s.curIface()
	if i == nil {
		return nil
	}
	key := ifaceKey(strings.TrimSpace(what))
	out := i.Lines[:0]
	for _, l := range i.Lines {
		if ifaceKey(l) == key {
			s.changed()
			continue
		}
		out = append(out, l)
	}
	i.Lines = out
	return nil
}

func ifaceKey(l string) string {
	f := strings.Fields(l)
	switch {
	case len(f) == 0:
		return ""
	case f[0] == "no" && len(f) > 1:
		return f[1]
	case f[0] == "ip" || f[0] == "ipv6":
		if len(f) > 1 {
			return f[0] + " " + f[1]
		}
	}
	return f[0]
}

// ifaceNodes is the interface sub-mode grammar: bindings plus the plain
// lines every interface carries.
func ifaceNodes(v6Keyword string) []*node {
	dirNode := func(v6 bool, name string, no bool) []*node {
		mk := func(dir string) *node {
			return kw(dir).do(func(c *cmdCtx) error {
				if no {
					return unbind(c.s, v6, dir, c.arg(name))
				}
				return bind(c.s, v6, dir, c.arg(name))
			})
		}
		return []*node{mk("in"), mk("out")}
	}
	ipv6Bind := func(no bool) *node {
		words := strings.Fields(v6Keyword) // "traffic-filter" or "access-group"
		n := kw(words[len(words)-1], prm(pWord, "acl", dirNode(true, "acl", no)...))
		if no {
			n.next = append(n.next, dirNode(true, "", true)...)
		}
		return n
	}
	line := func(c *cmdCtx) error { return ifaceLine(c.s, c.line) }
	return []*node{
		kw("description", prm(pLine, "text").do(line)),
		kw("shutdown").do(line),
		kw("ip",
			kw("access-group", prm(pWord, "acl", dirNode(false, "acl", false)...)),
			kw("address", prm(pLine, "addr").do(line))),
		kw("ipv6", ipv6Bind(false), kw("address", prm(pLine, "addr").do(line))),
		kw("no",
			kw("shutdown").do(func(c *cmdCtx) error { return ifaceNo(c.s, "shutdown") }),
			kw("description").do(func(c *cmdCtx) error { return ifaceNo(c.s, "description") }),
			kw("ip",
				kw("access-group", append([]*node{prm(pWord, "acl", dirNode(false, "acl", true)...)}, dirNode(false, "", true)...)...),
				kw("address").do(func(c *cmdCtx) error { return ifaceNo(c.s, "ip address") })),
			kw("ipv6", ipv6Bind(true))),
	}
}

// --- rendering helpers -----------------------------------------------

func sortedKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// ifaceShort is the EOS prompt's interface abbreviation (Ethernet1 → Et1).
func ifaceShort(name string) string {
	cut := strings.IndexFunc(name, unicode.IsDigit)
	if cut < 2 {
		return name
	}
	return name[:2] + name[cut:]
}
