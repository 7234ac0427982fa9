package winsim

import (
	"sort"
	"sync"
	"time"

	"github.com/fwpush/fwpush/testbed/netsim"
)

// JumpClock is wall-clock time that a test can move forward: its timers
// run in real time, and Jump runs at once those it jumps past. Simulated
// hosts whose scheduled tasks run on it behave in real time towards a
// controller (whose own timeouts and waits are real), yet a test can let a
// trial's deadline pass without waiting for it.
type JumpClock struct {
	mu     sync.Mutex
	offset time.Duration
	timers map[*jumpTimer]struct{}
}

type jumpTimer struct {
	c  *JumpClock
	at time.Time // on the clock
	f  func()
	t  *time.Timer
	// done is set, under c.mu, once the timer ran or was stopped.
	done bool
}

// NewJumpClock returns a clock reading the wall clock.
func NewJumpClock() *JumpClock { return &JumpClock{timers: map[*jumpTimer]struct{}{}} }

// Now is the wall clock plus every jump so far.
func (c *JumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// AfterFunc calls f in its own goroutine once d has elapsed, or when a
// jump passes its time.
func (c *JumpClock) AfterFunc(d time.Duration, f func()) netsim.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	jt := &jumpTimer{c: c, at: time.Now().Add(c.offset + d), f: f}
	c.timers[jt] = struct{}{}
	jt.t = time.AfterFunc(d, func() {
		if c.take(jt) {
			jt.f()
		}
	})
	return jt
}

// take marks jt done, reporting whether it was pending.
func (c *JumpClock) take(jt *jumpTimer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if jt.done {
		return false
	}
	jt.done = true
	delete(c.timers, jt)
	return true
}

// Stop cancels the call; it reports whether it did.
func (jt *jumpTimer) Stop() bool {
	if !jt.c.take(jt) {
		return false
	}
	jt.t.Stop()
	return true
}

// Jump moves the clock forward by d and runs, in deadline order and
// before it returns, every timer whose time the clock has now passed.
func (c *JumpClock) Jump(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	now := time.Now().Add(c.offset)
	var due []*jumpTimer
	for jt := range c.timers {
		if !jt.at.After(now) {
			due = append(due, jt)
		}
	}
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, jt := range due {
		if jt.Stop() {
			jt.f()
		}
	}
}
