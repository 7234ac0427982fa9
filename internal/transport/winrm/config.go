package winrm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Auth is how the client authenticates.
type Auth string

// Authentication schemes. Kerberos is not offered: masterzen/winrm can do
// it, but fwpush has no KDC to test it against.
const (
	NTLM  Auth = "ntlm"
	Basic Auth = "basic"
)

// Config is one WinRM endpoint and how to reach it.
type Config struct {
	Host     string
	Port     int
	User     string
	Password string
	Auth     Auth
	// HTTP, when set, speaks plain HTTP (port 5985 by convention): the
	// SOAP bodies travel unencrypted, so it is refused with Basic, whose
	// credentials would too.
	HTTP bool
	// CAFile is a PEM bundle of CAs trusted for the server's certificate,
	// instead of the system's. ServerName overrides the name checked in
	// it (default: Host).
	CAFile     string
	ServerName string
	// InsecureSkipVerifyTLS accepts any server certificate: anyone on the
	// path can then read and change the session. Only for labs.
	InsecureSkipVerifyTLS bool
	ConnectTimeout        time.Duration
	// CommandTimeout bounds one program, from sending it to its exit.
	CommandTimeout time.Duration
	// ConnectRetries is how many more times opening the shell is tried
	// when the host is unreachable or slow to answer.
	ConnectRetries int
	// MaxOutput bounds what a program may print on stdout and on stderr
	// (default 64 MiB each); more is an error.
	MaxOutput int
	// Dial replaces the network dialer (the lab dials from a namespace).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Defaults for zero Config fields.
const (
	DefaultHTTPSPort      = 5986
	DefaultHTTPPort       = 5985
	defaultConnectTimeout = 10 * time.Second
	defaultCommandTimeout = 5 * time.Minute
	defaultMaxOutput      = 64 << 20
	// maxEnvelope is the largest SOAP envelope fwpush asks the server to
	// send (WinRM's default MaxEnvelopeSizekb is 500).
	maxEnvelope = 512 << 10
)

func (c Config) withDefaults() Config {
	if c.Auth == "" {
		c.Auth = NTLM
	}
	if c.Port == 0 {
		c.Port = DefaultHTTPSPort
		if c.HTTP {
			c.Port = DefaultHTTPPort
		}
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = defaultConnectTimeout
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = defaultCommandTimeout
	}
	if c.MaxOutput <= 0 {
		c.MaxOutput = defaultMaxOutput
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if strings.TrimSpace(c.Host) == "" {
		errs = append(errs, errors.New("no host"))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", c.Port))
	}
	if c.User == "" {
		errs = append(errs, errors.New("no user name: WinRM needs an account"))
	}
	switch c.Auth {
	case NTLM:
	case Basic:
		if c.HTTP {
			errs = append(errs, errors.New("basic authentication over plain HTTP would send the password in clear: use HTTPS"))
		}
	default:
		errs = append(errs, fmt.Errorf("authentication %q: want ntlm or basic", c.Auth))
	}
	if c.HTTP && (c.CAFile != "" || c.InsecureSkipVerifyTLS) {
		errs = append(errs, errors.New("a CA file or skipping TLS verification means nothing over plain HTTP"))
	}
	if c.CAFile != "" && c.InsecureSkipVerifyTLS {
		errs = append(errs, errors.New("a CA file and skipping TLS verification contradict each other"))
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("CA file: %w", err))
		}
	}
	return errors.Join(errs...)
}
