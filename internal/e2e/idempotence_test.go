package e2e

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/testbed"
)

// hostState is everything a run that changes nothing must leave as it was.
type hostState struct {
	hash, stateDir, persisted string
	armed                     bool
	sessions                  int
}

func (e *env) state(t *testing.T, host string) hostState {
	t.Helper()
	// One lab.Exec for the files: each costs a few hundred milliseconds.
	out := e.sh(t, host, stateDirScript+"; echo '#persisted'; "+persistedScript+"; echo '#armed'; "+armedScript)
	dir, rest, ok1 := strings.Cut(out, "#persisted\n")
	boot, armed, ok2 := strings.Cut(rest, "#armed\n")
	require.True(t, ok1 && ok2, "%s: %q", host, out)
	return hostState{hash: e.hash(t, host), stateDir: dir, persisted: boot,
		armed: strings.TrimSpace(armed) != "", sessions: e.sessions(t, host)}
}

// requireUntouched compares host's state with before. Every command sshd
// ran since must be one of the read-only calls rec saw (a Linux session
// runs one command per Fetch or Foreign), and no call may change anything.
func (e *env) requireUntouched(t *testing.T, host, what string, before hostState, rec *calls) {
	t.Helper()
	after := e.state(t, host)
	assert.Equal(t, before.hash, after.hash, "%s: %s: firewall state byte-identical", host, what)
	assert.Equal(t, before.stateDir, after.stateDir, "%s: %s: nothing staged under /var/lib/fwpush", host, what)
	assert.Equal(t, before.persisted, after.persisted, "%s: %s: boot config untouched", host, what)
	assert.False(t, after.armed, "%s: %s: no revert timer armed", host, what)
	n := rec.get(host)
	reads := n["Fetch"] + n["Foreign"]
	for m, k := range n {
		assert.Contains(t, []string{"Fetch", "Foreign"}, m, "%s: %s: %d call(s) of %s: read-only calls only", host, what, k, m)
	}
	assert.Positive(t, n["Fetch"], "%s: %s", host, what)
	assert.Equal(t, before.sessions+reads, after.sessions, "%s: %s: sshd ran only the %d read-only commands", host, what, reads)
}

// calls counts the session methods a run called, per host.
type calls struct {
	mu sync.Mutex
	n  map[string]map[string]int
}

func (c *calls) add(host, method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]map[string]int{}
	}
	if c.n[host] == nil {
		c.n[host] = map[string]int{}
	}
	c.n[host][method]++
}

func (c *calls) get(host string) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n[host] {
		out[k] = v
	}
	return out
}

// recorded wraps open so every session call is counted in c.
func (c *calls) recorded(open plan.Opener) plan.Opener {
	return func(ctx context.Context, host string) (drivers.Session, error) {
		s, err := open(ctx, host)
		if err != nil {
			return nil, err
		}
		return &recSession{Session: s, host: host, c: c}, nil
	}
}

// recSession counts calls, keeping the optional interfaces plan and apply
// look for.
type recSession struct {
	drivers.Session
	host string
	c    *calls
}

func (s *recSession) Fetch(ctx context.Context) (drivers.Config, error) {
	s.c.add(s.host, "Fetch")
	return s.Session.Fetch(ctx)
}

func (s *recSession) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	s.c.add(s.host, "Apply")
	return s.Session.Apply(ctx, desired, o)
}

func (s *recSession) Confirm(ctx context.Context, t drivers.Trial) error {
	s.c.add(s.host, "Confirm")
	return s.Session.Confirm(ctx, t)
}

func (s *recSession) Rollback(ctx context.Context, to drivers.Config, t drivers.Trial) error {
	s.c.add(s.host, "Rollback")
	return s.Session.Rollback(ctx, to, t)
}

func (s *recSession) Validate(ctx context.Context, desired drivers.Config) error {
	s.c.add(s.host, "Validate")
	v, ok := s.Session.(drivers.Validator)
	if !ok {
		return nil
	}
	return v.Validate(ctx, desired)
}

func (s *recSession) Foreign(ctx context.Context) ([]string, error) {
	f, ok := s.Session.(drivers.ForeignReporter)
	if !ok {
		return nil, nil
	}
	s.c.add(s.host, "Foreign")
	return f.Foreign(ctx)
}

// dryRunThenApply plans e's playbook live, checks the plan touched no host,
// then applies it and checks every device got exactly the diff the plan
// showed (RELIABILITY.md A12). It returns the plan.
func dryRunThenApply(t *testing.T, ctx context.Context, e *env) *plan.Plan {
	t.Helper()
	before := map[string]hostState{}
	for _, h := range e.hostNames() {
		before[h] = e.state(t, h)
	}
	rec := &calls{}
	pl, _, err := plan.Live(ctx, e.p, rec.recorded(e.opener()), eo())
	require.NoError(t, err)
	require.True(t, pl.Changes())
	for _, h := range e.hostNames() {
		e.requireUntouched(t, h, "dry run of "+e.p.Playbook.Name, before[h], rec)
	}
	shown := map[string]string{}
	for _, d := range pl.Devices {
		require.NotNil(t, d.Diff, d.Host)
		shown[d.Host] = d.Diff.Unified
	}
	rep := e.push(t, ctx)
	for _, d := range rep.Devices {
		require.NotNil(t, d.Diff, d.Host)
		assert.Equal(t, shown[d.Host], d.Diff.Unified, "%s: apply applied the diff the dry run showed", d.Host)
	}
	return pl
}

// TestDryRunAndIdempotence proves on one linux-nftables and one
// linux-iptables host: a dry run changes nothing, on fresh and on
// configured hosts, and shows the diff apply then applies (A12); a second
// apply is "unchanged" and sends no config command (A11); swapping two
// overlapping flows is a change that real traffic notices, while swapping
// two disjoint flows is reported as a reorder of the same rules (A11).
func TestDryRunAndIdempotence(t *testing.T) {
	t.Parallel()
	client := testbed.HostSpec{Name: "client", Addrs: []netip.Prefix{
		netip.MustParsePrefix("198.18.30.5/15"), netip.MustParsePrefix("2001:db8:30::5/32")}}
	// The lab's listeners come from overlap-a.yml: tcp/80 and tcp/443.
	e := newRelEnv(t, "overlap-a.yml", []testbed.HostSpec{client})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	base := e.with(t, "baseline.yml")
	dryRunThenApply(t, ctx, base) // fresh hosts

	// A11: the same push again.
	before := map[string]hostState{}
	for _, h := range e.hostNames() {
		before[h] = e.state(t, h)
	}
	rec := &calls{}
	rep, err := apply.Run(ctx, base.p, rec.recorded(base.opener()), apply.Options{ConfirmWithin: okTimer, Engine: eo()})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Summary.Counts[engine.Unchanged])
	for _, d := range rep.Devices {
		assert.Equal(t, apply.Unchanged, d.Outcome, "%s: %s", d.Host, d.Error)
		e.requireUntouched(t, d.Host, "second apply", before[d.Host], rec)
	}

	// A12 on configured hosts; then overlapping flows swapped: clients lose
	// tcp/80 under overlap-a and get it back under overlap-b.
	dryRunThenApply(t, ctx, e)
	web := func(h string, port uint16) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr(e.p.Inv.Hosts[h].Hostname), port)
	}
	for _, h := range e.hostNames() {
		requireProbe(t, e, web(h, 443), true)
		requireProbe(t, e, web(h, 80), false)
	}
	swapped := e.with(t, "overlap-b.yml")
	pl := dryRunThenApply(t, ctx, swapped)
	for _, d := range pl.Devices {
		assert.True(t, d.Diff.Changed, "%s: swapping overlapping flows is a change", d.Host)
		t.Logf("%s: overlapping swap summarized as %+v", d.Host, d.Diff.Summary)
	}
	for _, h := range e.hostNames() {
		requireProbe(t, e, web(h, 80), true)
	}

	// Disjoint flows swapped: a change of order only.
	e.with(t, "disjoint-a.yml").push(t, ctx)
	pl = dryRunThenApply(t, ctx, e.with(t, "disjoint-b.yml"))
	for _, d := range pl.Devices {
		s := d.Diff.Summary
		assert.True(t, s.Reordered, "%s: disjoint swap reported as a reorder: %+v", d.Host, s)
		assert.Empty(t, s.Permitted, d.Host)
		assert.Empty(t, s.Unpermitted, d.Host)
		assert.Empty(t, s.Denied, d.Host)
		assert.Empty(t, s.Undenied, d.Host)
		assert.Empty(t, s.Sets, d.Host)
	}
}

// requireProbe connects from the lab host "client" to addr and requires it
// to connect (open) or to be blocked.
func requireProbe(t *testing.T, e *env, addr netip.AddrPort, open bool) {
	t.Helper()
	wait := 5 * time.Second
	if !open {
		wait = time.Second // a blocked probe lasts its whole deadline
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := e.lab.ProbeTCP(ctx, "client", addr)
	if open {
		require.NoError(t, err, "client -> %s must connect", addr)
	} else {
		require.Error(t, err, "client -> %s must be blocked", addr)
	}
}
