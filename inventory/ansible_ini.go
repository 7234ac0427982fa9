package inventory

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

var (
	// iniSection is [group] or [group:hosts|vars|children], a comment
	// allowed after it.
	iniSection = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)
	// iniGroupName is a line of a [group:children] section.
	iniGroupName = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

// pendingINI is a group named before it is defined: as a child, or by
// its vars section.
type pendingINI struct {
	state   string
	at      origin
	parents []string
}

// readINI reads an Ansible INI inventory: lines of hosts ("name
// key=value …") under [group] sections, [group:vars] of key=value lines
// and [group:children] of group names. Values are Python literals when
// they are one (iniValue). Hosts before any section are ungrouped.
func (a *ansInv) readINI(path string) error {
	data, err := yamlsrc.ReadFile(path)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	a.parseINI(path, data)
	return nil
}

// parseINI reads the INI inventory data (the file path names it).
func (a *ansInv) parseINI(path string, data []byte) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	group, state := "ungrouped", "hosts"
	pending := map[string]*pendingINI{}
	var pendingOrder []string
	for i, raw := range strings.Split(string(data), "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		line := strings.TrimSpace(raw)
		indent := strings.Index(raw, line)
		at := origin{file: path, line: i + 1, col: indent + 1}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if m := iniSection.FindStringSubmatch(line); m != nil {
			group, state = m[1], m[2]
			if state == "" {
				state = "hosts"
			}
			if state != "hosts" && state != "children" && state != "vars" {
				a.errorf(at, "", "section [%s:%s] has an unknown type: want hosts, children or vars", group, state)
				state = "skip"
				continue
			}
			if _, ok := a.groups[group]; !ok {
				if state == "vars" && pending[group] == nil {
					pending[group] = &pendingINI{state: "vars", at: at}
					pendingOrder = append(pendingOrder, group)
				}
				a.group(group, at)
			}
			if p := pending[group]; p != nil && state != "vars" {
				if p.state == "children" {
					a.addPendingChildren(group, pending)
				} else {
					delete(pending, group)
				}
			}
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			a.errorf(at, "", "invalid section %s: no spaces or other characters may stand in a section's brackets", yamlsrc.Quote(line))
			continue
		}
		switch state {
		case "hosts":
			a.iniHosts(line, at, indent, group)
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				a.errorf(at, group, "want key=value in [%s:vars], not %s", group, yamlsrc.Quote(line))
				continue
			}
			a.setGroupVar(a.groups[group], strings.TrimSpace(k), iniValue(strings.TrimSpace(v)), at)
		case "children":
			m := iniGroupName.FindStringSubmatch(line)
			if m == nil {
				a.errorf(at, group, "want a group name in [%s:children], not %s", group, yamlsrc.Quote(line))
				continue
			}
			child := m[1]
			if _, ok := a.groups[child]; !ok {
				p := pending[child]
				if p == nil {
					p = &pendingINI{state: "children", at: at}
					pending[child] = p
					pendingOrder = append(pendingOrder, child)
				}
				p.parents = append(p.parents, group)
			} else {
				a.addChild(group, child, at)
			}
		}
	}
	for _, g := range pendingOrder {
		p := pending[g]
		if p == nil {
			continue
		}
		if p.state == "vars" {
			a.errorf(p.at, g, "section [%s:vars] is for a group that is never defined", g)
		} else {
			a.errorf(p.at, g, "section [%s:children] names group %s, which is never defined", p.parents[len(p.parents)-1], yamlsrc.Quote(g))
		}
	}
}

// addPendingChildren links group, now defined, below the parents that
// named it before, and so on up.
func (a *ansInv) addPendingChildren(group string, pending map[string]*pendingINI) {
	p := pending[group]
	delete(pending, group)
	for _, parent := range p.parents {
		a.addChild(parent, group, p.at)
		if pp := pending[parent]; pp != nil && pp.state == "children" {
			a.addPendingChildren(parent, pending)
		}
	}
}

// iniHosts reads a host line: a host entry (with ranges, :port) and
// key=value variables, split as a POSIX shell would, '#' starting a
// comment.
func (a *ansInv) iniHosts(line string, at origin, indent int, group string) {
	toks, err := shellSplit(line)
	if err != nil {
		a.errorf(at, "", "host line %s: %v", yamlsrc.Quote(line), err)
		return
	}
	if len(toks) == 0 {
		return
	}
	entry := toks[0].text
	names, port, err := expandHostPattern(entry)
	switch {
	case err != nil:
		a.errorf(at, "", "%v", err)
		return
	case strings.HasSuffix(strings.TrimSpace(entry), ":") && port == 0:
		a.errorf(at, "", "host %s ends in ':', which is for a port", yamlsrc.Quote(entry))
		return
	case len(names) == 1 && names[0] == "---":
		a.errorf(at, "", "'---' starts a YAML document: name the file .yml or .yaml")
		return
	}
	type kv struct {
		k  string
		v  any
		at origin
	}
	var vars []kv
	for _, t := range toks[1:] {
		k, v, ok := strings.Cut(t.text, "=")
		vat := origin{file: at.file, line: at.line, col: indent + t.off + 1}
		if !ok {
			a.errorf(vat, "", "want key=value after the host, not %s", yamlsrc.Quote(t.text))
			return
		}
		vars = append(vars, kv{k, iniValue(v), vat})
	}
	for _, n := range names {
		h := a.addHost(n, group, port, at)
		for _, x := range vars {
			h.vars[x.k] = ansVar{val: x.v, at: x.at}
		}
	}
}

type shellToken struct {
	text string
	off  int
}

// shellSplit splits a line as Python's shlex.split(line, comments=True)
// does: at blanks, with '…' and "…" quoting and backslash escapes, and a
// '#' outside quotes ending the line. Each token keeps its byte offset.
func shellSplit(s string) ([]shellToken, error) {
	var out []shellToken
	var cur strings.Builder
	in, start := false, 0
	begin := func(i int) {
		if !in {
			in, start = true, i
		}
	}
	flush := func() {
		if in {
			out = append(out, shellToken{text: cur.String(), off: start})
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case ' ', '\t', '\r', '\n':
			flush()
			i += size
		case '#':
			flush()
			return out, nil
		case '\'':
			begin(i)
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("no closing quotation")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case '"':
			begin(i)
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("no closing quotation")
				}
				c := s[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					c = s[i+1]
					i++
				}
				cur.WriteByte(c)
				i++
			}
		case '\\':
			begin(i)
			if i+1 >= len(s) {
				return nil, fmt.Errorf("no escaped character")
			}
			r2, size2 := utf8.DecodeRuneInString(s[i+1:])
			cur.WriteRune(r2)
			i += 1 + size2
		default:
			begin(i)
			cur.WriteRune(r)
			i += size
		}
	}
	flush()
	return out, nil
}
