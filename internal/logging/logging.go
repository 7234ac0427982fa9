// Package logging is fwpush's structured log: log/slog to stderr, carried
// in the context so any package can log without a logger in its
// signature, and a handler that scrubs known secrets from every record
// before it is written.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the logger ctx carries, or one that discards everything.
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return discard
}

var discard = slog.New(slog.DiscardHandler)

// ParseLevel reads a level name: debug, info, warn, error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// New returns a logger writing records at level or above to w, as text
// or json, through secrets.
func New(w io.Writer, level slog.Level, format string, secrets *Secrets) (*slog.Logger, error) {
	o := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch format {
	case "text", "":
		h = slog.NewTextHandler(w, o)
	case "json":
		h = slog.NewJSONHandler(w, o)
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
	if secrets != nil {
		h = &redacting{next: h, secrets: secrets}
	}
	return slog.New(h), nil
}

// Secrets are values that must never be written: passwords and other
// credentials from the inventory, registered as they are loaded.
type Secrets struct {
	mu     sync.RWMutex
	values []string
}

// Add registers secret values (empty and very short values are ignored:
// scrubbing "a" would make every record unreadable and hides nothing).
func (s *Secrets) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if len(v) >= 3 {
			s.values = append(s.values, v)
		}
	}
}

// Scrub replaces every registered secret in v.
func (s *Secrets) Scrub(v string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, secret := range s.values {
		if strings.Contains(v, secret) {
			v = strings.ReplaceAll(v, secret, "[redacted]")
		}
	}
	return v
}

// redacting scrubs secrets out of a record's message and every string
// attribute, nested groups included, before the next handler sees it.
type redacting struct {
	next    slog.Handler
	secrets *Secrets
}

func (r *redacting) Enabled(ctx context.Context, l slog.Level) bool { return r.next.Enabled(ctx, l) }

func (r *redacting) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, r.secrets.Scrub(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(r.scrub(a))
		return true
	})
	return r.next.Handle(ctx, out)
}

func (r *redacting) WithAttrs(as []slog.Attr) slog.Handler {
	scrubbed := make([]slog.Attr, len(as))
	for i, a := range as {
		scrubbed[i] = r.scrub(a)
	}
	return &redacting{next: r.next.WithAttrs(scrubbed), secrets: r.secrets}
}

func (r *redacting) WithGroup(name string) slog.Handler {
	return &redacting{next: r.next.WithGroup(name), secrets: r.secrets}
}

func (r *redacting) scrub(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.secrets.Scrub(v.String()))
	case slog.KindGroup:
		as := v.Group()
		out := make([]any, len(as))
		for i, g := range as {
			out[i] = r.scrub(g)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		return slog.String(a.Key, r.secrets.Scrub(fmt.Sprint(v.Any())))
	}
	return a
}
