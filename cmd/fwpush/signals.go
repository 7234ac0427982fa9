package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// interrupted is the cause a SIGINT or SIGTERM leaves on the command's
// context; run turns it into exit status 128+signal.
type interrupted struct{ sig os.Signal }

func (e *interrupted) Error() string { return "interrupted by " + sigName(e.sig) }

func (e *interrupted) code() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

func sigName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// interrupts decides what a signal does. Work that only reads (compile,
// render, explain, plan, verify, history) is cancelled through the
// context and the command returns at once. A push is different: a device
// must not be dropped half-way through its change, so the first signal
// only stops new devices from starting (the push's soft stop) while the
// devices in flight finish; a second signal exits at once, leaving any
// armed device to its own revert timer.
type interrupts struct {
	cancel context.CancelCauseFunc
	errOut io.Writer
	exit   func(code int)
	// grace is how long a command that is not pushing gets to return
	// after the first signal before the process exits anyway: every
	// long loop watches the context, this is the backstop.
	grace time.Duration

	mu       sync.Mutex
	got      *interrupted // the first signal
	pushing  int          // push sections running
	finished bool         // run has returned: nothing more to say
}

type interruptsKey struct{}

// withInterrupts returns ctx cancelled by the first signal on sigs, and
// starts watching. exit ends the process (os.Exit in main).
func withInterrupts(ctx context.Context, sigs <-chan os.Signal, errOut io.Writer, exit func(int)) (context.Context, *interrupts) {
	ctx, cancel := context.WithCancelCause(ctx)
	iv := &interrupts{cancel: cancel, errOut: errOut, exit: exit, grace: 3 * time.Second}
	ctx = context.WithValue(ctx, interruptsKey{}, iv)
	go iv.watch(sigs)
	return ctx, iv
}

func (iv *interrupts) watch(sigs <-chan os.Signal) {
	for s := range sigs {
		iv.mu.Lock()
		first, pushing, finished := iv.got == nil, iv.pushing > 0, iv.finished
		if first {
			iv.got = &interrupted{sig: s}
		}
		cause := iv.got
		iv.mu.Unlock()
		switch {
		case finished:
		case !first:
			fmt.Fprintf(iv.errOut, "fwpush: %s again: exiting now; a device changed but not yet confirmed reverts by itself when its timer fires, and the next run reconciles what this one left unfinished\n", sigName(s))
			iv.exit(cause.code())
		case pushing:
			iv.cancel(cause)
			fmt.Fprintf(iv.errOut, "fwpush: %s: stopping: no new device will be started; the devices being changed now finish (checked, then confirmed or rolled back); send it again to exit at once (a device already armed then reverts by itself)\n", sigName(s))
		default:
			iv.cancel(cause)
			go iv.backstop(cause)
		}
	}
}

// backstop exits if the command has not returned within the grace time.
func (iv *interrupts) backstop(cause *interrupted) {
	time.Sleep(iv.grace)
	iv.mu.Lock()
	stuck := !iv.finished && iv.pushing == 0
	iv.mu.Unlock()
	if stuck {
		fmt.Fprintf(iv.errOut, "fwpush: %s\n", cause)
		iv.exit(cause.code())
	}
}

// done says run has returned; a late signal or backstop does nothing.
func (iv *interrupts) done() {
	if iv == nil {
		return
	}
	iv.mu.Lock()
	defer iv.mu.Unlock()
	iv.finished = true
}

func interruptsFrom(ctx context.Context) *interrupts {
	iv, _ := ctx.Value(interruptsKey{}).(*interrupts)
	return iv
}

// changeDevices runs push, which changes devices, as a push section: it
// gets a context no signal cancels (a device's change is never cut off
// mid-way) and stop, closed by the first signal, for the engine's soft
// stop (engine.Options.Stop). After a signal it starts nothing.
func changeDevices(ctx context.Context, push func(work context.Context, stop <-chan struct{}) error) error {
	iv := interruptsFrom(ctx)
	if iv != nil {
		iv.mu.Lock()
		got := iv.got
		if got == nil {
			iv.pushing++
		}
		iv.mu.Unlock()
		if got != nil {
			return got
		}
		defer func() {
			iv.mu.Lock()
			iv.pushing--
			iv.mu.Unlock()
		}()
	}
	return push(context.WithoutCancel(ctx), ctx.Done())
}

// interruptible runs fn, which does not watch ctx (loading and compiling
// a large inventory and playbook), and returns as soon as ctx is
// cancelled; the abandoned work ends with the process.
func interruptible[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}

// interruption is the signal that cancelled ctx, if one did.
func interruption(ctx context.Context) *interrupted {
	var iv *interrupted
	if errors.As(context.Cause(ctx), &iv) {
		return iv
	}
	return nil
}
