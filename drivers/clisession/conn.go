package clisession

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/scrapli/scrapligo/driver/network"
	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/platform"
	"github.com/scrapli/scrapligo/util"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/transport/ssh"
	"github.com/fwpush/fwpush/inventory"
)

// Inventory data keys the CLI platforms read: the SSH settings Linux
// hosts use too, and the enable secret.
const (
	// DataEnableSecret is the password `enable` asks for, for a login
	// that lands in user exec (a secret-looking key: never printed).
	DataEnableSecret = "enable_secret"
)

// DefaultCommandTimeout bounds one command when the run sets none.
const DefaultCommandTimeout = 30 * time.Second

// Conn is one interactive CLI session on one device, in privileged exec
// after Dial.
type Conn struct {
	// Host is the inventory name, for errors.
	Host   string
	table  *Table
	client *ssh.Client
	drv    *network.Driver
	// base is scrapligo's own refusal list for the platform; Run adds
	// the table's, Query does not (the table lists replies that are a
	// refusal after a change and plain news after a show command, such
	// as "%No Rollback Confirmed Change pending").
	base []string
}

// Dial connects to the target over fwpush's SSH client (host key checked
// before any credential is sent), opens an interactive shell through
// scrapligo, reaches privileged exec (with `enable` when the login lands
// below it) and turns paging off.
func Dial(ctx context.Context, t drivers.Target, table *Table) (*Conn, error) {
	h := t.Host
	if h == nil {
		return nil, errors.New("open: no host in target")
	}
	cfg, err := t.SSH()
	if err != nil {
		return nil, err
	}
	cfg.Sudo = false // a router's login is its privilege; `enable` raises it
	client, err := ssh.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	timeout := t.Options.CommandTimeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	opts := []util.Option{
		options.WithCustomTransport(&shell{client: client}),
		options.WithTimeoutOps(timeout),
		options.WithTermWidth(511),
	}
	if s := secret(h, DataEnableSecret); s != "" {
		opts = append(opts, options.WithAuthSecondary(s))
	}
	p, err := platform.NewPlatform(table.Scrapli, h.Name, opts...)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("cli platform %s: %w", table.Scrapli, err)
	}
	d, err := p.GetNetworkDriver()
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("cli platform %s: %w", table.Scrapli, err)
	}
	base := append([]string(nil), d.FailedWhenContains...)
	d.FailedWhenContains = append(d.FailedWhenContains, table.Failed...)
	// Closing ends the SSH session; scrapligo's on-close would first walk
	// back to exec and type `exit`, which on a device that just cut us
	// off waits for the whole command timeout.
	d.OnClose = nil
	c := &Conn{Host: h.Name, table: table, client: client, drv: d, base: base}
	if err := c.guard(ctx, func() error { return d.Open() }); err != nil {
		c.Close()
		return nil, fmt.Errorf("open cli session: %w", err)
	}
	return c, nil
}

// secret reads a secret data value (the inventory hides it as a Secret).
func secret(h *inventory.Host, key string) string {
	switch v := h.Data[key].(type) {
	case inventory.Secret:
		return v.Reveal()
	case string:
		return inventory.Secret(v).Reveal()
	}
	return ""
}

// guard runs f (a scrapligo call, which takes no context) so that ctx
// ending closes the connection under it: f then fails at once instead of
// waiting out its own timeout.
func (c *Conn) guard(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { c.client.Close() })
	err := f()
	if !stop() {
		return fmt.Errorf("%w: %w", ctxErr(ctx), err)
	}
	return classify(err)
}

func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fault.ErrTimeout
	}
	return ctx.Err()
}

// classify maps scrapligo's failures to the kinds the engine acts on.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, util.ErrTimeoutError):
		return fmt.Errorf("%w: %w", fault.ErrTimeout, err)
	case errors.Is(err, util.ErrConnectionError):
		return fmt.Errorf("%w: %w", fault.ErrUnreachable, err)
	}
	return err
}

// RefusedError is a line the device refused, with what it said.
type RefusedError struct {
	Host string
	// Line is the 1-based position of the refused line in what was sent.
	Line    int
	Command string
	Output  string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("line %d %q refused: %s", e.Line, e.Command, oneLine(e.Output))
}

// Is makes errors.Is(err, fault.ErrRejected) true.
func (e *RefusedError) Is(target error) bool { return target == fault.ErrRejected }

// oneLine joins a device's multi-line reply for an error message, without
// the caret line.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.Trim(l, "^ ") == "" {
			continue
		}
		parts = append(parts, l)
	}
	out := strings.Join(parts, " / ")
	if len(out) > 500 {
		out = out[:500] + "…"
	}
	return out
}

// Run types lines in order, in whatever mode each leads to, and returns
// what the device printed for each. It stops at the first line the
// device refuses (a *RefusedError naming it) or at a transport failure;
// the outputs so far are returned either way.
func (c *Conn) Run(ctx context.Context, lines ...string) ([]string, error) {
	return c.send(ctx, nil, lines)
}

// Query runs show commands: only scrapligo's own list of refusals
// (% Invalid input, ...) fails them.
func (c *Conn) Query(ctx context.Context, cmds ...string) ([]string, error) {
	return c.send(ctx, []util.Option{opoptions.WithFailedWhenContains(c.base)}, cmds)
}

func (c *Conn) send(ctx context.Context, opts []util.Option, lines []string) ([]string, error) {
	out := make([]string, 0, len(lines))
	for i, l := range lines {
		var text string
		var failed error
		err := c.guard(ctx, func() error {
			r, err := c.drv.Driver.SendCommand(l, opts...)
			if err != nil {
				return err
			}
			text, failed = r.Result, r.Failed
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("%q: %w", l, err)
		}
		out = append(out, text)
		if failed != nil {
			return out, &RefusedError{Host: c.Host, Line: i + 1, Command: l, Output: text}
		}
	}
	return out, nil
}

// Show runs one show command and returns its output.
func (c *Conn) Show(ctx context.Context, cmd string) (string, error) {
	out, err := c.Query(ctx, cmd)
	if len(out) == 0 {
		return "", err
	}
	return out[0], err
}

// Table is the dialect's table.
func (c *Conn) Table() *Table { return c.table }

// RemoteAddr is the device's address as dialled.
func (c *Conn) RemoteAddr() net.Addr { return c.client.RemoteAddr() }

// Close ends the session and the connection.
func (c *Conn) Close() error {
	c.drv.Close()
	return c.client.Close()
}
