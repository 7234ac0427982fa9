package winsim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// psError is an error record: a cmdlet's error, a binding or parse error,
// or a throw.
type psError struct {
	msg      string
	category string // e.g. ObjectNotFound, InvalidArgument
	fqid     string // FullyQualifiedErrorId
	target   string
	cmd      string // the command that raised it
	exType   string
	line     int
}

func (e *psError) Error() string { return e.msg }

// Control flow unwinds the Go stack with these.
type (
	exitSignal   struct{ code int }
	returnSignal struct{ out []value }
	// terminating is an error that stops the script unless caught.
	terminating struct{ err *psError }
)

// interp runs one script invocation.
type interp struct {
	dev   *Device
	proc  *Process
	user  string
	scope []map[string]value
	// sink receives what statements output, as they run: what a script
	// printed before it exits is printed.
	sink *[]value
	// errs are the error records written (non-terminating, or the one
	// that ended the script).
	errs []*psError
	// ran counts commands run, for the step budget.
	ran int
	// scriptRoot is $PSScriptRoot: the directory of a -File script.
	scriptRoot string
	// nativeErr is what native programs the script ran wrote to their
	// standard error (it is the script's own: not redirected).
	nativeErr string
	// nativeFailed says the last statement was a native program that
	// exited non-zero.
	nativeFailed bool
}

// maxSteps bounds a script's commands: a loop in a script can never hang
// the simulator.
const maxSteps = 200000

func (in *interp) lookup(name string) (value, bool) {
	lname := strings.ToLower(name)
	if env, ok := strings.CutPrefix(lname, "env:"); ok {
		if in.proc != nil {
			return in.proc.envValue(env)
		}
		return in.dev.env(env)
	}
	for i := len(in.scope) - 1; i >= 0; i-- {
		if v, ok := in.scope[i][lname]; ok {
			return v, true
		}
	}
	switch lname {
	case "psscriptroot":
		return in.scriptRoot, true
	}
	return nil, false
}

func (in *interp) setVar(name string, v value) {
	lname := strings.ToLower(name)
	if strings.HasPrefix(lname, "env:") {
		in.fail(&psError{msg: "fwpush lab simulator (winsim): setting environment variables is not modelled", category: "NotImplemented", fqid: "NotModelled"})
	}
	in.scope[len(in.scope)-1][lname] = v
}

// fail raises a terminating error.
func (in *interp) fail(e *psError) {
	panic(terminating{err: e})
}

// cmdError is how a cmdlet reports an error: terminating when the
// preference (the -ErrorAction given, else $ErrorActionPreference) is Stop,
// silently dropped for SilentlyContinue and Ignore, else written to the
// error stream.
func (in *interp) cmdError(action string, e *psError) {
	if action == "" {
		v, _ := in.lookup("ErrorActionPreference")
		action = toString(v)
	}
	switch strings.ToLower(action) {
	case "stop":
		in.fail(e)
	case "silentlycontinue", "ignore":
		return
	}
	in.errs = append(in.errs, e)
}

// block runs statements, their output going to the sink.
func (in *interp) block(body []stmt) {
	for _, st := range body {
		in.nativeFailed = false
		out := in.stmt(st)
		*in.sink = append(*in.sink, out...)
	}
}

// capture runs f with a sink of its own and returns what it output. When
// transparent (a script block called with &), output already produced
// still reaches the caller if f exits the script.
func (in *interp) capture(f func(), transparent bool) (out []value) {
	old := in.sink
	var buf []value
	in.sink = &buf
	defer func() {
		in.sink = old
		if r := recover(); r != nil {
			if transparent {
				*old = append(*old, buf...)
			}
			panic(r)
		}
	}()
	f()
	return buf
}

func (in *interp) stmt(st stmt) []value {
	switch s := st.(type) {
	case *pipeStmt:
		if s.target == nil {
			return in.pipeline(s.pipe, s.ln)
		}
		// Assigning an expression keeps its value (an empty array stays
		// one); a command pipeline's output is collected.
		var v value
		if s.pipe.first != nil && len(s.pipe.cmds) == 0 {
			v = in.eval(s.pipe.first)
		} else {
			v = collect(in.pipeline(s.pipe, s.ln))
		}
		if s.op == "+=" {
			v = in.add(in.eval(s.target), v)
		}
		in.assign(s.target, v)
		return nil
	case *ifStmt:
		for i, c := range s.conds {
			if truthy(collect(in.pipeline(c, s.ln))) {
				in.block(s.blocks[i])
				return nil
			}
		}
		in.block(s.els)
		return nil
	case *foreachStmt:
		for _, v := range in.pipeline(s.in, s.ln) {
			in.setVar(s.v, v)
			in.block(s.body)
		}
		return nil
	case *tryStmt:
		return in.try(s)
	case *exitStmt:
		code := 0
		if s.code != nil {
			n, ok := toInt(in.eval(s.code))
			if !ok {
				in.fail(&psError{msg: "Cannot convert the exit code to System.Int32.", category: "InvalidArgument", fqid: "RuntimeException", line: s.ln})
			}
			code = n
		}
		panic(exitSignal{code: code})
	case *throwStmt:
		msg := "ScriptHalted"
		if s.msg != nil {
			v := in.eval(s.msg)
			if e, ok := v.(*psError); ok {
				in.fail(e)
			}
			msg = toString(v)
		}
		in.fail(&psError{msg: msg, category: "OperationStopped", fqid: msg, target: msg, exType: "RuntimeException", line: s.ln})
	case *returnStmt:
		var out []value
		if s.v != nil {
			out = in.pipeline(s.v, s.ln)
		}
		panic(returnSignal{out: out})
	}
	panic(fmt.Sprintf("winsim: unknown statement %T", st))
}

func (in *interp) try(s *tryStmt) []value {
	caught := func() (e *psError) {
		defer func() {
			if r := recover(); r != nil {
				t, ok := r.(terminating)
				if !ok {
					panic(r)
				}
				e = t.err
			}
		}()
		in.block(s.body)
		return nil
	}
	e := caught()
	if e == nil {
		return nil
	}
	prev, had := in.lookup("_")
	in.setVar("_", e)
	in.block(s.catch)
	if had {
		in.setVar("_", prev)
	}
	return nil
}

func (in *interp) assign(target expr, v value) {
	switch t := target.(type) {
	case *varExpr:
		in.setVar(t.name, v)
	case *memberExpr:
		switch obj := in.eval(t.x).(type) {
		case *omap:
			obj.set(t.name, v)
		case *psObject:
			if _, ok := obj.props.get(t.name); !ok {
				in.fail(&psError{msg: fmt.Sprintf("The property '%s' cannot be found on this object. Verify that the property exists and can be set.", t.name), category: "InvalidOperation", fqid: "PropertyAssignmentException"})
			}
			obj.props.set(t.name, v)
		default:
			in.fail(&psError{msg: fmt.Sprintf("The property '%s' cannot be found on this object. Verify that the property exists and can be set.", t.name), category: "InvalidOperation", fqid: "PropertyNotFound"})
		}
	case *indexExpr:
		obj, ok := in.eval(t.x).(*omap)
		if !ok {
			in.fail(&psError{msg: "fwpush lab simulator (winsim): only hashtable elements can be assigned by index", category: "NotImplemented", fqid: "NotModelled"})
		}
		obj.set(toString(in.eval(t.i)), v)
	}
}

// pipeline runs a pipeline and returns its output.
func (in *interp) pipeline(pl *pipeline, line int) []value {
	var input []value
	started := false
	if pl.first != nil {
		v := in.eval(pl.first)
		if _, isParen := pl.first.(*parenExpr); isParen || len(pl.cmds) > 0 {
			input = enumerate(v)
		} else if a, ok := v.([]value); ok {
			input = a
		} else {
			input = []value{v}
		}
		started = true
	}
	for _, c := range pl.cmds {
		input = in.command(c, input, started)
		started = true
	}
	return input
}

func (in *interp) add(l, r value) value {
	switch x := l.(type) {
	case nil:
		if a, ok := r.([]value); ok {
			return append([]value(nil), a...)
		}
		return r
	case []value:
		out := append([]value(nil), x...)
		if a, ok := r.([]value); ok {
			return append(out, a...)
		}
		return append(out, r)
	case string:
		return x + toString(r)
	case int:
		n, ok := toInt(r)
		if !ok {
			in.fail(&psError{msg: fmt.Sprintf("Cannot convert value %q to type \"System.Int32\". Error: \"Input string was not in a correct format.\"", toString(r)), category: "InvalidArgument", fqid: "InvalidCastFromStringToInteger"})
		}
		return x + n
	case time.Time:
		in.fail(&psError{msg: "fwpush lab simulator (winsim): DateTime arithmetic with + is not modelled; use AddSeconds", category: "NotImplemented", fqid: "NotModelled"})
	case *omap:
		y, ok := r.(*omap)
		if !ok {
			in.fail(&psError{msg: "A hash table can only be added to another hash table.", category: "InvalidOperation", fqid: "AddHashTableToNonHashTable"})
		}
		out := newOmap()
		for _, k := range x.keys {
			v, _ := x.get(k)
			out.set(k, v)
		}
		for _, k := range y.keys {
			if _, dup := out.get(k); dup {
				in.fail(&psError{msg: fmt.Sprintf("Item has already been added. Key in dictionary: '%s'  Key being added: '%s'", k, k), category: "InvalidOperation", fqid: "System.ArgumentException"})
			}
			v, _ := y.get(k)
			out.set(k, v)
		}
		return out
	}
	in.fail(&psError{msg: fmt.Sprintf("Method invocation failed because [%s] does not contain a method named 'op_Addition'.", typeName(l)), category: "InvalidOperation", fqid: "MethodNotFound"})
	return nil
}

func typeName(v value) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "System.String"
	case int:
		return "System.Int32"
	case bool:
		return "System.Boolean"
	case []value:
		return "System.Object[]"
	case *omap:
		return "System.Collections.Hashtable"
	case *psObject:
		return x.typeName
	case time.Time:
		return "System.DateTime"
	}
	return fmt.Sprintf("%T", v)
}

func (in *interp) eval(e expr) value {
	switch x := e.(type) {
	case *litExpr:
		return x.v
	case *varExpr:
		v, _ := in.lookup(x.name)
		return v
	case *strExpr:
		var b strings.Builder
		for _, p := range x.parts {
			if p.v == "" {
				b.WriteString(p.lit)
				continue
			}
			v, _ := in.lookup(p.v)
			b.WriteString(toString(v))
		}
		return b.String()
	case *arrayExpr:
		out := make([]value, len(x.items))
		for i, it := range x.items {
			out[i] = in.eval(it)
		}
		return out
	case *hashExpr:
		h := newOmap()
		for i, k := range x.keys {
			key := toString(in.eval(k))
			if _, dup := h.get(key); dup {
				in.fail(&psError{msg: fmt.Sprintf("Duplicate keys '%s' are not allowed in hash literals.", key), category: "ParserError", fqid: "DuplicateKeyInHashLiteral"})
			}
			h.set(key, in.eval(x.vals[i]))
		}
		return h
	case *subExpr:
		return collect(in.capture(func() { in.block(x.body) }, false))
	case *arraySub:
		out := in.capture(func() { in.block(x.body) }, false)
		if out == nil {
			out = []value{}
		}
		return out
	case *parenExpr:
		return collect(in.pipeline(x.p, 0))
	case *blockExpr:
		return x.sb
	case *unaryExpr:
		v := in.eval(x.x)
		if x.op == "-not" {
			return !truthy(v)
		}
		n, ok := toInt(v)
		if !ok {
			in.fail(&psError{msg: "Cannot negate a non-number.", category: "InvalidOperation", fqid: "RuntimeException"})
		}
		return -n
	case *binaryExpr:
		return in.binary(x)
	case *memberExpr:
		return in.member(in.eval(x.x), x.name)
	case *indexExpr:
		return in.index(in.eval(x.x), in.eval(x.i))
	case *callExpr:
		args := make([]value, len(x.args))
		for i, a := range x.args {
			args[i] = in.eval(a)
		}
		return in.method(in.eval(x.x), x.name, args)
	case *staticExpr:
		args := make([]value, len(x.args))
		for i, a := range x.args {
			args[i] = in.eval(a)
		}
		return in.static(x.typ, x.name, x.call, args)
	case *castExpr:
		return in.cast(x.typ, in.eval(x.x))
	case *typeExpr:
		in.fail(&psError{msg: fmt.Sprintf("fwpush lab simulator (winsim): the type literal [%s] alone is not modelled", x.typ), category: "NotImplemented", fqid: "NotModelled"})
	}
	panic(fmt.Sprintf("winsim: unknown expression %T", e))
}

func (in *interp) binary(x *binaryExpr) value {
	switch x.op {
	case "-and":
		return truthy(in.eval(x.l)) && truthy(in.eval(x.r))
	case "-or":
		return truthy(in.eval(x.l)) || truthy(in.eval(x.r))
	}
	l, r := in.eval(x.l), in.eval(x.r)
	switch x.op {
	case "+":
		return in.add(l, r)
	case "-":
		a, ok1 := toInt(l)
		b, ok2 := toInt(r)
		if !ok1 || !ok2 {
			in.fail(&psError{msg: "Method invocation failed because the operands of '-' are not numbers.", category: "InvalidOperation", fqid: "MethodNotFound"})
		}
		return a - b
	case "-contains", "-notcontains":
		found := false
		for _, e := range enumerate(l) {
			if c, err := compare(e, r); err == nil && c == 0 {
				found = true
				break
			}
		}
		return found == (x.op == "-contains")
	case "-in", "-notin":
		found := false
		for _, e := range enumerate(r) {
			if c, err := compare(e, l); err == nil && c == 0 {
				found = true
				break
			}
		}
		return found == (x.op == "-in")
	}
	test := func(e value) bool {
		switch x.op {
		case "-like":
			return like(toString(e), toString(r))
		case "-notlike":
			return !like(toString(e), toString(r))
		}
		c, err := compare(e, r)
		if err != nil {
			if x.op == "-eq" || x.op == "-ne" {
				return (x.op == "-ne") // different types: not equal
			}
			in.fail(&psError{msg: "Could not compare: " + err.Error(), category: "InvalidOperation", fqid: "ComparisonFailure"})
		}
		switch x.op {
		case "-eq":
			return c == 0
		case "-ne":
			return c != 0
		case "-lt":
			return c < 0
		case "-le":
			return c <= 0
		case "-gt":
			return c > 0
		}
		return c >= 0
	}
	// An array on the left filters it, as PowerShell does.
	if a, ok := l.([]value); ok {
		out := []value{}
		for _, e := range a {
			if test(e) {
				out = append(out, e)
			}
		}
		return out
	}
	return test(l)
}

func (in *interp) member(v value, name string) value {
	lname := strings.ToLower(name)
	switch x := v.(type) {
	case nil:
		return nil
	case *omap:
		if lname == "count" {
			return len(x.keys)
		}
		if lname == "keys" {
			out := make([]value, len(x.keys))
			for i, k := range x.keys {
				out[i] = k
			}
			return out
		}
		r, _ := x.get(name)
		return r
	case *psObject:
		r, _ := x.props.get(name)
		return r
	case []value:
		if lname == "count" || lname == "length" {
			return len(x)
		}
		// Member enumeration.
		var out []value
		for _, e := range x {
			if m := in.member(e, name); m != nil {
				out = append(out, enumerate(m)...)
			}
		}
		return collect(out)
	case string:
		if lname == "length" {
			return len([]rune(x))
		}
	case *psError:
		switch lname {
		case "exception":
			return newObject("System.Exception", "Message", x.msg)
		case "fullyqualifiederrorid":
			return x.fqid
		case "categoryinfo":
			return newObject("System.Management.Automation.ErrorCategoryInfo", "Category", x.category)
		}
	case time.Time:
		switch lname {
		case "year":
			return x.Year()
		}
	case dateTimeOffset:
		if lname == "utcdatetime" {
			return x.t.UTC()
		}
	case consoleIn:
	}
	if c, ok := v.(int); ok && (lname == "count" || lname == "length") {
		_ = c
		return 1
	}
	return nil // PowerShell returns $null for a missing property
}

func (in *interp) index(v, i value) value {
	switch x := v.(type) {
	case nil:
		in.fail(&psError{msg: "Cannot index into a null array.", category: "InvalidOperation", fqid: "NullArray"})
	case *omap:
		r, _ := x.get(toString(i))
		return r
	case []value:
		n, ok := toInt(i)
		if !ok {
			in.fail(&psError{msg: "Cannot convert the index to System.Int32.", category: "InvalidArgument", fqid: "InvalidCastFromStringToInteger"})
		}
		if n < 0 {
			n += len(x)
		}
		if n < 0 || n >= len(x) {
			return nil
		}
		return x[n]
	case string:
		n, _ := toInt(i)
		rs := []rune(x)
		if n < 0 || n >= len(rs) {
			return nil
		}
		return string(rs[n])
	}
	in.fail(&psError{msg: fmt.Sprintf("Unable to index into an object of type %s.", typeName(v)), category: "InvalidOperation", fqid: "CannotIndex"})
	return nil
}

func (in *interp) noMethod(v value, name string) {
	in.fail(&psError{msg: fmt.Sprintf("Method invocation failed because [%s] does not contain a method named '%s'.", typeName(v), name),
		category: "InvalidOperation", fqid: "MethodNotFound", target: name})
}

func (in *interp) method(v value, name string, args []value) value {
	lname := strings.ToLower(name)
	argc := func(n int) {
		if len(args) != n {
			in.fail(&psError{msg: fmt.Sprintf("Cannot find an overload for \"%s\" and the argument count: \"%d\".", name, len(args)), category: "NotSpecified", fqid: "MethodCountCouldNotFindBest"})
		}
	}
	switch x := v.(type) {
	case nil:
		in.fail(&psError{msg: "You cannot call a method on a null-valued expression.", category: "InvalidOperation", fqid: "InvokeMethodOnNull"})
	case string:
		switch lname {
		case "startswith":
			argc(1)
			return strings.HasPrefix(x, toString(args[0]))
		case "endswith":
			argc(1)
			return strings.HasSuffix(x, toString(args[0]))
		case "trim":
			argc(0)
			return strings.TrimSpace(x)
		case "tolower":
			argc(0)
			return strings.ToLower(x)
		case "substring":
			rs := []rune(x)
			if len(args) < 1 || len(args) > 2 {
				argc(1)
			}
			s, _ := toInt(args[0])
			n := len(rs) - s
			if len(args) == 2 {
				n, _ = toInt(args[1])
			}
			if s < 0 || n < 0 || s+n > len(rs) {
				in.fail(&psError{msg: "Exception calling \"Substring\": \"Index and length must refer to a location within the string.\"", category: "NotSpecified", fqid: "ArgumentOutOfRangeException"})
			}
			return string(rs[s : s+n])
		}
	case *omap:
		switch lname {
		case "containskey":
			argc(1)
			_, ok := x.get(toString(args[0]))
			return ok
		case "remove":
			argc(1)
			x.del(toString(args[0]))
			return nil
		}
	case time.Time:
		switch lname {
		case "addseconds":
			argc(1)
			n, _ := toInt(args[0])
			return x.Add(time.Duration(n) * time.Second)
		case "touniversaltime":
			argc(0)
			return x.UTC()
		case "tostring":
			argc(1)
			switch toString(args[0]) {
			case "o":
				return x.Format("2006-01-02T15:04:05.0000000Z07:00")
			case "s":
				return x.Format("2006-01-02T15:04:05")
			}
			in.fail(&psError{msg: "fwpush lab simulator (winsim): only the 'o' and 's' DateTime formats are modelled", category: "NotImplemented", fqid: "NotModelled"})
		}
	case dateTimeOffset:
		if lname == "tounixtimeseconds" {
			argc(0)
			return int(x.t.Unix())
		}
	case *mutex:
		switch lname {
		case "waitone":
			// The simulator runs one script at a time per device (see
			// Device.Run), so the system mutex never contends.
			return true
		case "releasemutex", "dispose":
			return nil
		}
	case consoleIn:
		if lname == "readtoend" {
			argc(0)
			if in.proc == nil {
				return ""
			}
			// A script waiting for its input holds nothing.
			in.dev.run.Unlock()
			s, ok := in.proc.readAll()
			in.dev.run.Lock()
			if !ok {
				in.fail(&psError{msg: "The pipeline has been stopped.", category: "OperationStopped", fqid: "PipelineStopped"})
			}
			return s
		}
	case *psError:
		if lname == "tostring" {
			return x.msg
		}
	}
	in.noMethod(v, name)
	return nil
}

func (in *interp) static(typ, name string, call bool, args []value) value {
	t := strings.ToLower(strings.TrimPrefix(strings.ToLower(typ), "system."))
	n := strings.ToLower(name)
	switch {
	case t == "console" && n == "in" && !call:
		return consoleIn{}
	case t == "threading.mutex" && n == "new" && call:
		if len(args) != 2 {
			in.fail(&psError{msg: "fwpush lab simulator (winsim): only Mutex(bool, string) is modelled", category: "NotImplemented", fqid: "NotModelled"})
		}
		return &mutex{name: toString(args[1])}
	case t == "scriptblock" && n == "create" && call:
		if len(args) != 1 {
			in.noMethod(typ, name)
		}
		sb, err := parseScript(toString(args[0]))
		if err != nil {
			var pe *ParseError
			errors.As(err, &pe)
			in.fail(&psError{msg: "Exception calling \"Create\" with \"1\" argument(s): \"" + pe.Msg + "\"", category: "NotSpecified", fqid: "ParseException"})
		}
		return sb
	case t == "datetimeoffset" && n == "utcnow" && !call:
		return dateTimeOffset{t: in.dev.clock.Now().UTC()}
	case t == "string" && n == "isnullorempty" && call && len(args) == 1:
		return toString(args[0]) == ""
	}
	in.fail(&psError{msg: fmt.Sprintf("fwpush lab simulator (winsim): [%s]::%s is not modelled", typ, name), category: "NotImplemented", fqid: "NotModelled"})
	return nil
}

func (in *interp) cast(typ string, v value) value {
	switch strings.ToLower(typ) {
	case "string":
		if v == nil {
			return ""
		}
		return toString(v)
	case "int":
		n, ok := toInt(v)
		if !ok {
			in.fail(&psError{msg: fmt.Sprintf("Cannot convert value %q to type \"System.Int32\". Error: \"Input string was not in a correct format.\"", toString(v)), category: "InvalidArgument", fqid: "InvalidCastFromStringToInteger"})
		}
		return n
	case "bool":
		return truthy(v)
	case "array":
		if a, ok := v.([]value); ok {
			return a
		}
		if v == nil {
			return []value{}
		}
		return []value{v}
	case "pscustomobject":
		h, ok := v.(*omap)
		if !ok {
			return v
		}
		o := &psObject{typeName: "System.Management.Automation.PSCustomObject", props: newOmap()}
		for _, k := range h.keys {
			x, _ := h.get(k)
			o.props.set(k, x)
		}
		return o
	}
	in.fail(&psError{msg: fmt.Sprintf("fwpush lab simulator (winsim): the cast [%s] is not modelled", typ), category: "NotImplemented", fqid: "NotModelled"})
	return nil
}

// invoke runs a script block with positional arguments bound to its
// param() names, in a new scope.
func (in *interp) invoke(sb *scriptBlock, args []value) (out []value) {
	sc := map[string]value{}
	for i, p := range sb.params {
		if i < len(args) {
			sc[strings.ToLower(p)] = args[i]
		} else {
			sc[strings.ToLower(p)] = nil
		}
	}
	in.scope = append(in.scope, sc)
	defer func() { in.scope = in.scope[:len(in.scope)-1] }()
	var ret []value
	out = in.capture(func() {
		defer func() {
			if r := recover(); r != nil {
				rs, ok := r.(returnSignal)
				if !ok {
					panic(r)
				}
				ret = rs.out
			}
		}()
		in.block(sb.body)
	}, true)
	return append(out, ret...)
}
