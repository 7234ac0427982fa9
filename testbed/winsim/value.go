package winsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// value is a PowerShell value: nil, bool, int, string, []value (an
// array), *omap (a hashtable), *psObject, time.Time (a DateTime),
// dateTimeOffset, *scriptBlock, *psError, and the few .NET objects scripts
// may hold (mutex, console input).
type value = any

// omap is an ordered map with case-insensitive keys: a hashtable, and the
// property bag of an object.
type omap struct {
	keys []string
	m    map[string]value
}

func newOmap() *omap { return &omap{m: map[string]value{}} }

func (o *omap) get(k string) (value, bool) {
	v, ok := o.m[strings.ToLower(k)]
	return v, ok
}

func (o *omap) set(k string, v value) {
	lk := strings.ToLower(k)
	if _, ok := o.m[lk]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[lk] = v
}

func (o *omap) del(k string) {
	lk := strings.ToLower(k)
	if _, ok := o.m[lk]; !ok {
		return
	}
	delete(o.m, lk)
	for i, key := range o.keys {
		if strings.ToLower(key) == lk {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

// psObject is an object with properties: a PSCustomObject (from
// ConvertFrom-Json), or what a cmdlet returns (a CIM instance), which may
// carry the model item it was read from.
type psObject struct {
	typeName string
	props    *omap
	native   any
}

func newObject(typeName string, kv ...any) *psObject {
	o := &psObject{typeName: typeName, props: newOmap()}
	for i := 0; i+1 < len(kv); i += 2 {
		o.props.set(kv[i].(string), kv[i+1])
	}
	return o
}

type dateTimeOffset struct{ t time.Time }

type mutex struct{ name string }

type consoleIn struct{}

// toString converts as PowerShell's [string] does.
func toString(v value) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case []value:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = toString(e)
		}
		return strings.Join(parts, " ")
	case time.Time:
		return x.Format("1/2/2006 3:04:05 PM")
	case *psError:
		return x.msg
	case *omap:
		return "System.Collections.Hashtable"
	case *psObject:
		if x.typeName == "System.Management.Automation.PSCustomObject" {
			var parts []string
			for _, k := range x.props.keys {
				v, _ := x.props.get(k)
				parts = append(parts, k+"="+toString(v))
			}
			return "@{" + strings.Join(parts, "; ") + "}"
		}
		return x.typeName
	case *scriptBlock:
		return "{scriptblock}"
	}
	return fmt.Sprint(v)
}

// truthy is PowerShell's conversion to bool.
func truthy(v value) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int:
		return x != 0
	case string:
		return x != ""
	case []value:
		switch len(x) {
		case 0:
			return false
		case 1:
			return truthy(x[0])
		}
		return true
	}
	return true
}

// toInt converts as [int] does; ok is false when it cannot.
func toInt(v value) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case nil:
		return 0, true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

// enumerate is what a value puts on a pipeline: an array's elements, or
// the value itself (nothing for $null from a command, one $null from an
// expression).
func enumerate(v value) []value {
	if a, ok := v.([]value); ok {
		return a
	}
	return []value{v}
}

// collect is what assigning a pipeline's output gives: $null, the one
// value, or an array.
func collect(out []value) value {
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return append([]value(nil), out...)
}

// compare returns -1, 0, 1 comparing l to r as PowerShell does, converting
// r to l's type; strings compare case-insensitively.
func compare(l, r value) (int, error) {
	switch x := l.(type) {
	case int:
		n, ok := toInt(r)
		if !ok {
			return 0, winErr("Cannot convert value %q to type \"System.Int32\".", toString(r))
		}
		switch {
		case x < n:
			return -1, nil
		case x > n:
			return 1, nil
		}
		return 0, nil
	case time.Time:
		y, ok := r.(time.Time)
		if !ok {
			return 0, winErr("Cannot convert value %q to type \"System.DateTime\".", toString(r))
		}
		return x.Compare(y), nil
	case nil:
		if r == nil {
			return 0, nil
		}
		return -1, nil
	case bool:
		if x == truthy(r) {
			return 0, nil
		}
		if !x {
			return -1, nil
		}
		return 1, nil
	}
	return strings.Compare(strings.ToLower(toString(l)), strings.ToLower(toString(r))), nil
}

// like is -like: * and ? wildcards, case-insensitive.
func like(s, pattern string) bool {
	s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	var match func(s, p string) bool
	match = func(s, p string) bool {
		for len(p) > 0 {
			switch p[0] {
			case '*':
				for i := 0; i <= len(s); i++ {
					if match(s[i:], p[1:]) {
						return true
					}
				}
				return false
			case '?':
				if len(s) == 0 {
					return false
				}
			default:
				if len(s) == 0 || s[0] != p[0] {
					return false
				}
			}
			s, p = s[1:], p[1:]
		}
		return len(s) == 0
	}
	return match(s, pattern)
}

// winErr is an error carrying Windows' own message, capitals and final
// period included.
func winErr(format string, args ...any) error {
	return windowsMessage(fmt.Sprintf(format, args...))
}

type windowsMessage string

func (m windowsMessage) Error() string { return string(m) }
