package winsim

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Result is what a command run on the host printed and its exit code.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// Process is a command line started on the host (by WinRS, sshd or a
// scheduled task). Its stdin is fed with Write and ended with CloseInput.
type Process struct {
	d      *Device
	task   *task
	env    map[string]string // lower-case names
	stdin  chan []byte
	buf    []byte
	eof    bool
	done   chan struct{}
	res    Result
	cancel context.CancelFunc
	ctx    context.Context
}

// Shell is the program a command line is handed to.
type Shell int

const (
	// Cmd is cmd.exe /c LINE, as WinRS, the Task Scheduler and OpenSSH's
	// default DefaultShell run commands: the line starts powershell.exe
	// (or is an echo); cmd.exe passes its exit code on.
	Cmd Shell = iota
	// PowerShell is powershell.exe -c LINE, as OpenSSH runs commands when
	// its DefaultShell is powershell.exe: the line is PowerShell, and the
	// process exits 0 or 1 by whether its last statement succeeded,
	// unless it says exit N (a native program's own code is lost).
	PowerShell
)

// Command is a command line to start on the host.
type Command struct {
	Line, User string
	Shell      Shell
	// Env adds to the process's environment (OpenSSH sets
	// SSH_CONNECTION and SSH_CLIENT).
	Env map[string]string
	// task is the scheduled task this runs for, if any.
	task *task
}

// Start starts commandLine as user through cmd.exe, the way WinRS does:
// only powershell.exe is modelled (cmd.exe refuses anything else as it
// would an unknown program).
func (d *Device) Start(commandLine, user string) *Process {
	return d.StartCommand(Command{Line: commandLine, User: user})
}

// StartCommand starts c.
func (d *Device) StartCommand(c Command) *Process {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Process{d: d, task: c.task, env: map[string]string{}, stdin: make(chan []byte, 64), done: make(chan struct{}), ctx: ctx, cancel: cancel}
	for k, v := range c.Env {
		p.env[strings.ToLower(k)] = v
	}
	d.mu.Lock()
	if d.down {
		d.mu.Unlock()
		cancel()
		p.res = Result{Stderr: invented + "the host is shut down\r\n", ExitCode: 1}
		close(p.done)
		return p
	}
	d.procs[p] = struct{}{}
	d.mu.Unlock()
	go func() {
		defer close(p.done)
		defer func() {
			d.mu.Lock()
			delete(d.procs, p)
			d.mu.Unlock()
		}()
		if c.Shell == PowerShell {
			p.res = d.runScript(p, c.Line, "", c.User, true)
			return
		}
		p.res = d.runCommandLine(p, c.Line, c.User, false)
	}()
	return p
}

// Write feeds stdin.
func (p *Process) Write(b []byte) {
	select {
	case p.stdin <- append([]byte(nil), b...):
	case <-p.done:
	}
}

// CloseInput ends stdin.
func (p *Process) CloseInput() {
	select {
	case p.stdin <- nil:
	case <-p.done:
	}
}

// Signal stops the process (ctrl_c, terminate): a script stops before its
// next command.
func (p *Process) Signal() { p.cancel() }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Result is what the process printed and its exit code, once Done.
func (p *Process) Result() Result { return p.res }

// readAll waits for the whole of stdin (or a signal).
func (p *Process) readAll() (string, bool) {
	for !p.eof {
		select {
		case b := <-p.stdin:
			if b == nil {
				p.eof = true
			} else {
				p.buf = append(p.buf, b...)
			}
		case <-p.ctx.Done():
			return "", false
		}
	}
	s := string(p.buf)
	p.buf = nil
	return s, true
}

// Run runs commandLine with stdin and waits for it.
func (d *Device) Run(commandLine, user string, stdin []byte) Result {
	p := d.Start(commandLine, user)
	if len(stdin) > 0 {
		p.Write(stdin)
	}
	p.CloseInput()
	<-p.done
	return p.res
}

// runCommandLine runs a cmd.exe command line; nested says it was started
// by a script already holding the device (a native command of a script).
func (d *Device) runCommandLine(p *Process, line, user string, nested bool) Result {
	args := strings.Fields(line)
	if len(args) == 0 {
		return Result{}
	}
	exe := strings.ToLower(args[0])
	if exe == "echo" && !nested {
		return Result{Stdout: d.expandCmd(p, strings.TrimSpace(line[len(args[0]):])) + "\r\n"}
	}
	if exe != "powershell.exe" && exe != "powershell" {
		return Result{Stderr: fmt.Sprintf("'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", args[0]), ExitCode: 1}
	}
	var script, file string
	for i := 1; i < len(args); i++ {
		a := strings.ToLower(args[i])
		switch a {
		case "-nologo", "-noprofile", "-noninteractive":
		case "-executionpolicy", "-ep":
			i++
			if i == len(args) {
				return psUsage("Missing argument for parameter -ExecutionPolicy.")
			}
		case "-encodedcommand", "-enc", "-e":
			i++
			if i == len(args) {
				return psUsage("Missing argument for parameter -EncodedCommand.")
			}
			s, err := decodeCommand(args[i])
			if err != nil {
				return psUsage("Cannot process the command because the value specified with -EncodedCommand is not properly encoded. The value must be Base64 encoded.")
			}
			script = s
			if i != len(args)-1 {
				return psUsage(invented + "arguments after -EncodedCommand are not modelled")
			}
		case "-file":
			i++
			if i == len(args) {
				return psUsage("Missing argument for parameter -File.")
			}
			file = strings.Trim(strings.Join(args[i:], " "), `"`)
			i = len(args)
		default:
			return psUsage(invented + "the powershell.exe option " + args[i] + " is not modelled")
		}
	}
	root := ""
	if file != "" {
		d.mu.Lock()
		s, ok := d.files[normPath(file)]
		d.mu.Unlock()
		if !ok {
			return Result{Stderr: fmt.Sprintf("The argument '%s' to the -File parameter does not exist. Provide the path to an existing '.ps1' file as an argument to the -File parameter.\r\n", file), ExitCode: 64}
		}
		script, root = s, parentDir(file)
	}
	if nested {
		return d.execScript(p, script, root, user, false)
	}
	return d.runScript(p, script, root, user, false)
}

// expandCmd expands cmd.exe's %NAME% references (unknown names stay as
// written, as cmd.exe leaves them).
func (d *Device) expandCmd(p *Process, s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		j := -1
		if i >= 0 {
			j = strings.IndexByte(s[i+1:], '%')
		}
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i+1 : i+1+j]
		b.WriteString(s[:i])
		if v, ok := p.envValue(strings.ToLower(name)); ok && name != "" {
			b.WriteString(toString(v))
		} else {
			b.WriteString(s[i : i+j+2])
		}
		s = s[i+j+2:]
	}
}

// envValue is an environment variable as the process sees it: its own,
// else the host's.
func (p *Process) envValue(name string) (value, bool) {
	if v, ok := p.env[name]; ok {
		return v, true
	}
	return p.d.env(name)
}

func psUsage(msg string) Result {
	return Result{Stderr: msg + "\r\n", ExitCode: 1}
}

// decodeCommand reads an -EncodedCommand value: base64 of UTF-16LE.
func decodeCommand(b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw)%2 != 0 {
		return "", errors.New("bad encoding")
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	return string(utf16.Decode(u)), nil
}

// runScript parses and runs a script under the device's run lock;
// command says it is a -c command line (see PowerShell).
func (d *Device) runScript(p *Process, script, root, user string, command bool) Result {
	d.run.Lock()
	defer d.run.Unlock()
	d.mu.Lock()
	d.event("script start (%s, %d bytes)", user, len(script))
	d.mu.Unlock()
	res := d.execScript(p, script, root, user, command)
	d.mu.Lock()
	d.event("script exit %d", res.ExitCode)
	d.idle()
	d.mu.Unlock()
	return res
}

// execScript parses and runs a script; the caller holds the run lock.
func (d *Device) execScript(p *Process, script, root, user string, command bool) (res Result) {
	sb, err := parseScript(script)
	if err != nil {
		var pe *ParseError
		errors.As(err, &pe)
		return Result{Stderr: clixml([]*psError{{msg: pe.Msg, category: "ParserError", fqid: "ParseException", line: pe.Line}}), ExitCode: 1}
	}
	var out []value
	in := &interp{dev: d, proc: p, user: user, scope: []map[string]value{{"erroractionpreference": "Continue"}}, scriptRoot: root, sink: &out}
	code, exited := 0, false
	func() {
		defer func() {
			if r := recover(); r != nil {
				switch x := r.(type) {
				case exitSignal:
					code, exited = x.code, true
				case terminating:
					in.errs = append(in.errs, x.err)
					code = 1
				default:
					panic(r)
				}
			}
		}()
		out = append(out, in.invoke(sb, nil)...)
	}()
	var b strings.Builder
	for _, v := range out {
		b.WriteString(toString(v))
		b.WriteString("\r\n")
	}
	res = Result{Stdout: b.String(), Stderr: in.nativeErr, ExitCode: code}
	if len(in.errs) > 0 {
		res.Stderr += clixml(in.errs)
		if code == 0 {
			code = 1
		}
		res.ExitCode = code
	}
	if command && !exited && in.nativeFailed {
		// -c: a native program's failure as the last statement is
		// exit 1, whatever its own code.
		res.ExitCode = 1
	}
	return res
}

// clixml writes error records the way powershell.exe does when its
// standard error is not a console: "#< CLIXML" and the records' lines as
// serialized strings.
func clixml(errs []*psError) string {
	var b strings.Builder
	b.WriteString("#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">")
	for _, e := range errs {
		for _, l := range errorLines(e) {
			b.WriteString(`<S S="Error">`)
			b.WriteString(xmlEscape(l + "\r\n"))
			b.WriteString("</S>")
		}
	}
	b.WriteString("</Objs>")
	return b.String()
}

func errorLines(e *psError) []string {
	head := e.msg
	if e.cmd != "" {
		head = e.cmd + " : " + e.msg
	}
	target := e.target
	ex := e.exType
	if ex == "" {
		ex = "CimException"
	}
	cat := e.category
	if cat == "" {
		cat = "NotSpecified"
	}
	return []string{head, fmt.Sprintf("At line:%d char:1", max(e.line, 1)),
		fmt.Sprintf("    + CategoryInfo          : %s: (%s:String) [%s], %s", cat, target, e.cmd, ex),
		"    + FullyQualifiedErrorId : " + e.fqid, ""}
}

// xmlEscape escapes as PowerShell's serializer does: markup characters as
// entities, control characters as _xHHHH_.
func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r < 0x20:
			fmt.Fprintf(&b, "_x%04X_", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
