package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/logging"
)

// Dial connects to cfg.Host (through its jump hosts), verifies every hop's
// host key against known_hosts before any credential is sent, and logs in.
// Errors wrap fault.ErrHostKey, ErrAuth, ErrTimeout or ErrUnreachable.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	p, err := resolve(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: ssh: %w", cfg.Host, err)
	}
	name := p.target.String()
	hk, err := newHostKeys(p.knownHosts, p.tofu)
	if err != nil {
		return nil, fmt.Errorf("%s: ssh: %w", name, err)
	}
	var ag *agentConn
	if cfg.UseAgent {
		if ag, err = openAgent(); err != nil {
			return nil, fmt.Errorf("%s: ssh: %w", name, err)
		}
		// The agent is needed for authentication only: no forwarding.
		defer ag.close()
	}
	d := dialer{plan: p, hk: hk, agent: ag, password: cfg.Password, dial: cfg.Dial}
	if d.dial == nil {
		d.dial = (&net.Dialer{}).DialContext
	}

	retries := min(cfg.ConnectRetries, MaxConnectRetries)
	backoff := cfg.RetryBackoff
	if backoff == 0 {
		backoff = DefaultRetryBackoff
	}
	maxBackoff := 8 * backoff
	log := logging.From(ctx).With("device", name)
	for attempt := 0; ; attempt++ {
		log.Debug("ssh connect", "user", p.target.user, "jump_hosts", len(p.jumps), "attempt", attempt+1)
		hops, err := d.connect(ctx)
		if err == nil {
			log.Debug("ssh connected", "host_key", ssh.FingerprintSHA256(hops[len(hops)-1].hostKey))
			return newClient(cfg, p, hops), nil
		}
		log.Debug("ssh connect failed", "error", err.Error())
		if attempt >= retries || !transient(err) || ctx.Err() != nil {
			return nil, fmt.Errorf("%s: ssh connect: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: ssh connect: %w (retrying after: %v)", name, ctxKind(ctx.Err()), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

type dialer struct {
	plan     plan
	hk       *hostKeys
	agent    *agentConn
	password Secret
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
}

// hop is one established SSH connection of the chain.
type hop struct {
	ep      endpoint
	client  *ssh.Client
	hostKey ssh.PublicKey
}

// connect makes one attempt through every hop within ConnectTimeout. On
// failure it closes what it opened and says which hop failed.
func (d dialer) connect(ctx context.Context) (hops []hop, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.plan.connectTimeout)
	defer cancel()
	defer func() {
		if err != nil {
			for i := len(hops) - 1; i >= 0; i-- {
				hops[i].client.Close()
			}
		}
	}()
	all := append(append([]endpoint(nil), d.plan.jumps...), d.plan.target)
	for i, ep := range all {
		// The caller names the target; only a jump host needs naming here.
		where := ""
		if i < len(all)-1 {
			where = "jump host " + ep.String() + ": "
		}
		var conn net.Conn
		if i == 0 {
			conn, err = d.dial(ctx, "tcp", ep.addr())
		} else {
			conn, err = hops[i-1].client.DialContext(ctx, "tcp", ep.addr())
		}
		if err != nil {
			return hops, fmt.Errorf("%sdial: %w", where, classify(ctx, err))
		}
		// Only the target gets the password: a jump host is another
		// principal and must not learn the device's credential.
		pw := d.password
		if i < len(all)-1 {
			pw = ""
		}
		h, err := d.handshake(ctx, conn, ep, pw)
		if err != nil {
			return hops, fmt.Errorf("%s%w", where, err)
		}
		hops = append(hops, h)
	}
	return hops, nil
}

// handshake runs SSH key exchange (host key check) and then user auth on
// conn; x/crypto takes no context, so ctx is enforced by closing conn.
func (d dialer) handshake(ctx context.Context, conn net.Conn, ep endpoint, password Secret) (hop, error) {
	auth, err := authMethods(ep, d.agent, password)
	if err != nil {
		conn.Close()
		return hop{}, err
	}
	h := hop{ep: ep}
	cc := &ssh.ClientConfig{
		User:              ep.user,
		Auth:              auth,
		HostKeyCallback:   d.hk.callback(&h.hostKey),
		HostKeyAlgorithms: d.hk.algorithms(ep.addr()),
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // ssh channels do not support it; the AfterFunc covers them
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, ep.addr(), cc)
	if !stop() || err != nil {
		conn.Close()
		if err == nil {
			c.Close()
			err = ctx.Err()
		}
		return hop{}, classify(ctx, err)
	}
	_ = conn.SetDeadline(time.Time{})
	h.client = ssh.NewClient(c, chans, reqs)
	return h, nil
}

// classify wraps err with the drivers error kind the engine acts on.
func classify(ctx context.Context, err error) error {
	var hke *HostKeyError
	switch {
	case errors.As(err, &hke), errors.Is(err, fault.ErrHostKey), errors.Is(err, fault.ErrAuth):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ctxKind(ctx.Err()), err)
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("%w: %w", fault.ErrAuth, err)
	case isTimeout(err):
		return fmt.Errorf("%w: %w", fault.ErrTimeout, err)
	case isUnreachable(err):
		return fmt.Errorf("%w: %w", fault.ErrUnreachable, err)
	}
	return err
}

// ctxKind maps a context error: a passed deadline is a timeout, a
// cancellation stays context.Canceled.
func ctxKind(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", fault.ErrTimeout, err)
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func isUnreachable(err error) bool {
	var dnsErr *net.DNSError
	var oce *ssh.OpenChannelError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &dnsErr) || (errors.As(err, &oce) && oce.Reason == ssh.ConnectionFailed)
}

// transient reports a failure worth another attempt: the peer refused or
// dropped the connection before authentication, as sshd does past
// MaxStartups or while restarting. Host key, auth and timeout errors are
// final.
func transient(err error) bool {
	var dnsErr *net.DNSError
	if errors.Is(err, fault.ErrHostKey) || errors.Is(err, fault.ErrAuth) || errors.Is(err, fault.ErrTimeout) ||
		(errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		return false
	}
	return errors.Is(err, fault.ErrUnreachable)
}
