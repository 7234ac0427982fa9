package netconflab

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/fwpush/fwpush/internal/transport/netconf"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/enforce"
)

// Agent makes a router's namespace enforce what its netconfd has
// committed (LABELLED LAB CODE): it reads running through a session of
// its own, translates the committed filters and their interface bindings
// into an enforce.State, and hands that to the namespace's Enforcer when
// it changed. It reads on every Sync and every Interval: a confirmed
// commit that netconfd reverts by its timer has no RPC to hook.
//
// Its session reaches sshd over the router's loopback, which the
// enforced filters never touch: a policy that cuts the controller off
// cannot cut the agent off, and the revert that follows is enforced too.
type Agent struct {
	lab       *testbed.Lab
	router    testbed.RouterSpec
	addr      string
	translate func(data string, r testbed.RouterSpec) (enforce.State, error)
	filter    string
	enf       *enforce.Enforcer

	mu      sync.Mutex // one read-translate-apply at a time, in order
	sess    *netconf.Session
	applied [32]byte
	err     error
	paused  bool

	stop chan struct{}
	done chan struct{}
}

// Interval is how often an Agent reads running on its own. netconfd 2.13
// checks confirmed-commit deadlines only after a second without traffic
// on any session, so polling much faster would delay a trial's revert,
// or stop it (TestLabNetconfdDeadlineStarvedByTraffic); tests Sync before
// each new session anyway.
const Interval = 3 * time.Second

// StartAgent starts the agent of router (whose netconfd serves model m),
// after a first Sync.
func StartAgent(ctx context.Context, lab *testbed.Lab, router string, m Model) (*Agent, error) {
	r, ok := lab.Router(router)
	if !ok || len(r.Interfaces) == 0 || len(r.Interfaces[0].Addrs) == 0 {
		return nil, fmt.Errorf("netconf agent: %s is no router of the lab", router)
	}
	a := &Agent{lab: lab, router: r, addr: r.Interfaces[0].Addrs[0].Addr().String(), enf: enforce.New(lab, router),
		stop: make(chan struct{}), done: make(chan struct{})}
	switch m.Dir {
	case Junos.Dir:
		a.translate, a.filter = junosState, junosFilter
	case OpenConfig.Dir:
		a.translate, a.filter = openconfigState, openconfigFilter
	default:
		return nil, fmt.Errorf("netconf agent: no translation for model %s", m.Dir)
	}
	if err := a.Sync(ctx); err != nil {
		return nil, err
	}
	go a.loop()
	return a, nil
}

func (a *Agent) loop() {
	defer close(a.done)
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.mu.Lock()
			paused := a.paused
			a.mu.Unlock()
			if paused {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err := a.Sync(ctx)
			cancel()
			a.mu.Lock()
			a.err = err
			a.mu.Unlock()
		}
	}
}

// Pause stops (true) or resumes the background reads, for a test that
// times netconfd's confirmed-commit deadline and must leave it idle;
// Sync still reads.
func (a *Agent) Pause(p bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.paused = p
}

// Err is the last background read's error, if any.
func (a *Agent) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Sync reads running now and enforces it if it changed.
func (a *Agent) Sync(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sess == nil || a.sess.Err() != nil {
		s, err := Dial(ctx, a.lab, a.router.Name, a.addr)
		if err != nil {
			return fmt.Errorf("%s: agent: %w", a.router.Name, err)
		}
		a.sess = s
	}
	data, err := a.sess.GetConfig(ctx, netconf.Running, a.filter)
	if err != nil {
		a.sess.Close()
		a.sess = nil
		return fmt.Errorf("%s: agent: %w", a.router.Name, err)
	}
	sum := sha256.Sum256([]byte(data))
	if sum == a.applied {
		return nil
	}
	st, err := a.translate(data, a.router)
	if err != nil {
		return fmt.Errorf("%s: agent: %w", a.router.Name, err)
	}
	if err := a.enf.Apply(ctx, st); err != nil {
		return err
	}
	a.applied = sum
	return nil
}

// Close stops the agent; the namespace keeps enforcing what it last had.
func (a *Agent) Close() {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sess != nil {
		a.sess.Close()
	}
}
