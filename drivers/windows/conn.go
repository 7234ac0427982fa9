package windows

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/transport/ssh"
	"github.com/fwpush/fwpush/internal/transport/winrm"
	"github.com/fwpush/fwpush/inventory"
)

// Inventory data keys (host → groups → defaults) for how a Windows host is
// reached. The password is the host's password (a ${ENV} reference keeps
// it out of the inventory).
const (
	// DataTransport: winrm (default) or ssh (PowerShell over OpenSSH).
	DataTransport = "windows_transport"
	// DataWinRMAuth: ntlm (default) or basic (HTTPS only).
	DataWinRMAuth = "winrm_auth"
	// DataWinRMScheme: https (default) or http.
	DataWinRMScheme = "winrm_scheme"
	// DataWinRMCAFile: PEM CAs trusted for the host's certificate (else
	// the system's).
	DataWinRMCAFile = "winrm_ca_file"
	// DataWinRMServerName: the name the certificate must carry (else the
	// hostname).
	DataWinRMServerName = "winrm_server_name"
	// DataWinRMInsecure: true accepts any certificate. Never outside a lab.
	DataWinRMInsecure = "winrm_insecure_skip_tls_verify"
)

// runner runs a program with its data on one connection.
type runner interface {
	run(ctx context.Context, program string, stdin []byte) (stdout, stderr string, code int, err error)
	origin(ctx context.Context) (netip.Addr, error)
	Close() error
}

// dial opens the transport the host's data selects.
func dial(ctx context.Context, t drivers.Target) (runner, error) {
	h := t.Host
	if h == nil {
		return nil, fmt.Errorf("open: no host in target")
	}
	o := t.Options
	switch tr := dataString(h, DataTransport); tr {
	case "", "winrm":
	case "ssh", "openssh":
		return dialSSH(ctx, t)
	default:
		return nil, fmt.Errorf("data.%s %q: want winrm or ssh", DataTransport, tr)
	}
	cfg := winrm.Config{Host: h.Hostname, Port: h.Port, User: h.Username, Password: h.Password.Reveal(),
		Auth: winrm.Auth(strings.ToLower(dataString(h, DataWinRMAuth))), CAFile: dataString(h, DataWinRMCAFile),
		ServerName: dataString(h, DataWinRMServerName), ConnectTimeout: o.ConnectTimeout, CommandTimeout: o.CommandTimeout,
		ConnectRetries: o.ConnectRetries, Dial: t.Dial}
	switch s := strings.ToLower(dataString(h, DataWinRMScheme)); s {
	case "", "https":
	case "http":
		cfg.HTTP = true
	default:
		return nil, fmt.Errorf("data.%s %q: want https or http", DataWinRMScheme, s)
	}
	if v, ok := h.Data[DataWinRMInsecure]; ok {
		b, err := strconv.ParseBool(fmt.Sprint(v))
		if err != nil {
			return nil, fmt.Errorf("data.%s %v: want true or false", DataWinRMInsecure, v)
		}
		cfg.InsecureSkipVerifyTLS = b
	}
	c, err := winrm.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &winrmRunner{c: c}, nil
}

func dataString(h *inventory.Host, key string) string {
	v, ok := h.Data[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(inventory.Secret); ok {
		return s.Reveal()
	}
	return fmt.Sprint(v)
}

type winrmRunner struct{ c *winrm.Client }

func (w *winrmRunner) run(ctx context.Context, program string, stdin []byte) (string, string, int, error) {
	res, err := w.c.Run(ctx, program, stdin)
	return string(res.Stdout), string(res.Stderr), res.ExitCode, err
}

func (w *winrmRunner) origin(context.Context) (netip.Addr, error) { return w.c.Origin(), nil }

func (w *winrmRunner) Close() error { return w.c.Close() }

// dialSSH connects over OpenSSH with the host's SSH settings (its data
// keys, then the run's flags), never through sudo: the account is an
// administrator.
func dialSSH(ctx context.Context, t drivers.Target) (runner, error) {
	cfg, err := t.SSH()
	if err != nil {
		return nil, err
	}
	cfg.Sudo = false
	r := &sshRunner{}
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err == nil {
			r.first = c
		}
		return c, err
	}
	c, err := ssh.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r.c = c
	return r, nil
}

// sshRunner runs programs over OpenSSH, through its DefaultShell
// (powershell.exe or cmd.exe: both run the same powershell.exe command
// line; the status comes back in the output, see ps/bootstrap.ps1).
type sshRunner struct {
	c *ssh.Client
	// first is the TCP connection to the first hop: the device itself
	// unless jump hosts are in between.
	first net.Conn

	mu       sync.Mutex
	seen     netip.Addr // the origin, once read
	seenRead bool
}

func (s *sshRunner) run(ctx context.Context, program string, stdin []byte) (string, string, int, error) {
	res, err := s.c.Run(ctx, winrm.PowerShellCommand(program), bytes.NewReader(stdin))
	return string(res.Stdout), string(res.Stderr), res.ExitStatus, err
}

// origin is the client address of the session's SSH_CONNECTION, which
// Win32-OpenSSH sets as OpenSSH does; when the server sets none, the
// connection's local address if it goes to the device directly (else the
// zero address: unknown, and the lock-out guard says so). Read once per
// connection.
func (s *sshRunner) origin(ctx context.Context) (netip.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seenRead {
		return s.seen, nil
	}
	out, stderr, code, err := invoke(ctx, s, originPS, struct{}{})
	if err == nil && code != 0 {
		err = fmt.Errorf("exit %d: %s", code, firstOf(stderr, out))
	}
	if err != nil {
		return netip.Addr{}, err
	}
	var o struct {
		Connection string `json:"connection"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		return netip.Addr{}, fmt.Errorf("reading SSH_CONNECTION: %w", err)
	}
	a, err := ssh.ParseSSHConnection(o.Connection)
	if err != nil {
		return netip.Addr{}, err
	}
	if !a.IsValid() && s.first != nil && s.first.RemoteAddr().String() == s.c.RemoteAddr().String() {
		if ta, ok := s.first.LocalAddr().(*net.TCPAddr); ok {
			a, _ = netip.AddrFromSlice(ta.IP)
			a = a.Unmap()
		}
	}
	s.seen, s.seenRead = a, true
	return a, nil
}

func (s *sshRunner) Close() error { return s.c.Close() }

// invoke runs a program through the bootstrap with data as its $d, and
// returns its output and status (the one the bootstrap printed last,
// else the exit code: a program that never reached its end).
func invoke(ctx context.Context, r runner, prog string, data any) (stdout, stderr string, code int, err error) {
	in, err := json.Marshal(struct {
		Program string `json:"program"`
		Data    any    `json:"data"`
	}{prog, data})
	if err != nil {
		return "", "", 0, err
	}
	stdout, stderr, code, err = r.run(ctx, bootstrap, in)
	stdout = strings.TrimSpace(stdout)
	if out, st, ok := cutStatus(stdout); ok {
		stdout, code = out, st
	}
	return stdout, clixmlText(stderr), code, err
}

// statusPrefix starts the line the bootstrap ends its output with.
const statusPrefix = "fwpush-status "

// cutStatus splits the bootstrap's status line off a program's output.
func cutStatus(out string) (string, int, bool) {
	i := strings.LastIndex(out, statusPrefix)
	if i < 0 || (i > 0 && out[i-1] != '\n') {
		return out, 0, false
	}
	code, err := strconv.Atoi(strings.TrimSpace(out[i+len(statusPrefix):]))
	if err != nil {
		return out, 0, false
	}
	return strings.TrimSpace(out[:i]), code, true
}

// clixmlText turns the error records powershell.exe writes as CLIXML when
// its stderr is not a console into their text.
func clixmlText(s string) string {
	const mark = "#< CLIXML"
	i := strings.Index(s, mark)
	if i < 0 {
		return strings.TrimSpace(s)
	}
	var objs struct {
		S []struct {
			Kind string `xml:"S,attr"`
			Text string `xml:",chardata"`
		} `xml:"S"`
	}
	if err := xml.Unmarshal([]byte(s[i+len(mark):]), &objs); err != nil {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	for _, e := range objs.S {
		if e.Kind == "Error" {
			b.WriteString(unescapeCLIXML(e.Text))
		}
	}
	return strings.TrimSpace(b.String())
}

// unescapeCLIXML decodes the _xHHHH_ escapes of PowerShell's serializer.
func unescapeCLIXML(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(n))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
