package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// An Ansible inventory is read with Ansible's meaning (ansible-core 2.14;
// ansible_inventory_test.go compares with ansible-inventory --list):
//
//   - groups, their children and hosts, with "all" above every group and
//     "ungrouped" holding the hosts in no other group;
//   - host entries with ranges (web[01:20], db-[a:c]) and ports (host:2222);
//   - variables from the inventory file and from group_vars/ and host_vars/
//     next to it, merged by Ansible's precedence: all's, then each group's
//     from the shallowest to the deepest (then by ansible_group_priority,
//     then by name), then group_vars/all, then each group's group_vars,
//     then the host's own, then host_vars/; a later value replaces an
//     earlier one whole.
//
// Groups are roles, as in a Nornir inventory ("all" and "ungrouped" are
// not). Every merged variable is the host's data (so --limit
// data.ansible_connection=network_cli works, and addresses or acls are read
// as in Nornir's data); the connection comes from ansible_host,
// ansible_port, ansible_user and ansible_password, and the platform from
// fwpush_platform, else ansible_network_os, else ansible_connection winrm
// or psrp (windows), else the one group the host is in whose name is a
// platform (containerlab groups nodes by kind: linux, ceos, …).

// origin is where an Ansible value was written: a line and column of an
// INI file, or a node of a YAML document (so a place inside it can be
// named).
type origin struct {
	file      string
	line, col int
	doc       *yamlsrc.Doc
	path      []any
}

func (o origin) where(rest ...any) (string, int, int) {
	if o.doc != nil {
		line, col := o.doc.Pos(append(append([]any{}, o.path...), rest...)...)
		return o.doc.File, line, col
	}
	return o.file, o.line, o.col
}

type ansVar struct {
	val any
	at  origin
	// rank is the variable's precedence once merged: of two variables
	// naming the same thing (fwpush_platform, ansible_network_os), the
	// higher rank wins.
	rank int
}

type ansGroup struct {
	name     string
	def      origin
	vars     map[string]ansVar
	fileVars map[string]ansVar
	parents  []string
	parentAt []origin
	children []string
	priority int
	depth    int // 0 unknown; all is 1 here, its children 2, …
}

type ansHost struct {
	name     string
	def      origin
	vars     map[string]ansVar
	fileVars map[string]ansVar
	groups   []string
	groupAt  []origin
	// merged are the variables after precedence; fields say which one
	// (or which group) gave hostname, port, username, password, platform.
	merged map[string]ansVar
	fields map[string]ansField
}

type ansField struct {
	name string // the variable, or the group that named the platform
	at   origin
}

// ansInv is an Ansible inventory being read.
type ansInv struct {
	label    string
	groups   map[string]*ansGroup
	gorder   []string
	hosts    map[string]*ansHost
	horder   []string
	errs     []error
	warnings []string
}

func newAnsInv(label string) *ansInv {
	a := &ansInv{label: label, groups: map[string]*ansGroup{}, hosts: map[string]*ansHost{}}
	a.group("all", origin{file: label})
	a.group("ungrouped", origin{file: label})
	a.addChild("all", "ungrouped", origin{file: label})
	return a
}

func (a *ansInv) errorf(at origin, field string, format string, args ...any) {
	file, line, col := at.where()
	a.errs = append(a.errs, &yamlsrc.Error{File: file, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// group returns the group name, creating it (defined at at) if new.
func (a *ansInv) group(name string, at origin) *ansGroup {
	g := a.groups[name]
	if g == nil {
		g = &ansGroup{name: name, def: at, vars: map[string]ansVar{}, fileVars: map[string]ansVar{}, priority: 1}
		a.groups[name] = g
		a.gorder = append(a.gorder, name)
	}
	return g
}

// addChild makes child a child group of parent, refusing a cycle.
func (a *ansInv) addChild(parent, child string, at origin) {
	p, c := a.group(parent, at), a.group(child, at)
	if parent == child || a.descends(parent, child) {
		a.errorf(at, child, "adding group %s as a child of %s creates a cycle", yamlsrc.Quote(child), yamlsrc.Quote(parent))
		return
	}
	for _, x := range p.children {
		if x == child {
			return
		}
	}
	p.children = append(p.children, child)
	c.parents = append(c.parents, parent)
	c.parentAt = append(c.parentAt, at)
}

// descends says whether group g is child or below it.
func (a *ansInv) descends(g, child string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(n string) bool {
		if n == g {
			return true
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		for _, c := range a.groups[n].children {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(child)
}

// addHost adds host name to group (defining it at at when new); port is
// the entry's :port, which only a host's first entry sets, as in Ansible.
func (a *ansInv) addHost(name, group string, port int, at origin) *ansHost {
	h := a.hosts[name]
	if h == nil {
		h = &ansHost{name: name, def: at, vars: map[string]ansVar{}, fileVars: map[string]ansVar{}}
		a.hosts[name] = h
		a.horder = append(a.horder, name)
		if port > 0 {
			h.vars["ansible_port"] = ansVar{val: int64(port), at: at}
		}
	}
	for _, g := range h.groups {
		if g == group {
			return h
		}
	}
	a.group(group, at)
	h.groups = append(h.groups, group)
	h.groupAt = append(h.groupAt, at)
	return h
}

// setGroupVar sets a group's variable; ansible_group_priority sets its
// priority instead, as in Ansible.
func (a *ansInv) setGroupVar(g *ansGroup, k string, v any, at origin) {
	if k == "ansible_group_priority" {
		n, ok := toInt(v)
		if !ok {
			a.errorf(at, g.name+"."+k, "ansible_group_priority: want a whole number, not %s", yamlsrc.Quote(fmt.Sprint(v)))
			return
		}
		g.priority = n
		return
	}
	g.vars[k] = ansVar{val: v, at: at}
}

// reconcile applies Ansible's rules once everything is read: every group
// but all is below all, and a host is in ungrouped exactly when it is in
// no other group.
func (a *ansInv) reconcile() {
	for _, n := range a.gorder {
		if n != "all" && len(a.groups[n].parents) == 0 {
			a.addChild("all", n, a.groups[n].def)
		}
	}
	for _, n := range a.horder {
		h := a.hosts[n]
		var gs []string
		var at []origin
		for i, g := range h.groups {
			if g != "ungrouped" && g != "all" {
				gs, at = append(gs, g), append(at, h.groupAt[i])
			}
		}
		if len(gs) == 0 {
			gs, at = []string{"ungrouped"}, []origin{h.def}
		}
		h.groups, h.groupAt = gs, at
	}
}

// depth is a group's distance below all, by its longest path, which
// orders group variables (Ansible's Group.depth).
func (a *ansInv) depth(name string) int {
	g := a.groups[name]
	if g.depth > 0 {
		return g.depth
	}
	g.depth = 1 // all; also stops a cycle already reported
	for _, p := range g.parents {
		g.depth = max(g.depth, a.depth(p)+1)
	}
	return g.depth
}

// ancestors are the groups host h is in, directly or not, but all,
// sorted as Ansible merges their variables.
func (a *ansInv) ancestors(h *ansHost) []*ansGroup {
	seen := map[string]bool{}
	var out []*ansGroup
	var walk func(string)
	walk = func(n string) {
		if seen[n] || n == "all" {
			return
		}
		seen[n] = true
		out = append(out, a.groups[n])
		for _, p := range a.groups[n].parents {
			walk(p)
		}
	}
	for _, g := range h.groups {
		walk(g)
	}
	sort.Slice(out, func(i, j int) bool {
		di, dj := a.depth(out[i].name), a.depth(out[j].name)
		if di != dj {
			return di < dj
		}
		if out[i].priority != out[j].priority {
			return out[i].priority < out[j].priority
		}
		return out[i].name < out[j].name
	})
	return out
}

// merge computes h's variables by Ansible's precedence.
func (a *ansInv) merge(h *ansHost) map[string]ansVar {
	out := map[string]ansVar{}
	rank := 0
	put := func(m map[string]ansVar) {
		rank++
		for k, v := range m {
			v.rank = rank
			out[k] = v
		}
	}
	groups := a.ancestors(h)
	put(a.groups["all"].vars)
	for _, g := range groups {
		put(g.vars)
	}
	put(a.groups["all"].fileVars)
	for _, g := range groups {
		put(g.fileVars)
	}
	put(h.vars)
	put(h.fileVars)
	return out
}

// readAnsible reads an Ansible inventory file and the group_vars/ and
// host_vars/ beside it.
func readAnsible(f Format, o *options) (*rawInventory, error) {
	a := newAnsInv(f.Path)
	switch f.Kind {
	case AnsibleINI:
		if err := a.readINI(f.Path); err != nil {
			return nil, err
		}
	default:
		if err := a.readYAML(f.doc); err != nil {
			return nil, err
		}
	}
	a.reconcile()
	a.readVarsFiles(f.Dir)
	raw := &rawInventory{label: f.Path, hosts: map[string]rawHost{}, groups: map[string]rawHost{},
		platformHint: "set fwpush_platform or ansible_network_os for the host or a group, such as in group_vars/all.yml"}
	raw.src.hosts = ansHostLoc{a}
	raw.src.groups = ansGroupLoc{a}
	for _, n := range a.horder {
		raw.hosts[n] = a.rawHost(a.hosts[n], o)
	}
	for _, n := range a.gorder {
		if n == "all" || n == "ungrouped" {
			continue
		}
		g := a.groups[n]
		r := rawHost{Data: map[string]any{}}
		for _, p := range g.parents {
			if p != "all" && p != "ungrouped" {
				r.Groups = append(r.Groups, p)
			}
		}
		for _, m := range []map[string]ansVar{g.vars, g.fileVars} {
			for k, v := range m {
				r.Data[k] = v.val
			}
		}
		if len(r.Data) == 0 {
			r.Data = nil
		}
		raw.groups[n] = r
	}
	raw.errs, raw.warnings = a.errs, a.warnings
	if err := raw.readNetworks(f.Dir); err != nil {
		return nil, err
	}
	return raw, nil
}

// Variable names fwpush reads, first one set wins (the ansible_ssh_*
// forms are Ansible's older spellings).
var (
	hostVars     = []string{"ansible_host", "ansible_ssh_host"}
	portVars     = []string{"ansible_port", "ansible_ssh_port"}
	userVars     = []string{"ansible_user", "ansible_ssh_user"}
	passwordVars = []string{"ansible_password", "ansible_ssh_pass", "ansible_ssh_password"}
	platformVars = []string{"fwpush_platform", "ansible_network_os"}
)

// envLookup is the Jinja2 idiom for a secret from the environment, which
// fwpush reads as its own ${NAME}.
var envLookup = regexp.MustCompile(`^\{\{\s*lookup\(\s*['"]env['"]\s*,\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\)\s*\}\}$`)

// rawHost turns a host's merged variables into Nornir's fields.
func (a *ansInv) rawHost(h *ansHost, o *options) rawHost {
	h.merged = a.merge(h)
	h.fields = map[string]ansField{}
	r := rawHost{Data: map[string]any{}}
	for k, v := range h.merged {
		r.Data[k] = v.val
	}
	// pick is the variable of names set at the highest precedence (the
	// first of names on a tie).
	pick := func(field string, names []string) (string, ansVar, bool) {
		best, found := "", false
		for _, n := range names {
			if v, ok := h.merged[n]; ok && (!found || v.rank > h.merged[best].rank) {
				best, found = n, true
			}
		}
		if found {
			h.fields[field] = ansField{name: best, at: h.merged[best].at}
		}
		return best, h.merged[best], found
	}
	str := func(field string, names []string) string {
		n, v, ok := pick(field, names)
		if !ok {
			return ""
		}
		s, isStr := v.val.(string)
		switch {
		case !isStr:
			a.errorf(v.at, h.name+"."+n, "%s: want text, not %s", n, yamlsrc.Quote(fmt.Sprint(v.val)))
			return ""
		case field == "password" && envLookup.MatchString(s):
			return "${" + envLookup.FindStringSubmatch(s)[1] + "}"
		case strings.Contains(s, "{{") || strings.Contains(s, "{%"):
			a.errorf(v.at, h.name+"."+n, "%s is a Jinja2 template, which fwpush does not evaluate: write the value (a secret as ${ENV_VAR})", n)
			return ""
		}
		return s
	}
	r.Hostname = str("hostname", hostVars)
	r.Username = str("username", userVars)
	r.Password = str("password", passwordVars)
	if n, v, ok := pick("port", portVars); ok {
		p, isInt := toInt(v.val)
		if !isInt || p < 1 || p > 65535 {
			a.errorf(v.at, h.name+"."+n, "%s %s: want a port number 1-65535", n, yamlsrc.Quote(fmt.Sprint(v.val)))
		} else {
			r.Port = p
		}
	}
	r.Platform = str("platform", platformVars)
	if r.Platform == "" {
		if v, ok := h.merged["ansible_connection"]; ok && (v.val == "winrm" || v.val == "psrp") {
			// The registry knows the connection by name: a platform alias.
			r.Platform, h.fields["platform"] = v.val.(string), ansField{name: "ansible_connection", at: v.at}
		}
	}
	if r.Platform == "" {
		r.Platform = a.platformFromGroups(h, o)
	}
	for _, g := range h.groups {
		if g != "ungrouped" {
			r.Groups = append(r.Groups, g)
		}
	}
	return r
}

// platformFromGroups is the platform the host's groups name, when exactly
// one does (containerlab puts each node in its kind's group).
func (a *ansInv) platformFromGroups(h *ansHost, o *options) string {
	found := map[string]string{} // platform id → group
	var first string
	for _, g := range a.ancestors(h) {
		if info, ok := o.groupPlatform(g.name); ok {
			if _, dup := found[info.ID]; !dup {
				found[info.ID] = g.name
				if first == "" {
					first = g.name
				}
			}
		}
	}
	switch len(found) {
	case 0:
		return ""
	case 1:
		h.fields["platform"] = ansField{name: "group " + first, at: a.groups[first].def}
		return first
	}
	var names []string
	for _, g := range found {
		names = append(names, g)
	}
	sort.Strings(names)
	a.errorf(h.def, h.name, "host %s is in groups naming different platforms (%s): set fwpush_platform or ansible_network_os", yamlsrc.Quote(h.name), strings.Join(names, ", "))
	return ""
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case uint64:
		return int(n), n < 1<<31
	case int:
		return n, true
	case float64:
		return int(n), n == float64(int(n))
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(n))
		return i, err == nil
	}
	return 0, false
}

// readVarsFiles reads group_vars/ and host_vars/ in dir for every group
// and host, as Ansible's host_group_vars plugin does: NAME, NAME.yml,
// NAME.yaml or NAME.json, the first that exists; a directory NAME/ gives
// every file in it, in name order.
func (a *ansInv) readVarsFiles(dir string) {
	for _, n := range a.gorder {
		g := a.groups[n]
		a.readVars(filepath.Join(dir, "group_vars"), n, g.fileVars)
	}
	for _, n := range a.horder {
		a.readVars(filepath.Join(dir, "host_vars"), n, a.hosts[n].fileVars)
	}
}

func (a *ansInv) readVars(base, name string, into map[string]ansVar) {
	for _, ext := range []string{"", ".yml", ".yaml", ".json"} {
		p := filepath.Join(base, name+ext)
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			for _, f := range varsDirFiles(p) {
				a.readVarsFile(f, into)
			}
		} else {
			a.readVarsFile(p, into)
		}
		return
	}
}

func varsDirFiles(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		ext := filepath.Ext(n)
		switch {
		case e.IsDir() && ext == "":
			out = append(out, varsDirFiles(filepath.Join(dir, n))...)
		case e.Type().IsRegular() && (ext == "" || ext == ".yml" || ext == ".yaml" || ext == ".json"):
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

func (a *ansInv) readVarsFile(path string, into map[string]ansVar) {
	data, err := yamlsrc.ReadFile(path)
	if err != nil {
		a.errs = append(a.errs, fmt.Errorf("inventory: %w", err))
		return
	}
	if strings.HasPrefix(string(data), "$ANSIBLE_VAULT") {
		a.errs = append(a.errs, &yamlsrc.Error{File: path, Line: 1, Col: 1, Msg: "an Ansible Vault file, which fwpush cannot decrypt: keep secrets in the environment and write them as ${ENV_VAR}"})
		return
	}
	doc, err := yamlsrc.Parse(path, data)
	var vars yamlMap
	if err == nil {
		err = doc.DecodeOrdered(&vars.items)
	}
	if err != nil {
		a.errs = append(a.errs, err)
		return
	}
	for _, it := range vars.items {
		k := fmt.Sprint(it.Key)
		into[k] = ansVar{val: plainValue(it.Value), at: origin{doc: doc, path: []any{k}}}
	}
}

// ansHostLoc locates fields of hosts: hostname at the variable that set
// it (ansible_host), data.addresses[1] inside the addresses variable.
type ansHostLoc struct{ a *ansInv }

func (l ansHostLoc) locate(path []any) (origin, []any, string) {
	if len(path) == 0 {
		return origin{file: l.a.label}, nil, ""
	}
	name := fmt.Sprint(path[0])
	h := l.a.hosts[name]
	if h == nil {
		return origin{file: l.a.label}, nil, name
	}
	if len(path) == 1 {
		return h.def, nil, name
	}
	field := fmt.Sprint(path[1])
	switch {
	case field == "groups" && len(path) > 2:
		if i, ok := path[2].(int); ok && i < len(h.groupAt) {
			return h.groupAt[i], nil, name + ".groups"
		}
	case field == "data" && len(path) > 2:
		k := fmt.Sprint(path[2])
		if v, ok := h.merged[k]; ok {
			return v.at, path[3:], yamlsrc.FieldName(append([]any{name, k}, path[3:]...))
		}
	default:
		if f, ok := h.fields[field]; ok {
			return f.at, nil, name + "." + f.name
		}
	}
	return h.def, nil, name
}

func (l ansHostLoc) Errorf(path []any, format string, args ...any) error {
	at, rest, field := l.locate(path)
	file, line, col := at.where(rest...)
	return &yamlsrc.Error{File: file, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (l ansHostLoc) Where(path ...any) (string, int, int) {
	at, rest, _ := l.locate(path)
	return at.where(rest...)
}

// ansGroupLoc locates fields of groups.
type ansGroupLoc struct{ a *ansInv }

func (l ansGroupLoc) locate(path []any) (origin, []any, string) {
	if len(path) == 0 {
		return origin{file: l.a.label}, nil, ""
	}
	name := fmt.Sprint(path[0])
	g := l.a.groups[name]
	if g == nil {
		return origin{file: l.a.label}, nil, name
	}
	if len(path) > 2 && path[1] == "data" {
		k := fmt.Sprint(path[2])
		for _, m := range []map[string]ansVar{g.fileVars, g.vars} {
			if v, ok := m[k]; ok {
				return v.at, path[3:], yamlsrc.FieldName(append([]any{name, k}, path[3:]...))
			}
		}
	}
	if len(path) > 2 && path[1] == "groups" {
		if i, ok := path[2].(int); ok {
			// Groups lists the parents but all; parentAt has all's too.
			j := 0
			for k, p := range g.parents {
				if p == "all" || p == "ungrouped" {
					continue
				}
				if j == i {
					return g.parentAt[k], nil, name
				}
				j++
			}
		}
	}
	return g.def, nil, name
}

func (l ansGroupLoc) Errorf(path []any, format string, args ...any) error {
	at, rest, field := l.locate(path)
	file, line, col := at.where(rest...)
	return &yamlsrc.Error{File: file, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (l ansGroupLoc) Where(path ...any) (string, int, int) {
	at, rest, _ := l.locate(path)
	return at.where(rest...)
}
