package windows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
)

// Session is one connection to a Windows host.
type Session struct {
	host string
	r    runner
	// last is what the last Fetch read, and when: Apply snapshots on the
	// device itself, but DeviceLock and Foreign answer from it.
	last   *fetched
	lastAt time.Time
}

// fresh is how recent a Fetch the lock and foreign reports reuse.
const fresh = 5 * time.Second

// runID is what a run id must look like to name a trial's task and files.
var runID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)

// fetched is the fetch program's answer.
type fetched struct {
	Rules    []deviceRule   `json:"rules"`
	Lock     *holder        `json:"lock"`
	Profiles []profileState `json:"profiles"`
	Blocking []string       `json:"blocking"`
}

// deviceRule is a rule as the programs exchange it: Windows' own words.
type deviceRule struct {
	Name          string   `json:"name,omitempty"`
	ID            string   `json:"id"`
	Display       string   `json:"display"`
	Description   string   `json:"description"`
	Direction     string   `json:"direction"`
	Action        string   `json:"action"`
	Enabled       string   `json:"enabled"`
	Profile       string   `json:"profile"`
	Protocol      string   `json:"protocol"`
	LocalPort     []string `json:"localPort"`
	RemotePort    []string `json:"remotePort"`
	IcmpType      []string `json:"icmpType"`
	LocalAddress  []string `json:"localAddress"`
	RemoteAddress []string `json:"remoteAddress"`
}

type profileState struct {
	Name    string `json:"name"`
	Enabled string `json:"enabled"`
	Inbound string `json:"inbound"`
}

// holder is the lock file: the trial holding the host and its deadline
// (Unix seconds, 0 for a push without revert).
type holder struct {
	Run        string `json:"run"`
	Controller string `json:"controller"`
	User       string `json:"user"`
	Since      string `json:"since"`
	Deadline   int64  `json:"deadline"`
}

func (h *holder) trial() *drivers.Trial {
	if h == nil {
		return nil
	}
	t := drivers.Trial{Run: h.Run, Controller: h.Controller, User: h.User}
	t.Since, _ = time.Parse(time.RFC3339, h.Since)
	return &t
}

// canonical turns a device rule into canonical form.
func (d deviceRule) canonical() (rule, error) {
	noAny := func(ss []string) []string {
		var out []string
		for _, s := range ss {
			if !strings.EqualFold(s, "any") {
				out = append(out, s)
			}
		}
		return out
	}
	r := rule{ID: d.ID, DisplayName: d.Display, Description: d.Description, Direction: strings.ToLower(d.Direction),
		Action: strings.ToLower(d.Action), Protocol: strings.ToLower(d.Protocol), Enabled: strings.EqualFold(d.Enabled, "true"),
		Profile: d.Profile, LocalPort: noAny(d.LocalPort), RemotePort: noAny(d.RemotePort), IcmpType: noAny(d.IcmpType)}
	if strings.EqualFold(r.Profile, "any") || r.Profile == "" {
		r.Profile = "any"
	}
	sortPorts(r.LocalPort)
	sortPorts(r.RemotePort)
	var err error
	if r.LocalAddress, err = parsePrefixes(noAny(d.LocalAddress)); err != nil {
		return r, fmt.Errorf("rule %s: local address: %w", d.Name, err)
	}
	if r.RemoteAddress, err = parsePrefixes(noAny(d.RemoteAddress)); err != nil {
		return r, fmt.Errorf("rule %s: remote address: %w", d.Name, err)
	}
	return r, nil
}

// deviceRules turns canonical rules into what the install step takes.
func deviceRules(rs []rule) []deviceRule {
	out := make([]deviceRule, 0, len(rs))
	title := func(s string) string {
		switch s {
		case "icmpv4":
			return "ICMPv4"
		case "icmpv6":
			return "ICMPv6"
		case "tcp", "udp":
			return strings.ToUpper(s)
		case "any":
			return "Any"
		}
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	}
	for _, r := range rs {
		enabled, profile := "True", r.Profile
		if !r.Enabled {
			enabled = "False"
		}
		if profile == "any" {
			profile = "Any"
		}
		out = append(out, deviceRule{ID: r.ID, Display: r.DisplayName, Description: r.Description, Direction: title(r.Direction),
			Action: title(r.Action), Enabled: enabled, Profile: profile, Protocol: title(r.Protocol),
			LocalPort: nonNil(r.LocalPort), RemotePort: nonNil(r.RemotePort), IcmpType: nonNil(r.IcmpType),
			LocalAddress: nonNil(prefixStrings(r.LocalAddress)), RemoteAddress: nonNil(prefixStrings(r.RemoteAddress))})
	}
	return out
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// Fetch returns the group's rules in canonical form, with the lock and
// what outside the group can block, in one round trip.
func (s *Session) Fetch(ctx context.Context) (drivers.Config, error) {
	s.last = nil
	out, stderr, code, err := invoke(ctx, s.r, fetchPS, struct{}{})
	if err != nil {
		return drivers.Config{}, err
	}
	if code != 0 {
		return drivers.Config{}, fmt.Errorf("exit %d: %s", code, firstOf(stderr, out))
	}
	var f fetched
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		return drivers.Config{}, fmt.Errorf("reading the rules: %w", err)
	}
	var rules []rule
	for _, d := range f.Rules {
		r, err := d.canonical()
		if err != nil {
			return drivers.Config{}, err
		}
		rules = append(rules, r)
	}
	s.last, s.lastAt = &f, time.Now()
	if len(rules) == 0 {
		return config(""), nil // the group does not exist yet
	}
	return config(text(rules, nil)), nil
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return "(no output)"
}

// DeviceLock returns the trial holding the host, or nil.
func (s *Session) DeviceLock(ctx context.Context) (*drivers.Trial, error) {
	if s.last != nil && time.Since(s.lastAt) < fresh {
		return s.last.Lock.trial(), nil
	}
	out, stderr, code, err := invoke(ctx, s.r, lockReadPS, struct{}{})
	if err == nil && code != 0 {
		err = fmt.Errorf("exit %d: %s", code, firstOf(stderr, out))
	}
	if err != nil {
		return nil, err
	}
	var l struct {
		Lock *holder `json:"lock"`
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		return nil, err
	}
	return l.Lock.trial(), nil
}

// Foreign names what outside the group can stop what the policy permits:
// a profile whose firewall is off or admits by default (then the policy's
// default deny does not hold), and enabled inbound Block rules, which win
// over every Allow rule.
func (s *Session) Foreign(ctx context.Context) ([]string, error) {
	if s.last == nil || time.Since(s.lastAt) >= fresh {
		if _, err := s.Fetch(ctx); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, p := range s.last.Profiles {
		switch {
		case !strings.EqualFold(p.Enabled, "true"):
			out = append(out, fmt.Sprintf("firewall profile %s is off: nothing fwpush denies is blocked while it is active", p.Name))
		case strings.EqualFold(p.Inbound, "allow"):
			out = append(out, fmt.Sprintf("firewall profile %s allows inbound by default: the policy's default deny does not hold while it is active", p.Name))
		}
	}
	for _, b := range s.last.Blocking {
		out = append(out, "inbound block rule "+b+" wins over fwpush's allow rules for what it matches")
	}
	return out, nil
}

// Origin is the address the host sees fwpush's connection come from.
func (s *Session) Origin(ctx context.Context) (netip.Addr, error) {
	a, err := s.r.origin(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	return a, nil
}

func newGen() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// rulesOf reads a config (a render, or a fetch) back into rules.
func rulesOf(c drivers.Config) ([]rule, error) {
	return parseText(c.Part(PartName))
}

// Apply saves the group's rules on the host, takes the trial lock,
// registers the revert task (when asked to confirm), then creates the new
// rules and removes the old ones, in one program.
func (s *Session) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	s.last = nil
	if !runID.MatchString(o.Trial.Run) {
		return drivers.Armed{}, fmt.Errorf("trial %q: not a run id: %w", o.Trial.Run, fault.ErrNotApplied)
	}
	want, err := rulesOf(desired)
	if err != nil {
		return drivers.Armed{}, fmt.Errorf("%w: %w", err, fault.ErrNotApplied)
	}
	within := int64((o.ConfirmWithin + time.Second - 1) / time.Second)
	data := map[string]any{
		"run": o.Trial.Run, "within": within, "gen": newGen(), "revertGen": newGen(), "revert": revertPS,
		"rules": deviceRules(want),
		"holder": holder{Run: o.Trial.Run, Controller: oneLine(o.Trial.Controller), User: oneLine(o.Trial.User),
			Since: o.Trial.Since.UTC().Format(time.RFC3339)},
	}
	// The task counts whole seconds from when the program runs, after now:
	// the deadline computed here is never later than the host's.
	armed := drivers.ArmedFor(o.ConfirmWithin, time.Second, time.Now())
	out, stderr, code, err := invoke(ctx, s.r, applyPS, data)
	if err != nil {
		return armed, fmt.Errorf("%w: %w", err, fault.ErrIndeterminate)
	}
	switch code {
	case 0:
		return armed, nil
	case exitLocked:
		var h holder
		_ = json.Unmarshal([]byte(out), &h)
		return drivers.Armed{}, &drivers.LockedError{Holder: *h.trial()}
	case exitMutex:
		return drivers.Armed{}, fmt.Errorf("trial lock: another fwpush program held the host's mutex for 30 s: %w", fault.ErrNotApplied)
	case exitRejected:
		return drivers.Armed{}, fmt.Errorf("refused by Windows: %s: %w", out, fault.ErrRejected)
	case exitArm:
		return drivers.Armed{}, fmt.Errorf("arm revert task: %s: %w", out, fault.ErrNotApplied)
	}
	return armed, fmt.Errorf("exit %d: %s: %w", code, firstOf(out, stderr), fault.ErrIndeterminate)
}

// oneLine keeps a holder field one line of printable text.
func oneLine(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, v)
	if len(v) > 200 {
		v = v[:200]
	}
	return v
}

// Confirm removes the trial's revert task and releases the lock, for its
// own trial only. The rules persist by themselves: Windows keeps firewall
// rules across reboots.
func (s *Session) Confirm(ctx context.Context, t drivers.Trial) error {
	if !runID.MatchString(t.Run) {
		return fmt.Errorf("trial %q: not a run id", t.Run)
	}
	out, stderr, code, err := invoke(ctx, s.r, confirmPS, map[string]any{"run": t.Run})
	if err != nil {
		return err
	}
	switch code {
	case 0:
		return nil
	case exitNothingArmed:
		return fmt.Errorf("no revert task armed for this trial: the change was already reverted or never armed")
	case exitLocked:
		var h holder
		_ = json.Unmarshal([]byte(out), &h)
		return &drivers.LockedError{Holder: *h.trial()}
	}
	return fmt.Errorf("exit %d: %s", code, firstOf(out, stderr))
}

// Rollback ends trial t by making to the group's rules (made before broken
// too), stopping the trial's task and releasing its lock. It refuses while
// another live trial holds the host.
func (s *Session) Rollback(ctx context.Context, to drivers.Config, t drivers.Trial) error {
	s.last = nil
	if !runID.MatchString(t.Run) {
		return fmt.Errorf("trial %q: not a run id: %w", t.Run, fault.ErrNotApplied)
	}
	want, err := rulesOf(to)
	if err != nil {
		return fmt.Errorf("%w: %w", err, fault.ErrNotApplied)
	}
	out, stderr, code, err := invoke(ctx, s.r, rollbackPS, map[string]any{"run": t.Run, "gen": newGen(), "rules": deviceRules(want)})
	if err != nil {
		return err
	}
	switch code {
	case 0:
		return nil
	case exitLocked:
		var h holder
		_ = json.Unmarshal([]byte(out), &h)
		return &drivers.LockedError{Holder: *h.trial()}
	case exitRejected:
		return fmt.Errorf("refused by Windows: %s: %w", out, fault.ErrRejected)
	}
	return fmt.Errorf("exit %d: %s", code, firstOf(out, stderr))
}

// Close closes the connection.
func (s *Session) Close() error { return s.r.Close() }
