package routerlab

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/drivers/netacl"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// Loader is the conformance suite's Load for a network platform
// (driverstest.Suite.Load): it pushes each render into the platform's
// simulator with the driver's own session, as `fwpush apply` does (a
// trial, confirmed over a new connection), and requires that no line was
// refused and that the device then reads back, through the driver's Fetch,
// as exactly the render. Every render goes to the same device, so each
// load replaces the previous one on a device that holds it; when a render
// binds interfaces the device lacks, the device is started again with
// them, its running config carried over as its initial config (a real
// router has its interfaces before anyone configures ACLs on them).
func Loader(t *testing.T, p drivers.Platform) func(*testing.T, drivers.Config) {
	t.Helper()
	return newLoader(t, p).load
}

func newLoader(t *testing.T, p drivers.Platform) *loader {
	t.Helper()
	d, ok := p.Driver.(*netacl.Driver)
	require.True(t, ok, "%s: not a CLI ACL driver", p.ID)
	sim, ok := simulated[p.ID]
	require.True(t, ok, "%s: no simulator", p.ID)
	l := &loader{owner: t, platform: p, driver: d, ifaces: map[string]bool{}}
	l.config = labinv.InitialConfig(sim, "load-1", testbed.RouterSpec{})
	return l
}

type loader struct {
	owner    *testing.T // the devices live as long as the whole suite
	platform drivers.Platform
	driver   *netacl.Driver
	dev      *Loopback
	config   string          // the initial config of the next device
	ifaces   map[string]bool // the interfaces dev has
	n        int             // loads so far
}

func (l *loader) load(t *testing.T, c drivers.Config) {
	t.Helper()
	require.NoError(t, l.try(t, c))
}

// try loads c; an error says which step failed.
func (l *loader) try(t *testing.T, c drivers.Config) error {
	t.Helper()
	want, err := l.driver.Desired(c)
	if err != nil {
		return fmt.Errorf("the driver refuses its own render as desired config: %w", err)
	}
	missing := false
	for _, i := range want.Ifaces {
		if !l.ifaces[i.Name] {
			l.ifaces[i.Name] = true
			missing = true
		}
	}
	if l.dev == nil || missing {
		if l.dev != nil {
			l.config = l.dev.Device.RunningConfig()
		}
		l.dev = l.start(t)
	}
	l.n++
	tr := drivers.Trial{Run: fmt.Sprintf("load-%d", l.n), Controller: "driverstest", User: "test", Since: time.Now().UTC().Truncate(time.Second)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Each step on a new connection, as apply and confirm are.
	var opened []drivers.Session
	defer func() {
		for _, s := range opened {
			s.Close()
		}
	}()
	open := func() (drivers.Session, error) {
		s, err := l.dev.drv.Open(ctx, l.dev.target)
		if err != nil {
			return nil, fmt.Errorf("open: %w", err)
		}
		opened = append(opened, s)
		return s, nil
	}
	s, err := open()
	if err != nil {
		return err
	}
	if _, err := s.Apply(ctx, c, drivers.ApplyOptions{Trial: tr, ConfirmWithin: 10 * time.Minute}); err != nil {
		return fmt.Errorf("apply (the device refused the render?): %w", err)
	}
	if s, err = open(); err != nil {
		return err
	}
	if err := s.Confirm(ctx, tr); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	if s, err = open(); err != nil {
		return err
	}
	got, err := s.Fetch(ctx)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if got.String() != c.String() {
		return fmt.Errorf("the device reads back other than the render (-render +device):\n%s", cmp.Diff(c.String(), got.String()))
	}
	if timers := l.dev.Device.PendingTimers(); len(timers) > 0 {
		return fmt.Errorf("the confirmed trial left timers: %v", timers)
	}
	return nil
}

// start serves a device with every interface a render bound so far,
// booting from l.config. The previous device, if any, stays up until the
// test ends.
func (l *loader) start(t *testing.T) *Loopback {
	t.Helper()
	names := make([]string, 0, len(l.ifaces))
	for n := range l.ifaces {
		names = append(names, n)
	}
	sort.Strings(names)
	ifmap := map[string]string{}
	for i, n := range names {
		ifmap[n] = "eth" + fmt.Sprint(i+1)
	}
	return startLoopback(t, l.owner, l.platform, ifmap, strings.TrimRight(l.config, "\n")+"\n")
}
