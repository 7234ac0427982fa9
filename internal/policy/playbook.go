package policy

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// Any is the built-in endpoint for the whole world (0.0.0.0/0 and ::/0).
const Any = "any"

// Playbook is a parsed, validated communication matrix.
type Playbook struct {
	File        string              `json:"file"`
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	Source      string              `json:"source,omitempty"`
	Options     Options             `json:"options"`
	Push        Push                `json:"push"`
	Roles       map[string]Role     `json:"roles"`
	Services    map[string]*Service `json:"services"`
	Flows       []*Flow             `json:"flows"`
	Doc         *yamlsrc.Doc        `json:"-"`
	// Warnings are what the playbook probably did not mean but fwpush
	// can still compile, each "file:line:col: field: message".
	Warnings []string `json:"warnings,omitempty"`
}

// Options are a playbook's push options.
type Options struct {
	// Egress says which host firewalls also filter their output.
	Egress Egress `json:"egress"`
	// DNS and NTP name the resolvers and time servers every host that
	// filters its output may reach (udp+tcp/53, udp/123), as from/to
	// entries: roles, networks, host:NAME, prefixes.
	DNS []string `json:"dns,omitempty"`
	NTP []string `json:"ntp,omitempty"`
	// LogDrops logs what the default deny drops.
	LogDrops bool `json:"log_drops"`
	// ICMP lists the ICMPv4 types every host accepts.
	ICMP     []int           `json:"icmp"`
	Features map[string]bool `json:"features,omitempty"`
}

// Egress selects the host firewalls that filter their output: every one
// (All), or the hosts of any of Roles. The zero value filters none.
type Egress struct {
	All   bool     `json:"all,omitempty"`
	Roles []string `json:"roles,omitempty"`
}

// On reports whether any host filters its output.
func (e Egress) On() bool { return e.All || len(e.Roles) > 0 }

// Push are the playbook's defaults for how it is pushed; the same-named
// command-line flags override them. Zero values mean fwpush's defaults.
type Push struct {
	// ConfirmTimeout is how long a device waits for the confirm before
	// reverting by itself.
	ConfirmTimeout time.Duration `json:"confirm_timeout,omitempty"`
	// Forks is how many devices are worked on at once.
	Forks int `json:"forks,omitempty"`
	// Canary is how many devices are pushed first, alone.
	Canary int `json:"canary,omitempty"`
	// Serial are Ansible-style wave sizes ("1", "25%"); the last repeats.
	Serial []string `json:"serial,omitempty"`
	// MaxFailPercentage stops the push after a wave in which more than
	// this share of devices failed; nil never stops.
	MaxFailPercentage *float64 `json:"max_fail_percentage,omitempty"`
	// RollbackWaveOnFailure also rolls back the failed wave's confirmed
	// devices.
	RollbackWaveOnFailure bool `json:"rollback_wave_on_failure,omitempty"`
}

// Role is a component of the system; inventory groups fill it.
type Role struct {
	Description string `json:"description,omitempty" yaml:"description"`
}

// Service is a named set of matches.
type Service struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Matches     []Match `json:"matches"`
}

// Flow permits (or denies) new connections from one set of endpoints to
// another.
type Flow struct {
	// ID is the flow's number: its position in the playbook, from 1, as
	// every output names it ("flow 3"); Line is its source line.
	ID       int      `json:"id"`
	Line     int      `json:"line"`
	Name     string   `json:"name,omitempty"`
	From     []string `json:"from"`
	To       []string `json:"to"`
	Services []string `json:"services,omitempty"`
	Matches  []Match  `json:"matches"`
	Why      string   `json:"why"`
	Log      bool     `json:"log,omitempty"`
	Deny     bool     `json:"deny,omitempty"`
	// Reject: a deny that answers (TCP reset, ICMP unreachable) rather
	// than drops; Deny is set too.
	Reject  bool   `json:"reject,omitempty"`
	Feature string `json:"feature,omitempty"`
}

// Path is the YAML path of the flow, or of one of its fields, for
// Doc.Errorf.
func (f *Flow) Path(field ...any) []any {
	return append([]any{"flows", f.ID - 1}, field...)
}

// Label names the flow for people: "flow 3", or "flow 3 (web-to-app)"
// when it has a name.
func (f *Flow) Label() string {
	if f.Name != "" {
		return fmt.Sprintf("flow %d (%s)", f.ID, f.Name)
	}
	return fmt.Sprintf("flow %d", f.ID)
}

// Flow returns the flow numbered id, or nil.
func (pb *Playbook) Flow(id int) *Flow {
	if id < 1 || id > len(pb.Flows) {
		return nil
	}
	return pb.Flows[id-1]
}

// Enabled reports whether the flow's feature (if any) is on.
func (pb *Playbook) Enabled(f *Flow) bool {
	return f.Feature == "" || pb.Options.Features[f.Feature]
}

// DefaultICMP is what every host accepts when a playbook names no ICMP.
var DefaultICMP = []int{0, 3, 8, 11}

type rawPlaybook struct {
	Name        string          `yaml:"name"`
	Description string          `yaml:"description"`
	Source      string          `yaml:"source"`
	Options     rawOptions      `yaml:"options"`
	Push        rawPush         `yaml:"push"`
	Roles       map[string]Role `yaml:"roles"`
	Services    map[string]struct {
		Description string   `yaml:"description"`
		Ports       []string `yaml:"ports"`
	} `yaml:"services"`
	Flows []rawFlow `yaml:"flows"`
}

type rawOptions struct {
	Egress   rawEgress       `yaml:"egress"`
	DNS      StringList      `yaml:"dns"`
	NTP      StringList      `yaml:"ntp"`
	LogDrops bool            `yaml:"log_drops"`
	ICMP     *[]string       `yaml:"icmp"`
	Features map[string]bool `yaml:"features"`
}

type rawPush struct {
	ConfirmTimeout        string     `yaml:"confirm_timeout"`
	Forks                 *int       `yaml:"forks"`
	Canary                int        `yaml:"canary"`
	Serial                StringList `yaml:"serial"`
	MaxFailPercentage     *float64   `yaml:"max_fail_percentage"`
	RollbackWaveOnFailure bool       `yaml:"rollback_wave_on_failure"`
}

// parsePush checks the push section with the same checks as the
// command-line flags (push.go); bad reports each problem at its field.
func parsePush(raw rawPush, bad func(path []any, format string, args ...any)) Push {
	p := Push{Canary: raw.Canary, Serial: raw.Serial,
		MaxFailPercentage: raw.MaxFailPercentage, RollbackWaveOnFailure: raw.RollbackWaveOnFailure}
	at := func(field ...any) []any { return append([]any{"push"}, field...) }
	if raw.ConfirmTimeout != "" {
		d, err := time.ParseDuration(raw.ConfirmTimeout)
		if err != nil {
			bad(at("confirm_timeout"), "confirm_timeout %s: want a duration such as 120s or 5m", yamlsrc.Quote(raw.ConfirmTimeout))
		} else if err := CheckConfirmTimeout("confirm_timeout", d); err != nil {
			bad(at("confirm_timeout"), "%v", err)
		}
		p.ConfirmTimeout = d
	}
	if raw.Forks != nil {
		if err := CheckForks("forks", *raw.Forks); err != nil {
			bad(at("forks"), "%v", err)
		}
		p.Forks = *raw.Forks
	}
	if err := CheckCanary("canary", raw.Canary); err != nil {
		bad(at("canary"), "%v", err)
	}
	for i, s := range raw.Serial {
		if _, err := ParseSerialSize("serial", s); err != nil {
			bad(at("serial", i), "%v", err)
		}
	}
	if m := raw.MaxFailPercentage; m != nil {
		if err := CheckMaxFailPercentage("max_fail_percentage", *m); err != nil {
			bad(at("max_fail_percentage"), "%v", err)
		}
	}
	if err := CheckRollbackWave("rollback_wave_on_failure", "max_fail_percentage", raw.RollbackWaveOnFailure, raw.MaxFailPercentage != nil); err != nil {
		bad(at("rollback_wave_on_failure"), "%v", err)
	}
	return p
}

type rawFlow struct {
	Name     string     `yaml:"name"`
	From     StringList `yaml:"from"`
	To       StringList `yaml:"to"`
	Services StringList `yaml:"services"`
	Service  string     `yaml:"service"`
	Ports    StringList `yaml:"ports"`
	Why      string     `yaml:"why"`
	Log      bool       `yaml:"log"`
	Action   string     `yaml:"action"`
	Feature  string     `yaml:"feature"`
}

// StringList accepts a scalar or a list of scalars in YAML. A nested list
// or map is an error: printed as one string it would become a name nobody
// wrote ("[web db]"), and a nested alias could make that string huge.
type StringList []string

// UnmarshalYAML implements go-yaml's InterfaceUnmarshaler.
func (s *StringList) UnmarshalYAML(unmarshal func(any) error) error {
	var list []any
	if err := unmarshal(&list); err == nil {
		out := make([]string, 0, len(list))
		for i, v := range list {
			if what := notScalar(v); what != "" {
				return listError(unmarshal, i, what)
			}
			out = append(out, fmt.Sprint(v))
		}
		*s = out
		return nil
	}
	var one any
	if err := unmarshal(&one); err != nil {
		return err
	}
	if what := notScalar(one); what != "" && one != nil {
		return listError(unmarshal, -1, what)
	}
	if one != nil {
		*s = []string{fmt.Sprint(one)}
	}
	return nil
}

// notScalar names what v is when it is not a name-like scalar. It asks
// reflect, not a type switch: an alias decodes to whatever Go type its
// anchor was decoded into (a StringList, a map of structs).
func notScalar(v any) string {
	if v == nil {
		return "an empty entry"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		// [host:web-1] in flow style reads as a one-key map {host: web-1}.
		if rv := reflect.ValueOf(v); rv.Len() == 1 && fmt.Sprint(rv.MapKeys()[0].Interface())+":" == HostPrefix {
			return "a map: inside [ ] or { } YAML reads host:NAME as one; quote it ('host:NAME')"
		}
		return "a map"
	case reflect.Struct, reflect.Pointer:
		return "a map"
	}
	return ""
}

// listError locates the bad entry i (-1: the value itself). The node is
// asked for only now: decoding into ast.Node would re-register an anchor
// under the wrong type for later aliases, which no longer matters once
// decoding fails.
func listError(unmarshal func(any) error, i int, what string) error {
	msg := "want a name or a list of names, not " + what
	var n ast.Node
	if err := unmarshal(&n); err != nil || n == nil {
		return errors.New(msg)
	}
	if t, ok := n.(*ast.TagNode); ok {
		n = t.Value
	}
	if seq, ok := n.(*ast.SequenceNode); ok && i >= 0 && i < len(seq.Values) {
		n = seq.Values[i]
		msg = fmt.Sprintf("entry %d: want a name, not %s", i, what)
	}
	return yamlsrc.NodeError(n, "%s", msg)
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ExtensionPrefix starts the keys a playbook may use for its own purposes
// anywhere a mapping is (anchors to merge, notes): fwpush ignores them, as
// docker-compose ignores its x- fields.
const ExtensionPrefix = "x-"

// Load reads and validates the playbook at path.
func Load(path string) (*Playbook, error) {
	data, err := yamlsrc.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("playbook: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a playbook read from file. All problems are
// returned at once, each naming file, line and field.
func Parse(file string, data []byte) (*Playbook, error) {
	doc, err := yamlsrc.Parse(file, data)
	if err != nil {
		return nil, err
	}
	doc.DropExtensions(ExtensionPrefix)
	var raw rawPlaybook
	if err := doc.Decode(&raw); err != nil {
		return nil, err
	}
	pb := &Playbook{File: file, Doc: doc, Name: raw.Name, Description: raw.Description, Source: raw.Source,
		Roles: raw.Roles, Services: map[string]*Service{}}
	if pb.Roles == nil {
		pb.Roles = map[string]Role{}
	}
	var errs []error
	bad := func(path []any, format string, args ...any) {
		errs = append(errs, doc.Errorf(path, format, args...))
	}
	if !nameRE.MatchString(raw.Name) {
		bad([]any{"name"}, "name %s: use lower-case letters, digits and '-'", yamlsrc.Quote(raw.Name))
	}
	pb.Options = Options{LogDrops: raw.Options.LogDrops, Features: raw.Options.Features, ICMP: DefaultICMP}
	pb.Push = parsePush(raw.Push, bad)
	if raw.Options.ICMP != nil {
		pb.Options.ICMP = nil
		for i, s := range *raw.Options.ICMP {
			t, err := ParseICMPType(ICMP, s)
			if err != nil {
				bad([]any{"options", "icmp", i}, "%v", err)
			}
			pb.Options.ICMP = append(pb.Options.ICMP, t)
		}
	}
	for _, name := range sortedKeys(raw.Roles) {
		if !nameRE.MatchString(name) || name == Any || name == Management {
			bad([]any{"roles", name}, "role name %s: use lower-case letters, digits and '-' (and not 'any' or 'management', which are built in)", yamlsrc.Quote(name))
		}
	}
	pb.parseEgress(raw.Options, bad)
	for _, name := range sortedKeys(raw.Options.Features) {
		if !nameRE.MatchString(name) {
			bad([]any{"options", "features", name}, "feature name %s: use lower-case letters, digits and '-'", yamlsrc.Quote(name))
		}
	}
	for _, name := range sortedKeys(raw.Services) {
		s := raw.Services[name]
		if !nameRE.MatchString(name) {
			bad([]any{"services", name}, "service name %s: use lower-case letters, digits and '-'", yamlsrc.Quote(name))
		}
		svc := &Service{Name: name, Description: s.Description}
		if len(s.Ports) == 0 {
			bad([]any{"services", name}, "service %s lists no ports", yamlsrc.Quote(name))
		}
		for i, p := range s.Ports {
			m, err := ParseMatch(p)
			if err != nil {
				bad([]any{"services", name, "ports", i}, "%v", err)
				continue
			}
			svc.Matches = append(svc.Matches, m)
		}
		pb.Services[name] = svc
	}
	if len(raw.Flows) == 0 {
		bad([]any{"flows"}, "no flows")
	}
	names := map[string]*Flow{}
	for i, rf := range raw.Flows {
		f := pb.parseFlow(i, rf, bad)
		if f.Name != "" {
			if prev := names[f.Name]; prev != nil {
				bad(f.Path("name"), "flow name %s is already %s's (line %d): names must be unique", yamlsrc.Quote(f.Name), prev.Label(), prev.Line)
			} else {
				names[f.Name] = f
			}
		}
		pb.Flows = append(pb.Flows, f)
	}
	pb.warnUnused()
	pb.warnEgress()
	if len(errs) > 0 {
		return nil, yamlsrc.Fail(errs, pb.Warnings)
	}
	return pb, nil
}

// warnUnused flags declared services and features no flow uses: usually a
// flow meant to name them and names something else, or nothing.
func (pb *Playbook) warnUnused() {
	usedSvc, usedFeat := map[string]bool{}, map[string]bool{}
	for _, f := range pb.Flows {
		for _, s := range f.Services {
			usedSvc[s] = true
		}
		usedFeat[f.Feature] = true
	}
	for _, name := range sortedKeys(pb.Services) {
		if !usedSvc[name] {
			pb.Warnings = append(pb.Warnings, pb.Doc.Errorf([]any{"services", name}, "service %q is used by no flow", name).Error())
		}
	}
	for _, name := range sortedKeys(pb.Options.Features) {
		if !usedFeat[name] {
			pb.Warnings = append(pb.Warnings, pb.Doc.Errorf([]any{"options", "features", name}, "feature %q gates no flow: switching it changes nothing", name).Error())
		}
	}
}

func (pb *Playbook) parseFlow(i int, rf rawFlow, bad func([]any, string, ...any)) *Flow {
	f := &Flow{ID: i + 1, Name: rf.Name, From: rf.From, To: rf.To, Why: rf.Why, Log: rf.Log, Feature: rf.Feature}
	at := f.Path
	f.Line, _ = pb.Doc.Pos("flows", i)
	if f.Name != "" && !nameRE.MatchString(f.Name) {
		bad(at("name"), "flow name %s: use lower-case letters, digits and '-'", yamlsrc.Quote(f.Name))
	}
	for _, e := range []struct {
		side string
		list []string
	}{{"from", f.From}, {"to", f.To}} {
		side, list := e.side, e.list
		if len(list) == 0 {
			bad(at(side), "flow needs a %s (a role, a network, host:NAME, a prefix, management or any)", side)
		}
		for j, e := range list {
			if _, err := ParseEndpoint(e); err != nil {
				bad(at(side, j), "%v", err)
			}
		}
	}
	if f.Why == "" {
		bad(at(), "flow needs a why: the reason this traffic is allowed")
	}
	switch rf.Action {
	case "", "permit", "allow", "accept":
	case "deny", "drop":
		f.Deny = true
	case "reject":
		f.Deny, f.Reject = true, true
	default:
		bad(at("action"), "action must be permit, deny or reject, not %s", yamlsrc.Quote(rf.Action))
	}
	if f.Feature != "" {
		if _, ok := pb.Options.Features[f.Feature]; !ok {
			bad(at("feature"), "feature %s is not declared in options.features", yamlsrc.Quote(f.Feature))
		}
	}
	services := rf.Services
	if rf.Service != "" {
		services = append(StringList{rf.Service}, services...)
	}
	for j, name := range services {
		svc, ok := pb.Services[name]
		if !ok {
			bad(at("services", j), "unknown service %s", yamlsrc.Quote(name))
			continue
		}
		f.Services = append(f.Services, name)
		f.Matches = append(f.Matches, svc.Matches...)
	}
	for j, p := range rf.Ports {
		m, err := ParseMatch(p)
		if err != nil {
			bad(at("ports", j), "%v", err)
			continue
		}
		f.Matches = append(f.Matches, m)
	}
	if len(services) == 0 && len(rf.Ports) == 0 {
		bad(at(), "flow opens nothing: give services or ports")
	}
	return f
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
