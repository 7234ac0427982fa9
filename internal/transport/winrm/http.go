package winrm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/go-ntlmssp"
	mwinrm "github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/fwpush/fwpush/internal/fault"
)

// transporter is the HTTP side of a client. masterzen/winrm's own knows no
// context and reads bodies without bound; this one cancels with the
// running command's context, caps every response, classifies failures
// into fault kinds and remembers what the server says the client's address
// is (the CreateResponse's ClientIP).
type transporter struct {
	cfg  Config
	http *http.Client

	mu       sync.Mutex
	ctx      context.Context // the current call's context
	clientIP string
	local    net.Addr // the last connection's local address
}

func newTransporter(cfg Config) (*transporter, error) {
	t := &transporter{cfg: cfg, ctx: context.Background()}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName,
		InsecureSkipVerify: cfg.InsecureSkipVerifyTLS} //nolint:gosec // an explicit, loudly named opt-in
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = cfg.Host
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", cfg.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	dial := cfg.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	var rt http.RoundTripper = &http.Transport{
		Proxy: nil, // a proxy would see the session; WinRM is reached directly
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
			defer cancel()
			c, err := dial(ctx, network, addr)
			if err == nil {
				t.mu.Lock()
				t.local = c.LocalAddr()
				t.mu.Unlock()
			}
			return c, err
		},
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: cfg.ConnectTimeout,
		// A Receive waits up to the operation timeout for output.
		ResponseHeaderTimeout: operationTimeout(cfg) + 15*time.Second,
		// NTLM authenticates connections, so they are kept; a command's
		// Receive and its stdin's Send run at once, on two of them.
		MaxIdleConnsPerHost: 2,
		DisableCompression:  true,
	}
	if wrapForTest != nil {
		rt = wrapForTest(rt)
	}
	if cfg.Auth == NTLM {
		rt = ntlmssp.Negotiator{RoundTripper: rt}
	}
	t.http = &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
		return errors.New("WinRM endpoint redirected: refused")
	}}
	return t, nil
}

// operationTimeout is the WS-Management OperationTimeout fwpush asks for:
// how long a Receive may wait for output before the server answers empty.
func operationTimeout(cfg Config) time.Duration {
	return min(cfg.CommandTimeout, 20*time.Second)
}

// Transport is called by masterzen/winrm with its endpoint; this
// transporter is configured already.
func (t *transporter) Transport(*mwinrm.Endpoint) error { return nil }

func (t *transporter) setContext(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ctx = ctx
}

func (t *transporter) context() context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ctx
}

// wrapForTest, set by tests only, wraps the HTTP transport under the NTLM
// negotiator.
var wrapForTest func(http.RoundTripper) http.RoundTripper

// handshakeRetries is how many more times a request is sent whose NTLM
// handshake was split across connections.
const handshakeRetries = 2

// Post sends one SOAP request. NTLM authenticates a connection, so its
// challenge and the answer to it must travel on one; net/http may dial a
// new connection for the answer when the first is not back in its pool
// yet (a loaded machine), and the server then refuses an answer to a
// challenge it never sent on that connection: that 401 says nothing about
// the credentials, and the request is sent again.
func (t *transporter) Post(client *mwinrm.Client, request *soap.SoapMessage) (string, error) {
	for attempt := 0; ; attempt++ {
		body, split, err := t.post(request)
		if err != nil && split && errors.Is(err, fault.ErrAuth) && attempt < handshakeRetries {
			continue
		}
		return body, err
	}
}

// post sends request once; split says whether its last two round trips
// (an NTLM handshake's challenge and answer) used different connections.
func (t *transporter) post(request *soap.SoapMessage) (body string, split bool, err error) {
	var conns []net.Conn
	// The negotiator's round trips run one after the other.
	ctx := httptrace.WithClientTrace(t.context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { conns = append(conns, i.Conn) }})
	body, err = t.do(ctx, request)
	return body, len(conns) >= 2 && conns[len(conns)-1] != conns[len(conns)-2], err
}

// do sends request once.
func (t *transporter) do(ctx context.Context, request *soap.SoapMessage) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url(), strings.NewReader(request.String()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	// With NTLM the negotiator turns these into the handshake; the
	// password itself never leaves.
	req.SetBasicAuth(t.cfg.User, t.cfg.Password)
	resp, err := t.http.Do(req)
	if err != nil {
		return "", classify(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEnvelope+1))
	if err != nil {
		return "", classify(ctx, err)
	}
	if len(body) > maxEnvelope {
		return "", fmt.Errorf("WinRM response larger than %d bytes: refused", maxEnvelope)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return "", fmt.Errorf("WinRM refused the credentials of %s (HTTP 401, %s): %w", t.cfg.User, t.cfg.Auth, fault.ErrAuth)
	case resp.StatusCode != http.StatusOK:
		if f := parseFault(body); f != "" {
			// masterzen/winrm looks for "OperationTimeout" in this text to
			// tell an empty Receive from a failure.
			return "", fmt.Errorf("WinRM fault (HTTP %d): %s", resp.StatusCode, f)
		}
		return "", fmt.Errorf("WinRM answered HTTP %d", resp.StatusCode)
	case !strings.Contains(resp.Header.Get("Content-Type"), "application/soap+xml"):
		return "", fmt.Errorf("WinRM answered %q, not SOAP", resp.Header.Get("Content-Type"))
	}
	if ip := clientIP(body); ip != "" {
		t.mu.Lock()
		t.clientIP = ip
		t.mu.Unlock()
	}
	return string(body), nil
}

func (t *transporter) url() string {
	scheme := "https"
	if t.cfg.HTTP {
		scheme = "http"
	}
	return scheme + "://" + net.JoinHostPort(t.cfg.Host, fmt.Sprint(t.cfg.Port)) + "/wsman"
}

// classify names what went wrong on the wire.
func classify(ctx context.Context, err error) error {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var op *net.OpError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", err, fault.ErrTimeout)
	case errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &hn):
		return fmt.Errorf("the server's TLS certificate is not trusted (no credential was sent): %w: %w", err, fault.ErrHostKey)
	case isTimeout(err):
		return fmt.Errorf("%w: %w", err, fault.ErrTimeout)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("%w: %w", err, fault.ErrUnreachable)
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// parseFault returns a SOAP fault's reason and WSManFault message.
func parseFault(body []byte) string {
	var env struct {
		Fault struct {
			Code struct {
				Subcode struct {
					Value string `xml:"Value"`
				} `xml:"Subcode"`
			} `xml:"Code"`
			Reason struct {
				Text string `xml:"Text"`
			} `xml:"Reason"`
		} `xml:"Body>Fault"`
	}
	if xml.Unmarshal(body, &env) != nil {
		return ""
	}
	f := env.Fault
	text := strings.TrimSpace(f.Reason.Text)
	if text == "" {
		return ""
	}
	if f.Code.Subcode.Value != "" {
		text = f.Code.Subcode.Value + ": " + text
	}
	return text
}

// clientIP reads the ClientIP a CreateResponse carries (Windows reports
// the address it sees the client at).
func clientIP(body []byte) string {
	if !strings.Contains(string(body), "ClientIP") {
		return ""
	}
	var env struct {
		IP string `xml:"Body>Shell>ClientIP"`
	}
	if xml.Unmarshal(body, &env) != nil {
		return ""
	}
	return strings.TrimSpace(env.IP)
}
