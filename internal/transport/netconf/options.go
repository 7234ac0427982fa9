package netconf

import (
	"fmt"
	"time"
)

// Option configures a Session.
type Option func(*config) error

type config struct {
	eomOnly bool
	extra   []string
	maxMsg  int
	settle  time.Duration
}

func defaultConfig() config { return config{maxMsg: DefaultMaxMessageSize} }

// WithEOMFraming advertises base:1.0 only, so the session keeps the
// end-of-message framing: for devices whose chunked framing is broken,
// and for testing that framing against a server that offers both.
func WithEOMFraming() Option {
	return func(c *config) error {
		c.eomOnly = true
		return nil
	}
}

// WithCapabilities adds capabilities to the client's hello (the base
// versions are always sent).
func WithCapabilities(uris ...string) Option {
	return func(c *config) error {
		for _, u := range uris {
			if u == "" || !validText(u) {
				return fmt.Errorf("capability %q: want a non-empty URI", u)
			}
		}
		c.extra = append(c.extra, uris...)
		return nil
	}
}

// WithMaxMessageSize bounds one incoming message (DefaultMaxMessageSize).
func WithMaxMessageSize(n int) Option {
	return func(c *config) error {
		if n < 1024 || n > 1<<30 {
			return fmt.Errorf("WithMaxMessageSize(%d): want 1 KiB..1 GiB", n)
		}
		c.maxMsg = n
		return nil
	}
}

// WithHelloSettle holds the first rpc back until d after the hello
// exchange. yuma123's netconfd (2.13) leaves an rpc that reaches it in the
// same read as the client's hello unprocessed until the session's next
// input, in either framing: the caller times out, and its next rpc sets
// the stale one off. The pause lets the hello be read on its own.
func WithHelloSettle(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d > 10*time.Second {
			return fmt.Errorf("WithHelloSettle(%s): want 0..10s", d)
		}
		c.settle = d
		return nil
	}
}
