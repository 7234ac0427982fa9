package netsim

import (
	"strings"
)

// session is one CLI session: an SSH shell, an SSH exec request, an EEM
// action or a test's Exec. It holds the mode, the object a sub-mode
// edits, and the terminal settings.
type session struct {
	dev  *Device
	d    dialect
	id   int
	user string
	priv int
	tty  string
	mode string
	// remote is the SSH client's address ("" for the device's own
	// sessions), as `show users` prints it.
	remote string

	// sub-mode context (names, not pointers: a revert replaces the config)
	acl    string
	aclV6  bool
	group  string
	ifname string
	applet string
	// cfgs is the private configuration of the EOS/NX-OS configuration
	// session this CLI session is in, nil when editing the running config.
	cfgs *cfgSession

	termLen   int
	termWidth int
	out       strings.Builder
	ask       *question
	block     int // lines received since entering configuration mode
	async     func(string)
	killf     func()
	// killAfter: the device closes the connection after this line (exit).
	killAfter bool
	// failed: the last line was refused.
	failed bool
	// after is text the device prints right after the next prompt (IOS
	// prints its one-minute rollback warning there).
	after string
}

// cfgSession is a named configuration session (EOS `configure session`,
// NX-OS `configure session`): a private copy of the configuration.
type cfgSession struct {
	name string
	cfg  *Config
	base *Config // running config when the session started (EOS diffs)
	user string
	tty  string
}

// question is an interactive prompt the device is waiting on
// (`Destination filename [startup-config]?`, `[no]:`).
type question struct {
	prompt string
	answer func(s *session, reply string)
}

func (s *session) kill() {
	if s.killf != nil {
		s.killf()
	}
}

// prompt is what the device prints when it waits for the next line.
func (s *session) prompt() string {
	s.dev.mu.Lock()
	defer s.dev.mu.Unlock()
	if s.ask != nil {
		return s.ask.prompt
	}
	return s.d.prompt(s)
}

// input runs one line and returns what the device prints before the next
// prompt.
func (s *session) input(line string) string {
	s.dev.mu.Lock()
	s.out.Reset()
	s.process(line)
	out := s.out.String()
	s.dev.mu.Unlock()
	s.dev.deliver()
	return out
}

func (s *session) printf(format string, a ...any) {
	if len(a) == 0 {
		s.out.WriteString(format)
		return
	}
	s.out.WriteString(sprintf(format, a...))
}

// inConfig reports whether the session is in a configuration mode.
func (s *session) inConfig() bool { return s.mode != modeExec && s.mode != modePriv }

// cfg is the configuration the session edits.
func (s *session) cfg() *Config {
	if s.cfgs != nil {
		return s.cfgs.cfg
	}
	return s.dev.running
}

// changed records that the configuration the session edits changed.
func (s *session) changed() {
	if s.cfgs == nil {
		s.dev.dirty = true
	}
}

func (s *session) setMode(m string) {
	old := s.mode
	s.mode = m
	if old != m {
		s.d.modeChanged(s, old, m)
	}
}

// processLine runs a line (for EEM actions and session replays) and
// leaves s.failed set when the device refused it.
func (s *session) processLine(line string) { s.process(line) }

func (s *session) process(line string) {
	s.failed = false
	if s.ask != nil {
		q := s.ask
		s.ask = nil
		q.answer(s, strings.TrimSpace(line))
		return
	}
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || strings.HasPrefix(trimmed, "!") {
		return
	}
	if s.inConfig() {
		s.dev.configCmds++
		s.block++
		if s.dev.onLine != nil && s.dev.onLine(trimmed) {
			s.dev.onLine = nil
		}
		if s.dev.atLine > 0 && s.block == s.dev.atLine {
			f := s.dev.atLineF
			s.dev.atLine, s.dev.atLineF = 0, nil
			s.dev.logf("fault", "hook at config line %d: %s", s.block, trimmed)
			f()
		}
		if s.dev.rejectLine > 0 && s.block == s.dev.rejectLine {
			s.dev.rejectLine = 0
			toks := tokenize(line)
			s.dev.logf("fault", "rejected config line %d: %s", s.block, trimmed)
			s.fail(line, invalidAt(toks[0]))
			return
		}
	}
	cmd, filter, fcol := splitPipe(line)
	c := &cmdCtx{s: s, line: cmd, toks: tokenize(cmd), args: map[string]string{}, end: len(strings.TrimRight(cmd, " \t")) + 1}
	if filter != "" || fcol > 0 {
		if err := checkFilter(c, filter, fcol); err != nil {
			s.fail(line, err)
			return
		}
	}
	start := s.out.Len()
	before, inSession := s.mode, s.cfgs != nil
	err := parse(s.d.tree(s), c)
	if _, syntax := err.(*cliError); syntax && s.inConfig() && s.mode != modeConfig && s.mode != modeSession {
		// Real parsers try a line that does not fit the sub-mode in the
		// enclosing mode, and move there when it fits.
		saved := s.mode
		s.mode = s.d.parentMode(s)
		c2 := &cmdCtx{s: s, line: cmd, toks: c.toks, args: map[string]string{}, end: c.end}
		err2 := parse(s.d.tree(s), c2)
		if err2 == nil {
			s.d.modeChanged(s, saved, s.mode)
			err = nil
		} else {
			s.mode = saved
		}
	}
	if err != nil {
		s.fail(line, err)
		return
	}
	if inSession && s.cfgs != nil {
		if r, ok := s.d.(interface{ record(*session, string) }); ok && recordable(c.toks, before) {
			r.record(s, cmd)
		}
	}
	if filter != "" {
		out := s.out.String()[start:]
		s.out.Reset()
		s.out.WriteString(applyFilter(out, filter))
	}
}

// recordable tells whether a line entered in a configuration session is
// configuration (kept for the commit) rather than navigation or a command
// about the session itself.
func recordable(toks []token, before string) bool {
	w := strings.ToLower(toks[0].text)
	for _, x := range []string{"end", "verify", "commit", "abort", "show", "do"} {
		if strings.HasPrefix(x, w) && len(w) >= 2 || w == x {
			return false
		}
	}
	if strings.HasPrefix("exit", w) && before == modeSession {
		return false
	}
	return true
}

// fail prints a refusal in the dialect's words.
func (s *session) fail(line string, err error) {
	s.failed = true
	s.out.WriteString(s.d.formatError(s, line, err))
}

// splitPipe separates `show ... | section X` into the command and the
// filter.
func splitPipe(line string) (cmd, filter string, col int) {
	i := strings.Index(line, "|")
	if i < 0 {
		return line, "", 0
	}
	rest := line[i+1:]
	lead := len(rest) - len(strings.TrimLeft(rest, " \t"))
	return line[:i], strings.TrimRight(rest[lead:], " \t"), i + 1 + lead
}

const (
	modeExec    = "exec"
	modePriv    = "priv"
	modeConfig  = "config"
	modeSession = "session"
	modeACL     = "acl"
	modeACL6    = "acl6"
	modeGroup   = "group"
	modeIface   = "iface"
	modeArchive = "archive"
	modeApplet  = "applet"
)
