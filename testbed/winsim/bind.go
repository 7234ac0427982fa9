package winsim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// kind is a parameter's type.
type kind int

const (
	kString kind = iota
	kStrings
	kSwitch
	kInt
	kObject
	kDate
	kEnum  // one of values
	kEnums // a list of values
)

// param describes one cmdlet parameter.
type param struct {
	name      string
	aliases   []string
	kind      kind
	values    []string // kEnum, kEnums: the enumerator names
	enumType  string
	mandatory bool
	position  int // -1: named only
	pipe      bool
}

// cmdlet is one command the simulator knows.
type cmdlet struct {
	name   string
	noun   string // for FullyQualifiedErrorIds: the .NET class or module
	params []param
	// shouldProcess cmdlets take -Confirm and -WhatIf.
	shouldProcess bool
	// run gets the bound parameters and the pipeline input bound to the
	// pipe parameter (run once per input item, or once without input).
	run func(in *interp, b *bound) []value
}

// bound are a command's parameters after binding.
type bound struct {
	c      *cmdlet
	vals   map[string]value // canonical name → value
	action string           // -ErrorAction
}

func (b *bound) has(name string) bool { _, ok := b.vals[name]; return ok }

func (b *bound) str(name string) string { return toString(b.vals[name]) }

func (b *bound) strs(name string) []string {
	v, ok := b.vals[name]
	if !ok {
		return nil
	}
	var out []string
	for _, e := range enumerate(v) {
		out = append(out, toString(e))
	}
	return out
}

func (b *bound) flag(name string) bool { return truthy(b.vals[name]) }

// common are the common parameters the simulator models.
var common = []param{
	{name: "ErrorAction", aliases: []string{"ea"}, kind: kEnum, enumType: "System.Management.Automation.ActionPreference",
		values: []string{"SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore", "Suspend", "Break"}, position: -1},
}

var shouldProcessParams = []param{
	{name: "Confirm", aliases: []string{"cf"}, kind: kSwitch, position: -1},
	{name: "WhatIf", aliases: []string{"wi"}, kind: kSwitch, position: -1},
}

func (c *cmdlet) allParams() []param {
	ps := append(append([]param(nil), c.params...), common...)
	if c.shouldProcess {
		ps = append(ps, shouldProcessParams...)
	}
	return ps
}

func (in *interp) bindError(c *cmdlet, line int, fqid, category, format string, args ...any) {
	in.fail(&psError{msg: fmt.Sprintf(format, args...), category: category, fqid: fqid + "," + c.noun, cmd: c.name, line: line,
		exType: "ParameterBindingException"})
}

// resolveParam finds the parameter a -name refers to: an exact name or
// alias, else an unambiguous prefix, as PowerShell binds.
func (in *interp) resolveParam(c *cmdlet, name string, line int) *param {
	ps := c.allParams()
	ln := strings.ToLower(name)
	for i := range ps {
		if strings.ToLower(ps[i].name) == ln {
			return &ps[i]
		}
		for _, a := range ps[i].aliases {
			if a == ln {
				return &ps[i]
			}
		}
	}
	var matches []int
	for i := range ps {
		if strings.HasPrefix(strings.ToLower(ps[i].name), ln) {
			matches = append(matches, i)
		}
	}
	switch len(matches) {
	case 0:
		in.bindError(c, line, "NamedParameterNotFound", "InvalidArgument", "A parameter cannot be found that matches parameter name '%s'.", name)
	case 1:
		return &ps[matches[0]]
	}
	var names []string
	for _, i := range matches {
		names = append(names, "-"+ps[i].name)
	}
	in.bindError(c, line, "AmbiguousParameter", "InvalidArgument",
		"Parameter cannot be processed because the parameter name '%s' is ambiguous. Possible matches include: %s.", name, strings.Join(names, " "))
	return nil
}

// convert checks and converts an argument for p.
func (in *interp) convert(c *cmdlet, p *param, v value, line int) value {
	cannot := func(want, why string) {
		in.bindError(c, line, "CannotConvertArgumentNoMessage", "InvalidArgument",
			"Cannot bind parameter '%s'. Cannot convert value \"%s\" to type \"%s\". Error: \"%s\"", p.name, toString(v), want, why)
	}
	switch p.kind {
	case kSwitch:
		return truthy(v)
	case kString:
		if a, ok := v.([]value); ok && len(a) != 1 {
			in.bindError(c, line, "CannotConvertArgument", "InvalidArgument",
				"Cannot convert 'System.Object[]' to the type 'System.String' required by parameter '%s'. Specified method is not supported.", p.name)
		}
		if a, ok := v.([]value); ok {
			v = a[0]
		}
		return toString(v)
	case kStrings:
		var out []value
		for _, e := range enumerate(v) {
			out = append(out, toString(e))
		}
		return out
	case kInt:
		n, ok := toInt(v)
		if !ok {
			cannot("System.Int32", "Input string was not in a correct format.")
		}
		return n
	case kDate:
		t, ok := v.(time.Time)
		if !ok {
			cannot("System.DateTime", "fwpush lab simulator (winsim): only DateTime values are modelled, not strings")
		}
		return t
	case kEnum, kEnums:
		items := enumerate(v)
		if p.kind == kEnum && len(items) != 1 {
			cannot(p.enumType, "Only one value is allowed.")
		}
		var out []value
		for _, e := range items {
			s := toString(e)
			match := ""
			for _, ok := range p.values {
				if strings.EqualFold(ok, s) {
					match = ok
				}
			}
			if match == "" {
				cannot(p.enumType, fmt.Sprintf("Unable to match the identifier name %s to a valid enumerator name. Specify one of the following enumerator names and try again:\r\n%s", s, strings.Join(p.values, ", ")))
			}
			out = append(out, match)
		}
		if p.kind == kEnum {
			return out[0]
		}
		return out
	}
	return v
}

// command runs one command of a pipeline.
func (in *interp) command(c *command, input []value, piped bool) []value {
	in.ran++
	if in.proc != nil && in.proc.ctx.Err() != nil {
		in.fail(&psError{msg: "The pipeline has been stopped.", category: "OperationStopped", fqid: "PipelineStopped", line: c.ln})
	}
	if in.ran > maxSteps {
		in.fail(&psError{msg: "fwpush lab simulator (winsim): the script ran more than 200000 commands; stopped", category: "LimitsExceeded", fqid: "StepBudget"})
	}
	if c.invoke != nil {
		target := in.eval(c.invoke)
		sb, ok := target.(*scriptBlock)
		if !ok {
			in.fail(&psError{msg: "The expression after '&' in a pipeline element produced an object that was not valid. It must result in a command name, a script block, or a CommandInfo object.", category: "InvalidOperation", fqid: "BadExpression", line: c.ln})
		}
		var args []value
		for _, a := range c.args {
			if a.param != "" || a.splat != "" {
				in.fail(&psError{msg: "fwpush lab simulator (winsim): only positional arguments to a script block are modelled", category: "NotImplemented", fqid: "NotModelled", line: c.ln})
			}
			args = append(args, in.eval(a.value))
		}
		return in.invoke(sb, args)
	}
	if isNative(c.name) {
		return in.native(c)
	}
	cl := in.dev.cmdlet(c.name)
	if cl == nil {
		in.fail(&psError{msg: fmt.Sprintf("The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", c.name),
			category: "ObjectNotFound", fqid: "CommandNotFoundException", target: c.name, cmd: c.name, line: c.ln, exType: "CommandNotFoundException"})
	}
	b := &bound{c: cl, vals: map[string]value{}}
	var positional []value
	set := func(p *param, v value) {
		if _, dup := b.vals[p.name]; dup {
			in.bindError(cl, c.ln, "ParameterAlreadyBound", "InvalidArgument", "Cannot bind parameter because parameter '%s' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".", p.name)
		}
		b.vals[p.name] = in.convert(cl, p, v, c.ln)
	}
	for _, a := range c.args {
		switch {
		case a.splat != "":
			h, ok := in.lookup(a.splat)
			m, isMap := h.(*omap)
			if !ok || !isMap {
				in.fail(&psError{msg: fmt.Sprintf("fwpush lab simulator (winsim): splatting @%s needs a hashtable", a.splat), category: "InvalidArgument", fqid: "NotModelled", line: c.ln})
			}
			for _, k := range m.keys {
				v, _ := m.get(k)
				set(in.resolveParam(cl, k, c.ln), v)
			}
		case a.param != "":
			p := in.resolveParam(cl, a.param, c.ln)
			switch {
			case p.kind == kSwitch && a.value != nil && !strings.Contains(a.text, ":"):
				// -Switch value: the value is positional.
				set(p, true)
				positional = append(positional, in.eval(a.value))
			case p.kind == kSwitch && a.value == nil:
				set(p, true)
			case a.value == nil:
				in.bindError(cl, c.ln, "MissingArgument", "InvalidArgument", "Missing an argument for parameter '%s'. Specify a parameter of type '%s' and try again.", p.name, kindName(p))
			default:
				set(p, in.eval(a.value))
			}
		default:
			positional = append(positional, in.eval(a.value))
		}
	}
	if len(positional) > 0 {
		ps := append([]param(nil), cl.params...)
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].position < ps[j].position })
		i := 0
		for _, p := range ps {
			if p.position < 0 || b.has(p.name) {
				continue
			}
			if i == len(positional) {
				break
			}
			p := p
			set(&p, positional[i])
			i++
		}
		if i < len(positional) {
			in.bindError(cl, c.ln, "PositionalParameterNotFound", "InvalidArgument", "A positional parameter cannot be found that accepts argument '%s'.", toString(positional[i]))
		}
	}
	if v, ok := b.vals["ErrorAction"]; ok {
		b.action = toString(v)
	}
	var pipeParam *param
	for i := range cl.params {
		if cl.params[i].pipe {
			pipeParam = &cl.params[i]
		}
	}
	runOne := func() []value {
		for _, p := range cl.params {
			if p.mandatory && !b.has(p.name) {
				in.bindError(cl, c.ln, "MissingMandatoryParameter", "InvalidArgument", "Cannot process command because of one or more missing mandatory parameters: %s.", p.name)
			}
		}
		return in.runCmdlet(cl, b, c.ln)
	}
	if !piped {
		return runOne()
	}
	if pipeParam == nil {
		if len(input) == 0 {
			return runOne()
		}
		in.bindError(cl, c.ln, "InputObjectNotBound", "InvalidArgument", "The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.")
	}
	if cl.name == "ConvertTo-Json" {
		// ConvertTo-Json gathers its whole input: several items are one
		// array.
		if len(input) > 0 {
			b.vals[pipeParam.name] = collect(input)
		}
		return runOne()
	}
	var out []value
	for _, item := range input {
		b.vals[pipeParam.name] = in.convert(cl, pipeParam, item, c.ln)
		out = append(out, runOne()...)
	}
	return out
}

// runCmdlet runs a bound cmdlet, giving its errors the command's name and
// line.
func (in *interp) runCmdlet(cl *cmdlet, b *bound, line int) []value {
	defer func() {
		if r := recover(); r != nil {
			if t, ok := r.(terminating); ok {
				if t.err.cmd == "" {
					t.err.cmd = cl.name
				}
				if t.err.line == 0 {
					t.err.line = line
				}
			}
			panic(r)
		}
	}()
	in.dev.stall(cl.name)
	return cl.run(in, b)
}

func kindName(p *param) string {
	switch p.kind {
	case kString:
		return "System.String"
	case kStrings:
		return "System.String[]"
	case kInt:
		return "System.Int32"
	case kDate:
		return "System.DateTime"
	case kEnum, kEnums:
		return p.enumType
	}
	return "System.Object"
}

// isNative says whether name is the one native program scripts may run:
// powershell.exe (what OpenSSH's PowerShell default shell runs commands
// through).
func isNative(name string) bool {
	n := strings.ToLower(name)
	return n == "powershell.exe" || n == "powershell"
}

// native runs a native program as a child of the script's process: same
// stdin, its stdout lines are the command's output, its stderr goes to
// the script's own, and $LASTEXITCODE is its exit code. It runs under the
// lock the script holds.
func (in *interp) native(c *command) []value {
	line := c.name
	for _, a := range c.args {
		if a.splat != "" {
			in.fail(&psError{msg: invented + "splatting into a native command is not modelled", category: "NotImplemented", fqid: "NotModelled", line: c.ln})
		}
		line += " " + a.text
	}
	res := in.dev.runCommandLine(in.proc, line, in.user, true)
	in.scope[0]["lastexitcode"] = res.ExitCode
	in.nativeErr += res.Stderr
	in.nativeFailed = res.ExitCode != 0
	if res.Stdout == "" {
		return nil
	}
	var out []value
	for _, l := range strings.Split(strings.TrimSuffix(strings.ReplaceAll(res.Stdout, "\r\n", "\n"), "\n"), "\n") {
		out = append(out, l)
	}
	return out
}
