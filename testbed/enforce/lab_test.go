package enforce

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fwpush/fwpush/testbed"
)

// Probe deadlines: short where a probe is expected to fail (a drop makes it
// wait the whole deadline), generous where it is expected to pass.
const (
	failWithin = 2 * time.Second
	passWithin = 10 * time.Second
)

// startLab starts the routed lab of these tests: core (the management
// segment, with the controller) and dmz, router r between them; host a on
// core, b on dmz, and w on dmz without sshd (a simulated Windows host).
func startLab(t *testing.T) *testbed.Lab {
	t.Helper()
	seg := func(name, v4, v6 string) testbed.SegmentSpec {
		return testbed.SegmentSpec{Name: name, IPv4: netip.MustParsePrefix(v4), IPv6: netip.MustParsePrefix(v6)}
	}
	ports := []uint16{80, 81}
	return testbed.StartT(t, []testbed.HostSpec{
		{Name: "a", Addrs: pfx("198.18.0.11/24", "2001:db8::11/64"), TCP: ports, UDP: []uint16{53}},
		{Name: "b", Segment: "dmz", Addrs: pfx("198.18.10.12/24", "2001:db8:10::12/64"), TCP: ports, UDP: []uint16{53}},
		{Name: "w", Segment: "dmz", NoSSHD: true, Addrs: pfx("198.18.10.13/24", "2001:db8:10::13/64"), TCP: ports, UDP: []uint16{53}},
	},
		testbed.WithSegments(seg("core", "198.18.0.0/24", "2001:db8::/64"), seg("dmz", "198.18.10.0/24", "2001:db8:10::/64")),
		testbed.WithRouters(testbed.RouterSpec{Name: "r", Interfaces: []testbed.RouterInterface{
			{Name: "GigabitEthernet0/0", Linux: "gi0-0", Segment: "core", Addrs: pfx("198.18.0.254/24", "2001:db8::fe/64")},
			{Name: "GigabitEthernet0/1", Linux: "gi0-1", Segment: "dmz", Addrs: pfx("198.18.10.254/24", "2001:db8:10::fe/64")},
		}}))
}

// flow is one probe and whether it must pass.
type flow struct {
	from  string
	proto string // tcp, udp, or mgmt (a banner from Listen)
	to    string // an address:port
	pass  bool
}

// check runs every flow at once (dropped ones each wait out failWithin)
// and reports each that does not behave.
func check(ctx context.Context, t *testing.T, l *testbed.Lab, flows []flow) {
	t.Helper()
	var wg sync.WaitGroup
	for _, f := range flows {
		wg.Go(func() {
			limit := failWithin
			if f.pass {
				limit = passWithin
			}
			ctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			ap := netip.MustParseAddrPort(f.to)
			var err error
			switch f.proto {
			case "tcp":
				err = l.ProbeTCP(ctx, f.from, ap)
			case "udp":
				err = l.ProbeUDP(ctx, f.from, ap)
			case "mgmt":
				err = readBanner(ctx, l, f.from, ap)
			}
			if (err == nil) != f.pass {
				t.Errorf("%s %s → %s: err %v, want pass=%v", f.proto, f.from, f.to, err, f.pass)
			}
		})
	}
	wg.Wait()
}

// serveMgmt stands in for a simulator's management plane on the router.
func serveMgmt(t *testing.T, l *testbed.Lab, addr string) {
	t.Helper()
	ln, err := l.Listen(context.Background(), "r", "tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, "router-sim")
			c.Close()
		}
	}()
}

func readBanner(ctx context.Context, l *testbed.Lab, from string, ap netip.AddrPort) error {
	c, err := l.DialFrom(ctx, from, "tcp", ap.String())
	if err != nil {
		return err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "router-sim\n" {
		return fmt.Errorf("banner %q", line)
	}
	return nil
}

// requireEnforced checks that host's kernel enforces s.
func requireEnforced(ctx context.Context, t *testing.T, e *Enforcer, s State) {
	t.Helper()
	rs, err := Render(s)
	require.NoError(t, err)
	got, err := e.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, rs.Digest, got.Digest, "enforced:\n%s", got.Listing)
}

func ap(addr string, port int) string {
	return netip.AddrPortFrom(netip.MustParseAddr(addr), uint16(port)).String()
}

// TestRouterACL is the placement proof: probes cross router r, whose
// filters come from an enforce.State.
func TestRouterACL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := startLab(t)
	serveMgmt(t, l, "198.18.0.254:22")
	serveMgmt(t, l, "[2001:db8::fe]:22")
	r := New(l, "r")

	var open []flow // with no State every probe crosses r
	for _, fam := range []struct{ a, b, r string }{{"198.18.0.11", "198.18.10.12", "198.18.0.254"}, {"2001:db8::11", "2001:db8:10::12", "2001:db8::fe"}} {
		open = append(open,
			flow{"a", "tcp", ap(fam.b, 80), true}, flow{"a", "tcp", ap(fam.b, 81), true}, flow{"a", "udp", ap(fam.b, 53), true},
			flow{"b", "tcp", ap(fam.a, 80), true}, flow{"b", "udp", ap(fam.a, 53), true},
			flow{testbed.Controller, "tcp", ap(fam.b, 80), true}, flow{testbed.Controller, "mgmt", ap(fam.r, 22), true})
	}
	t.Run("no state", func(t *testing.T) {
		en, err := r.Read(ctx)
		require.NoError(t, err)
		require.Empty(t, en.Digest)
		check(ctx, t, l, open)
	})

	t.Run("dmz out permits only tcp/80 from a", func(t *testing.T) {
		s := dmzACL()
		require.NoError(t, r.Apply(ctx, s))
		requireEnforced(ctx, t, r, s)
		var flows []flow
		for _, fam := range []struct{ a, b string }{{"198.18.0.11", "198.18.10.12"}, {"2001:db8::11", "2001:db8:10::12"}} {
			flows = append(flows,
				// The reply comes back in on dmz: only the Established rule
				// lets it through.
				flow{"a", "tcp", ap(fam.b, 80), true},
				flow{"a", "tcp", ap(fam.b, 81), false},
				flow{"a", "udp", ap(fam.b, 53), false},
				flow{testbed.Controller, "tcp", ap(fam.b, 80), false}, // not from a
				flow{"b", "tcp", ap(fam.a, 80), false},                // a SYN is not established
				flow{"b", "udp", ap(fam.a, 53), false})
		}
		check(ctx, t, l, flows)
	})

	t.Run("without established the replies die", func(t *testing.T) {
		s := dmzACL()
		s.Bindings[1].Filter.Rules = nil
		require.NoError(t, r.Apply(ctx, s))
		check(ctx, t, l, []flow{{"a", "tcp", ap("198.18.10.12", 80), false}, {"a", "tcp", ap("2001:db8:10::12", 80), false}})
	})

	t.Run("inbound ACL on core cuts management", func(t *testing.T) {
		s := mgmtCut()
		require.NoError(t, r.Apply(ctx, s))
		requireEnforced(ctx, t, r, s)
		check(ctx, t, l, []flow{
			{testbed.Controller, "mgmt", ap("198.18.0.254", 22), false},
			{testbed.Controller, "mgmt", ap("2001:db8::fe", 22), false},
			{"a", "mgmt", ap("198.18.0.254", 22), false},
			// Only tcp/22 to r itself: transit is untouched.
			{testbed.Controller, "tcp", ap("198.18.10.12", 80), true},
			{"a", "tcp", ap("2001:db8:10::12", 81), true},
			// The listener inside r still runs: reached from r itself.
			{"r", "mgmt", ap("198.18.0.254", 22), true},
		})
	})

	t.Run("management permitted from the controller only", func(t *testing.T) {
		s := mgmtCut()
		f := s.Bindings[0].Filter
		f.Rules = append([]Rule{{Action: Permit, Proto: 6, Src: pfx("198.18.0.1/32", "2001:db8::1/128"), DstPorts: []PortRange{{22, 22}}}}, f.Rules...)
		require.NoError(t, r.Apply(ctx, s))
		requireEnforced(ctx, t, r, s)
		check(ctx, t, l, []flow{
			{testbed.Controller, "mgmt", ap("198.18.0.254", 22), true},
			{testbed.Controller, "mgmt", ap("2001:db8::fe", 22), true},
			{"a", "mgmt", ap("198.18.0.254", 22), false},
			{"a", "mgmt", ap("2001:db8::fe", 22), false},
		})
	})

	t.Run("an outbound ACL filters the router's own packets unless TransitOnly", func(t *testing.T) {
		s := State{Bindings: []Binding{{Interface: "gi0-0", Direction: Out, Filter: &Filter{Name: "CORE-OUT", Default: Deny}}}}
		require.NoError(t, r.Apply(ctx, s))
		check(ctx, t, l, []flow{
			{testbed.Controller, "mgmt", ap("198.18.0.254", 22), false}, // r's answer leaves through gi0-0
			{testbed.Controller, "tcp", ap("198.18.10.12", 80), false},  // b's answer is routed out of gi0-0
		})
		s.Bindings[0].TransitOnly = true
		require.NoError(t, r.Apply(ctx, s))
		check(ctx, t, l, []flow{
			{testbed.Controller, "mgmt", ap("2001:db8::fe", 22), true},
			{testbed.Controller, "tcp", ap("2001:db8:10::12", 80), false},
		})
	})

	t.Run("reject answers at once", func(t *testing.T) {
		s := State{Bindings: []Binding{{Interface: "gi0-1", Direction: Out, Filter: &Filter{Name: "R", Default: Permit, Rules: []Rule{
			{Action: Reject, Proto: 6, DstPorts: []PortRange{{81, 81}}},
		}}}}}
		require.NoError(t, r.Apply(ctx, s))
		for _, addr := range []string{"198.18.10.12", "2001:db8:10::12"} {
			start := time.Now()
			c, err := l.DialFrom(ctx, "a", "tcp", ap(addr, 81))
			if err == nil {
				c.Close()
			}
			require.ErrorContains(t, err, "connection refused")
			require.Less(t, time.Since(start), passWithin)
		}
		check(ctx, t, l, []flow{{"a", "tcp", ap("198.18.10.12", 80), true}})
	})

	t.Run("empty state lifts everything", func(t *testing.T) {
		require.NoError(t, r.Apply(ctx, State{}))
		requireEnforced(ctx, t, r, State{})
		check(ctx, t, l, open)
	})
}

// TestHostPolicy: a simulated Windows host (w: no sshd) with inbound
// default deny but tcp/80.
func TestHostPolicy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := startLab(t)
	w := New(l, "w")
	s := webOnly()
	require.NoError(t, w.Apply(ctx, s))
	requireEnforced(ctx, t, w, s)
	var flows []flow
	for _, addr := range []string{"198.18.10.13", "2001:db8:10::13"} {
		flows = append(flows,
			flow{"a", "tcp", ap(addr, 80), true}, // across r
			flow{"b", "tcp", ap(addr, 80), true}, // same segment
			flow{"a", "tcp", ap(addr, 81), false},
			flow{"b", "udp", ap(addr, 53), false})
	}
	// Output is unfiltered and replies are stateful: w's own connections work.
	flows = append(flows, flow{"w", "tcp", ap("198.18.0.11", 81), true}, flow{"w", "udp", ap("2001:db8::11", 53), true})
	check(ctx, t, l, flows)
	// The router and the other hosts enforce nothing.
	for _, h := range []string{"r", "a", "b"} {
		en, err := Read(ctx, l, h)
		require.NoError(t, err)
		require.Empty(t, en.Digest, h)
	}
}

// TestApplyAtomic: a State the kernel refuses leaves the previous one in
// force, probes included.
func TestApplyAtomic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := startLab(t)
	r := New(l, "r")
	before := dmzACL()
	require.NoError(t, r.Apply(ctx, before))

	// Render refuses it: nothing is loaded.
	bad := mgmtCut()
	bad.Bindings[0].Filter.Default = ""
	require.ErrorContains(t, r.Apply(ctx, bad), "default")
	requireEnforced(ctx, t, r, before)

	// The kernel refuses it, after the script's delete: the whole
	// transaction goes.
	r.mangle = func(text string) string {
		return text + "add rule inet " + Table + " forward jump no_such_chain\n"
	}
	err := r.Apply(ctx, mgmtCut())
	require.ErrorContains(t, err, "no_such_chain")
	requireEnforced(ctx, t, r, before)
	check(ctx, t, l, []flow{
		{"a", "tcp", ap("198.18.10.12", 80), true},
		{"a", "tcp", ap("198.18.10.12", 81), false},
	})
	r.mangle = nil
	require.NoError(t, r.Apply(ctx, mgmtCut()))
	requireEnforced(ctx, t, r, mgmtCut())
}

// TestGoldenStatesLoad loads every golden State into a real namespace: the
// renderer's output is what this machine's nft accepts.
func TestGoldenStatesLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := startLab(t)
	for name, s := range goldenStates() {
		for _, host := range []string{"r", "w"} {
			e := New(l, host)
			require.NoError(t, e.Apply(ctx, s), "%s on %s", name, host)
			requireEnforced(ctx, t, e, s)
		}
	}
}

// recorder wraps a Runner and records every load and whether two ever
// overlapped.
type recorder struct {
	Runner
	mu       sync.Mutex
	inFlight int
	overlap  bool
	loads    []string
}

func (r *recorder) NetExec(ctx context.Context, host string, stdin []byte, argv ...string) ([]byte, error) {
	if len(stdin) == 0 {
		return r.Runner.NetExec(ctx, host, stdin, argv...)
	}
	r.mu.Lock()
	r.inFlight++
	r.overlap = r.overlap || r.inFlight > 1
	r.mu.Unlock()
	out, err := r.Runner.NetExec(ctx, host, stdin, argv...)
	r.mu.Lock()
	r.inFlight--
	if err == nil {
		r.loads = append(r.loads, string(stdin))
	}
	r.mu.Unlock()
	return out, err
}

// TestApplyConcurrent: concurrent applies never overlap, all succeed, and
// the last one loaded is what the kernel enforces.
func TestApplyConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := startLab(t)
	rec := &recorder{Runner: l}
	e := New(rec, "r")
	states := []State{dmzACL(), mgmtCut(), webOnly(), everything(), {}}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 40 {
		wg.Go(func() {
			if err := e.Apply(ctx, states[i%len(states)]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	t.Logf("40 serialized applies in %s", time.Since(start).Round(time.Millisecond))
	require.False(t, rec.overlap, "two nft loads ran at once")
	require.Len(t, rec.loads, 40)
	got, err := e.Read(ctx)
	require.NoError(t, err)
	last := rec.loads[len(rec.loads)-1]
	require.True(t, strings.Contains(last, `comment "fwp-enforce `+got.Digest+`"`), "enforced %s, last loaded:\n%s", got.Digest, last)
}

// TestApplyWaitsForCtx: an Apply queued behind a stuck one gives up with
// its ctx.
func TestApplyWaitsForCtx(t *testing.T) {
	block := make(chan struct{})
	e := New(stuck{block}, "r")
	done := make(chan error, 1)
	go func() { done <- e.Apply(context.Background(), State{}) }()
	// Wait until the first Apply holds the lock.
	require.Eventually(t, func() bool { return len(e.sem) == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, e.Apply(ctx, State{}), context.DeadlineExceeded)
	close(block)
	require.NoError(t, <-done)
}

type stuck struct{ block chan struct{} }

func (s stuck) NetExec(ctx context.Context, host string, stdin []byte, argv ...string) ([]byte, error) {
	<-s.block
	return nil, nil
}
