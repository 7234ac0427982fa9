package driverstest

import (
	"context"
	"errors"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/compile"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/intent"
	"github.com/fwpush/fwpush/internal/project"
)

var update = flag.Bool("update", false, "rewrite testdata/render/*.golden from the current renderer")

// Suite describes one driver to Conformance.
type Suite struct {
	// Platform is the driver as registered.
	Platform drivers.Platform
	// Registry compiles the example systems (the repository's playbooks
	// over inventory/examples, and Systems); it holds every platform
	// they use.
	Registry *drivers.Registry
	// Root is the repository root, relative to the test's directory.
	Root string
	// Systems are extra playbook+inventory pairs (paths relative to the
	// test's directory) rendered as goldens, such as a router variant of
	// a seed system; their names label the goldens.
	Systems []System
	// Extra are hand-made Intents rendered as goldens too: the edge
	// cases the seeds do not reach.
	Extra map[string]*intent.Intent
	// Device starts a device of the platform (real, or a labelled
	// simulator) for the session checks. Every driver has one: a driver
	// that cannot be exercised is not done.
	Device func(t *testing.T) Target
	// Load, when set, loads a render into a real device or kernel and
	// checks it is accepted and listed back as rendered. It runs for the
	// render of every host of every system (whatever its platform: an
	// Intent is vendor-neutral) and of every Extra Intent, in turn, so
	// each load must replace the previous one.
	Load func(t *testing.T, c drivers.Config)
}

// System is a playbook over an inventory.
type System struct{ Name, Playbook, Inventory string }

// Target is a device of the platform the session checks drive.
type Target struct {
	// Open opens a new session (a new connection) to the device.
	Open func(ctx context.Context) (drivers.Session, error)
	// A and B are two different policies for the device, both keeping
	// the test's own management access.
	A, B *intent.Intent
	// Foreign, when set, adds config fwpush does not own on the device
	// and returns a check that it is still there, unchanged.
	Foreign func(t *testing.T) (intact func() bool)
	// Expire lets the device's revert timer run out: it advances a
	// simulator's clock, or waits for a real device. armed is what the
	// device armed.
	Expire func(t *testing.T, armed drivers.Armed)
}

// Conformance runs the checks every driver must pass: render goldens and
// determinism, reading a render back, and, against a device, the trial
// contract: apply, confirm over a new session, idempotence, revert at the
// armed deadline, rollback, the device lock between two trials, and
// foreign config left alone.
func Conformance(t *testing.T, s Suite) {
	t.Run("render", func(t *testing.T) { testRender(t, s) })
	if s.Load != nil {
		t.Run("load", func(t *testing.T) { testLoad(t, s) })
	}
	t.Run("device", func(t *testing.T) {
		require.NotNil(t, s.Device, "%s: no device to run the session checks against", s.Platform.ID)
		testDevice(t, s, s.Device(t))
	})
}

// ConformanceDevice runs only the device checks: for a second device of a
// driver whose renders Conformance already checked (another dialect,
// another transport).
func ConformanceDevice(t *testing.T, s Suite) {
	require.NotNil(t, s.Device, "%s: no device to run the session checks against", s.Platform.ID)
	testDevice(t, s, s.Device(t))
}

// renderCase is one Intent kept as a golden file.
type renderCase struct {
	name string
	in   *intent.Intent
}

// systems are the playbook+inventory pairs the suite renders: the
// repository's examples and seeds, and the suite's own.
func (s Suite) systems(t *testing.T) []System {
	t.Helper()
	systems := append([]System{{"webapp", filepath.Join(s.Root, "playbooks/examples/webapp.yml"), filepath.Join(s.Root, "inventory/examples/webapp")}}, s.Systems...)
	files, err := filepath.Glob(filepath.Join(s.Root, "playbooks/*.yml"))
	require.NoError(t, err)
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yml")
		inv := filepath.Join(s.Root, "inventory/examples", name)
		if st, err := os.Stat(inv); err == nil && st.IsDir() {
			systems = append(systems, System{name, f, inv})
		}
	}
	return systems
}

func (s Suite) load(t *testing.T, sys System) *project.Project {
	t.Helper()
	p, err := project.Load(project.Options{Inventory: sys.Inventory, Playbook: sys.Playbook, Registry: s.Registry})
	require.NoError(t, err, sys.Name)
	return p
}

func (s Suite) cases(t *testing.T) []renderCase {
	t.Helper()
	var out []renderCase
	for _, sys := range s.systems(t) {
		p := s.load(t, sys)
		h := goldenHost(p, s.Platform.ID)
		if h == "" {
			continue // the system has no host this platform can render
		}
		out = append(out, renderCase{sys.Name + "-" + h, p.Intents[h]})
	}
	names := make([]string, 0, len(s.Extra))
	for n := range s.Extra {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, renderCase{n, s.Extra[n]})
	}
	return out
}

// goldenHost picks the host whose render is kept: the first of the
// platform, else the first whose Intent the platform can express (a
// render is a pure function of the Intent).
func goldenHost(p *project.Project, platform string) string {
	names := p.Inv.Names()
	for _, n := range names {
		if p.Inv.Hosts[n].Platform == platform {
			return n
		}
	}
	return ""
}

// testLoad loads every host's render of every system, then every Extra
// Intent's, into the suite's Load.
func testLoad(t *testing.T, s Suite) {
	n := 0
	for _, sys := range s.systems(t) {
		p := s.load(t, sys)
		for _, name := range p.Inv.Names() {
			in := p.Intents[name]
			if err := compile.CheckCapabilities(in, s.Platform.Driver.Capabilities(), p.Playbook); err != nil {
				continue // a host of another kind (a router for a host firewall)
			}
			t.Run(sys.Name+"/"+name, func(t *testing.T) {
				c, err := s.Platform.Driver.Render(in)
				require.NoError(t, err)
				s.Load(t, c)
			})
			n++
		}
	}
	require.Positive(t, n, "no host the platform can render")
	for name, in := range s.Extra {
		t.Run(name, func(t *testing.T) {
			c, err := s.Platform.Driver.Render(in)
			require.NoError(t, err)
			s.Load(t, c)
		})
	}
}

func testRender(t *testing.T, s Suite) {
	d := s.Platform.Driver
	keep := map[string]bool{}
	for _, c := range s.cases(t) {
		file := filepath.Join("testdata", "render", c.name+".golden")
		keep[file] = true
		t.Run(c.name, func(t *testing.T) {
			cfg, err := d.Render(c.in)
			require.NoError(t, err)
			assert.Equal(t, s.Platform.ID, cfg.Platform, "a render names its platform")
			got := cfg.String()
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
				require.NoError(t, os.WriteFile(file, []byte(got), 0o644))
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err, "run go test -update to create %s", file)
			if df := cmp.Diff(string(want), got); df != "" {
				t.Errorf("render differs from %s (-want +got):\n%s", file, df)
			}
			deterministic(t, d, c.in, got)
			if p, ok := d.(drivers.Parser); ok {
				rs, err := p.Parse(cfg)
				require.NoError(t, err, "the driver reads its own render back")
				permits := 0
				for _, r := range rs.Rules {
					if r.Action == drivers.PermitAction {
						permits++
					}
				}
				assert.Positive(t, permits, "a render always permits management, so reading it back finds a permit")
			}
		})
	}
	stale, err := filepath.Glob(filepath.Join("testdata", "render", "*.golden"))
	require.NoError(t, err)
	for _, f := range stale {
		if !keep[f] {
			if *update {
				require.NoError(t, os.Remove(f))
			} else {
				t.Errorf("%s belongs to no case: run -update to remove it", f)
			}
		}
	}
}

// deterministic renders again, and with every set and its prefixes
// shuffled: the bytes never change.
func deterministic(t *testing.T, d drivers.Driver, in *intent.Intent, want string) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	c := *in
	c.Sets = append([]*intent.AddrSet(nil), in.Sets...)
	for i := 0; i < 3; i++ {
		rng.Shuffle(len(c.Sets), func(a, b int) { c.Sets[a], c.Sets[b] = c.Sets[b], c.Sets[a] })
		for j, set := range c.Sets {
			cp := *set
			cp.Prefixes = append(cp.Prefixes[:0:0], set.Prefixes...)
			rng.Shuffle(len(cp.Prefixes), func(a, b int) { cp.Prefixes[a], cp.Prefixes[b] = cp.Prefixes[b], cp.Prefixes[a] })
			c.Sets[j] = &cp
		}
		again, err := d.Render(&c)
		require.NoError(t, err)
		require.Equal(t, want, again.String(), "render depends on the order of sets or prefixes")
	}
}

// trial makes a distinct trial for each step.
func trial(name string) drivers.Trial {
	return drivers.Trial{Run: "conformance-" + name, Controller: "driverstest", User: "test", Since: time.Now().UTC().Truncate(time.Second)}
}

func testDevice(t *testing.T, s Suite, dev Target) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d := s.Platform.Driver
	caps := d.Capabilities()
	render := func(in *intent.Intent) drivers.Config {
		c, err := d.Render(in)
		require.NoError(t, err)
		return c
	}
	a, b := render(dev.A), render(dev.B)
	require.NotEqual(t, a.String(), b.String(), "the suite needs two different policies")
	open := func() drivers.Session {
		sess, err := dev.Open(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { sess.Close() })
		return sess
	}
	fetch := func() drivers.Config {
		c, err := open().Fetch(ctx)
		require.NoError(t, err)
		return c
	}
	intact := func() bool { return true }
	if dev.Foreign != nil {
		intact = dev.Foreign(t)
	}
	const long = 2 * time.Minute

	// Apply, then confirm over a new session; the device then holds A for
	// good and reads back exactly what Render produced.
	t1 := trial("apply")
	armed, err := open().Apply(ctx, a, drivers.ApplyOptions{Trial: t1, ConfirmWithin: long})
	require.NoError(t, err)
	if caps.CommitConfirm {
		assert.GreaterOrEqual(t, armed.Within, long, "armed at least what was asked")
		if g := caps.TimerGranularity; g > 0 {
			assert.Less(t, armed.Within, long+g, "rounded up to the timer's unit, no more")
		}
		assert.WithinDuration(t, time.Now().Add(armed.Within), armed.Deadline, 30*time.Second)
	}
	assert.Equal(t, a.String(), fetch().String(), "fetch returns exactly the render")
	require.NoError(t, open().Confirm(ctx, t1))
	assert.Equal(t, a.String(), fetch().String())
	assert.True(t, intact(), "foreign config untouched by apply and confirm")

	// Fetch is idempotent and changes nothing.
	assert.Equal(t, fetch().String(), fetch().String())

	// A trial holds the device: another is refused, names the holder, and
	// can neither confirm nor roll back the first.
	t2, t3 := trial("holder"), trial("second")
	_, err = open().Apply(ctx, b, drivers.ApplyOptions{Trial: t2, ConfirmWithin: long})
	require.NoError(t, err)
	if lr, ok := open().(drivers.LockReporter); ok {
		holder, err := lr.DeviceLock(ctx)
		require.NoError(t, err)
		require.NotNil(t, holder, "the lock is visible to any controller")
		assert.Equal(t, t2.Run, holder.Run)
	}
	_, err = open().Apply(ctx, a, drivers.ApplyOptions{Trial: t3, ConfirmWithin: long})
	var locked *drivers.LockedError
	require.ErrorAs(t, err, &locked, "a second trial is refused while one is pending")
	assert.True(t, errors.Is(err, fault.ErrLocked))
	assert.Equal(t, t2.Run, locked.Holder.Run, "the refusal names the holder")
	assert.Error(t, open().Confirm(ctx, t3), "a trial cannot confirm another's")
	assert.Equal(t, b.String(), fetch().String(), "the holder's change is untouched")

	// The holder rolls back: the device is back on A, the lock is free.
	require.NoError(t, open().Rollback(ctx, a, t2))
	assert.Equal(t, a.String(), fetch().String())
	assert.True(t, intact(), "foreign config untouched by rollback")

	// An unconfirmed trial reverts by itself at the armed deadline, then
	// the lock is free again.
	if caps.CommitConfirm {
		t4 := trial("expire")
		armed, err := open().Apply(ctx, b, drivers.ApplyOptions{Trial: t4, ConfirmWithin: shortTimer(caps)})
		require.NoError(t, err)
		assert.Equal(t, b.String(), fetch().String())
		require.NotNil(t, dev.Expire, "a commit-confirm platform needs Expire")
		dev.Expire(t, armed)
		assert.Equal(t, a.String(), fetch().String(), "reverted by the device's own timer")
		assert.Error(t, open().Confirm(ctx, t4), "a reverted trial cannot be confirmed")
	}

	// After everything, a new trial takes the device.
	t5 := trial("after")
	_, err = open().Apply(ctx, b, drivers.ApplyOptions{Trial: t5, ConfirmWithin: long})
	require.NoError(t, err, "no lock left behind")
	require.NoError(t, open().Confirm(ctx, t5))
	assert.Equal(t, b.String(), fetch().String())
	assert.True(t, intact(), "foreign config untouched at the end")
}

// shortTimer is the shortest trial the platform can time: one unit of its
// timer, and a few seconds where it counts seconds.
func shortTimer(caps drivers.Capabilities) time.Duration {
	if caps.TimerGranularity > 3*time.Second {
		return caps.TimerGranularity
	}
	return 3 * time.Second
}
