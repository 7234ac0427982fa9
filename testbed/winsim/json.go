package winsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// toJSON is ConvertTo-Json: hashtables and objects become JSON objects
// (hashtable keys sorted: a real hashtable has no order, so nothing may
// depend on it), arrays arrays, DateTimes the "\/Date(ms)\/" form Windows
// PowerShell 5.1 writes; past depth the value is its string form, as
// PowerShell truncates.
func toJSON(v value, depth int, compress bool) (string, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v, depth); err != nil {
		return "", err
	}
	if compress {
		return b.String(), nil
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "    "); err != nil {
		return "", err
	}
	return out.String(), nil
}

func writeJSON(b *bytes.Buffer, v value, depth int) error {
	str := func(s string) {
		enc, _ := json.Marshal(s)
		b.Write(enc)
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case string:
		str(x)
	case time.Time:
		str(fmt.Sprintf("/Date(%d)/", x.UnixMilli()))
	case []value:
		if depth < 0 {
			str(toString(x))
			return nil
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, e, depth-1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *omap, *psObject:
		var m *omap
		var keys []string
		if h, ok := x.(*omap); ok {
			m = h
			keys = append([]string(nil), h.keys...)
			sort.Strings(keys)
		} else {
			m = x.(*psObject).props
			keys = m.keys
		}
		if depth < 0 {
			str(toString(v))
			return nil
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			str(k)
			b.WriteByte(':')
			e, _ := m.get(k)
			if err := writeJSON(b, e, depth-1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		str(toString(v))
	}
	return nil
}

// fromJSON is ConvertFrom-Json: objects become PSCustomObjects, numbers
// integers (the driver sends no others).
func fromJSON(s string) (value, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, winErr("Invalid JSON primitive after the first value.")
	}
	var conv func(any) (value, error)
	conv = func(r any) (value, error) {
		switch x := r.(type) {
		case nil, bool, string:
			return x, nil
		case json.Number:
			n, err := strconv.Atoi(x.String())
			if err != nil {
				return nil, winErr("fwpush lab simulator (winsim): only integer JSON numbers are modelled, not %s", x)
			}
			return n, nil
		case []any:
			out := make([]value, len(x))
			for i, e := range x {
				v, err := conv(e)
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		case map[string]any:
			o := &psObject{typeName: "System.Management.Automation.PSCustomObject", props: newOmap()}
			// encoding/json loses key order; JSON objects from fwpush are
			// read by property name only.
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v, err := conv(x[k])
				if err != nil {
					return nil, err
				}
				o.props.set(k, v)
			}
			return o, nil
		}
		return nil, winErr("unexpected JSON value %T", r)
	}
	return conv(raw)
}
