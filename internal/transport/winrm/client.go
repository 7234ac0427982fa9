package winrm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"

	mwinrm "github.com/masterzen/winrm"

	"github.com/fwpush/fwpush/internal/fault"
)

// Client is one WinRM shell on one host: every Run is a command in it.
type Client struct {
	cfg   Config
	t     *transporter
	c     *mwinrm.Client
	shell *mwinrm.Shell
	// run serializes commands: the transporter follows one context.
	run sync.Mutex
}

// Result is what a program did.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// Dial opens a shell on the host: it authenticates, so a wrong password
// or an untrusted certificate fails here. A refused connection is retried
// cfg.ConnectRetries times; a timeout is not.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("winrm %s: %w", cfg.Host, err)
	}
	t, err := newTransporter(cfg)
	if err != nil {
		return nil, fmt.Errorf("winrm %s: %w", cfg.Host, err)
	}
	params := mwinrm.NewParameters("PT"+strconv.Itoa(int(operationTimeout(cfg)/time.Second))+"S", "en-US", maxEnvelope)
	params.TransportDecorator = func() mwinrm.Transporter { return t }
	ep := mwinrm.NewEndpoint(cfg.Host, cfg.Port, !cfg.HTTP, cfg.InsecureSkipVerifyTLS, nil, nil, nil, cfg.CommandTimeout)
	mc, err := mwinrm.NewClientWithParameters(ep, cfg.User, cfg.Password, params)
	if err != nil {
		return nil, fmt.Errorf("winrm %s: %w", cfg.Host, err)
	}
	c := &Client{cfg: cfg, t: t, c: mc}
	var last error
	for attempt := 0; attempt <= cfg.ConnectRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("winrm %s: open shell: %w: %w", cfg.Host, last, fault.ErrTimeout)
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		actx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+operationTimeout(cfg))
		t.setContext(actx)
		c.shell, last = mc.CreateShell()
		cancel()
		t.setContext(context.Background())
		if last == nil {
			return c, nil
		}
		// Only a refused or dropped connection is worth another attempt
		// (a listener restarting); a timeout is final, as for SSH.
		if !errors.Is(last, fault.ErrUnreachable) || errors.Is(last, fault.ErrTimeout) {
			break
		}
	}
	return nil, fmt.Errorf("winrm %s:%d: open shell: %w", cfg.Host, cfg.Port, last)
}

// PowerShellCommand is the command line that runs program: powershell.exe
// with the program as -EncodedCommand (UTF-16LE, base64), so nothing in it
// is ever parsed by cmd.exe. Programs are fwpush's own, fixed text; their
// data travels on stdin.
func PowerShellCommand(program string) string {
	u := utf16.Encode([]rune(program))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i], b[2*i+1] = byte(r), byte(r>>8)
	}
	return "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand " +
		base64.StdEncoding.EncodeToString(b)
}

// MaxCommandLine is the longest command line cmd.exe (which WinRS starts
// commands through) accepts.
const MaxCommandLine = 8191

// Run runs a PowerShell program with stdin as its standard input and
// returns what it printed and its exit code. A program that prints more
// than MaxOutput on a stream, or runs past CommandTimeout, is an error.
func (c *Client) Run(ctx context.Context, program string, stdin []byte) (Result, error) {
	cmdline := PowerShellCommand(program)
	if len(cmdline) > MaxCommandLine {
		return Result{}, fmt.Errorf("winrm %s: program too long for a command line (%d > %d characters)", c.cfg.Host, len(cmdline), MaxCommandLine)
	}
	c.run.Lock()
	defer c.run.Unlock()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CommandTimeout)
	defer cancel()
	c.t.setContext(ctx)
	defer c.t.setContext(context.Background())
	cmd, err := c.shell.ExecuteWithContext(ctx, cmdline)
	if err != nil {
		return Result{}, fmt.Errorf("winrm %s: run: %w", c.cfg.Host, err)
	}
	stdout, stderr := &capped{max: c.cfg.MaxOutput}, &capped{max: c.cfg.MaxOutput}
	var wg sync.WaitGroup
	var inErr error
	wg.Add(3)
	go func() {
		defer wg.Done()
		if _, err := cmd.Stdin.Write(stdin); err != nil {
			inErr = err
		}
		if err := cmd.Stdin.Close(); err != nil && inErr == nil {
			inErr = err
		}
	}()
	go func() { defer wg.Done(); _, _ = io.Copy(stdout, cmd.Stdout) }()
	go func() { defer wg.Done(); _, _ = io.Copy(stderr, cmd.Stderr) }()
	cmd.Wait()
	wg.Wait()
	res := Result{Stdout: stdout.b, Stderr: stderr.b, ExitCode: cmd.ExitCode()}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("winrm %s: run: %w: %w", c.cfg.Host, err, fault.ErrTimeout)
	}
	if err := cmdErr(cmd); err != nil {
		return res, fmt.Errorf("winrm %s: run: %w", c.cfg.Host, err)
	}
	if inErr != nil {
		return res, fmt.Errorf("winrm %s: send input: %w", c.cfg.Host, inErr)
	}
	if stdout.over || stderr.over {
		return res, fmt.Errorf("winrm %s: run: output larger than %d bytes: refused", c.cfg.Host, c.cfg.MaxOutput)
	}
	return res, nil
}

// cmdErr is the error the output loop ended with, if any (masterzen/winrm
// keeps it unexported behind Wait).
func cmdErr(cmd *mwinrm.Command) error {
	// The command's stdout pipe carries the loop's error once it ended.
	buf := make([]byte, 1)
	if _, err := cmd.Stdout.Read(buf); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// capped keeps at most max bytes and remembers whether more came; it never
// fails a write, so the library's output pipes never block.
type capped struct {
	b    []byte
	max  int
	over bool
}

func (w *capped) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room < len(p) {
		w.over = true
		if room > 0 {
			w.b = append(w.b, p[:room]...)
		}
		return len(p), nil
	}
	w.b = append(w.b, p...)
	return len(p), nil
}

// Origin is the address the host sees this client come from: the ClientIP
// Windows reports when the shell opens, else the local address of the
// connection (right unless a NAT or proxy is in between).
func (c *Client) Origin() netip.Addr {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	if a, err := netip.ParseAddr(c.t.clientIP); err == nil {
		return a.WithZone("").Unmap()
	}
	if ta, ok := c.t.local.(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// Close deletes the shell.
func (c *Client) Close() error {
	c.run.Lock()
	defer c.run.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ConnectTimeout)
	defer cancel()
	c.t.setContext(ctx)
	err := c.shell.Close()
	c.t.http.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("winrm %s: close shell: %w", c.cfg.Host, err)
	}
	return nil
}
