package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/internal/apply"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/testbed"
)

// controllerEnv, when set, turns the test binary into a stand-in fwpush
// controller (see controllerMain) that TestControllerKilled kills.
const controllerEnv = "FWPUSH_E2E_CONTROLLER"

// labParallel is how many parallel tests run at once unless -parallel
// says otherwise. The lab tests spend their time waiting for device-side
// timers, not computing, so GOMAXPROCS (go test's default, 2 on a small CI
// machine) would serialise minutes of sleep.
const labParallel = 4

func TestMain(m *testing.M) {
	if spec := os.Getenv(controllerEnv); spec != "" {
		os.Exit(controllerMain(spec))
	}
	if spec := os.Getenv(killEnv); spec != "" {
		os.Exit(killChild(spec))
	}
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set && runtime.GOMAXPROCS(0) < labParallel {
		if err := flag.Set("test.parallel", strconv.Itoa(labParallel)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// controllerSpec is what the stand-in controller pushes, and where.
type controllerSpec struct {
	LabDir    string                   `json:"lab_dir"`
	Inventory string                   `json:"inventory"`
	Playbook  string                   `json:"playbook"`
	Limit     string                   `json:"limit,omitempty"`
	Within    time.Duration            `json:"within"`
	Transport drivers.TransportOptions `json:"transport"`
}

// controllerMain pushes like `fwpush apply` does, through the lab (attached
// by its state dir, never closed here), printing "applied HOST" as soon as
// a device has the change and its revert timer armed. It then stalls
// before the check, so the parent can SIGKILL it in that window; if it is
// not killed within a minute it goes on and confirms.
func controllerMain(specJSON string) int {
	var spec controllerSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	lab, err := testbed.Attach(spec.LabDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	p, err := project.Load(project.Options{Inventory: spec.Inventory, Playbook: spec.Playbook, Limit: spec.Limit})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	e := &env{p: p, lab: lab, reg: all.Registry(), opts: spec.Transport}
	open := e.opener()
	stalling := func(ctx context.Context, host string) (drivers.Session, error) {
		s, err := open(ctx, host)
		if err != nil {
			return nil, err
		}
		return &stallAfterApply{Session: s, host: host}, nil
	}
	_, err = apply.Run(context.Background(), p, stalling, apply.Options{ConfirmWithin: spec.Within, Engine: eo()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// stallAfterApply announces a successful Apply and then stalls.
type stallAfterApply struct {
	drivers.Session
	host string
}

func (s *stallAfterApply) Apply(ctx context.Context, desired drivers.Config, o drivers.ApplyOptions) (drivers.Armed, error) {
	armed, err := s.Session.Apply(ctx, desired, o)
	if err != nil {
		return armed, err
	}
	fmt.Printf("applied %s\n", s.host)
	time.Sleep(time.Minute)
	return armed, nil
}

// TestControllerKilled SIGKILLs a controller process after its change
// landed and its revert timers were armed, before it could check or
// confirm (RELIABILITY.md A14): every device rolls back by itself to its
// previous state byte for byte within timeout + 5 s, keeps its boot
// config, and the next run pushes and confirms cleanly with no timer left.
func TestControllerKilled(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t, "baseline.yml", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.push(t, ctx)
	next := e.with(t, "disjoint-a.yml") // a harmless change: only the kill can undo it

	before, boot, watches := map[string]string{}, map[string]string{}, map[string]*hashWatch{}
	for _, h := range e.hostNames() {
		before[h], boot[h] = e.hash(t, h), e.persisted(t, h)
		watches[h] = watchHash(e.lab, h)
	}
	inv, err := filepath.Abs(next.p.Inv.Dir)
	require.NoError(t, err)
	pb, err := filepath.Abs(rel + "disjoint-a.yml")
	require.NoError(t, err)
	spec, err := json.Marshal(controllerSpec{LabDir: e.lab.Dir(), Inventory: inv, Playbook: pb, Within: trialTimer, Transport: e.opts})
	require.NoError(t, err)

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), controllerEnv+"="+string(spec))
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	applied := map[string]bool{}
	timeout := time.After(time.Minute)
	for len(applied) < len(before) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("controller exited early: %v: %s", cmd.Wait(), stderr)
			}
			if h, ok := strings.CutPrefix(l, "applied "); ok {
				applied[h] = true
			}
		case <-timeout:
			require.NoError(t, cmd.Process.Kill())
			t.Fatalf("controller applied to %v only within a minute: %s", applied, stderr.String())
		}
	}
	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred cleanup runs
	for range lines {
	}
	err = cmd.Wait()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "killed")

	for _, h := range e.hostNames() {
		requireReverted(t, h, before[h], waitHash(t, e, watches[h], before[h], trialTimer+5*time.Second), trialTimer)
		assert.Equal(t, boot[h], e.persisted(t, h), "%s: boot config untouched", h)
		assert.False(t, e.armed(t, h), "%s: no timer left armed", h)
	}

	// The next run reconciles by simply pushing again: nothing stale in
	// the way.
	next.push(t, ctx)
	for _, h := range e.hostNames() {
		assert.False(t, e.armed(t, h), "%s: no timer left armed", h)
		assert.NotEqual(t, boot[h], e.persisted(t, h), "%s: the new policy persisted", h)
	}
}

// lockedBuffer is a bytes.Buffer that a running command may write while a
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitHash lets w run until host is back at want after having left it, or
// until limit has passed since it left, then stops it.
func waitHash(t *testing.T, e *env, w *hashWatch, want string, limit time.Duration) []sample {
	t.Helper()
	for i := 0; i < 600; i++ { // bounded: 60 s
		w.mu.Lock()
		seen := append([]sample(nil), w.seen...)
		w.mu.Unlock()
		if len(seen) > 1 && (seen[len(seen)-1].hash == want || time.Since(seen[1].at) > limit+time.Second) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return w.Stop(t)
}
