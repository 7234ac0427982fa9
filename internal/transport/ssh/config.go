package ssh

import (
	"context"
	"errors"
	"net"
	"time"
)

// Defaults applied by Dial when the Config leaves a field zero.
const (
	DefaultConnectTimeout    = 15 * time.Second
	DefaultKeepaliveInterval = 30 * time.Second
	DefaultRetryBackoff      = 500 * time.Millisecond
	// MaxConnectRetries bounds ConnectRetries so a typo cannot hammer a
	// device's sshd for minutes.
	MaxConnectRetries = 10
)

// Config says how to reach and log in to one device. Fields left empty are
// filled from the SSH config file's entry for Host, then from OpenSSH's
// defaults; fields set here win over the file, as command-line options do
// for ssh(1).
type Config struct {
	// Host is an address or an alias from the SSH config file.
	Host string
	// Port defaults to the SSH config file's Port, then 22.
	Port int
	// User defaults to the SSH config file's User, then the local user.
	User string
	// Password is used for "password" and "keyboard-interactive" auth on
	// the target only; it is never offered to jump hosts.
	Password Secret
	// IdentityFiles are unencrypted private keys; the SSH config file's
	// IdentityFile entries are added after them.
	IdentityFiles []string
	// UseAgent offers the keys of the ssh-agent at $SSH_AUTH_SOCK first.
	UseAgent bool
	// KnownHostsFiles default to the SSH config file's UserKnownHostsFile,
	// then ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
	KnownHostsFiles []string
	// TrustOnFirstUse accepts the key of a host that has no entry yet and
	// appends it to the first KnownHostsFiles entry. A changed key is always
	// refused. StrictHostKeyChecking=accept-new in the SSH config file turns
	// it on too; no setting ever turns verification off.
	TrustOnFirstUse bool
	// ProxyJump is "[user@]host[:port][,next...]": jump hosts dialled in
	// order, each verified against known_hosts. "none" disables a ProxyJump
	// from the SSH config file.
	ProxyJump string
	// SSHConfigFile defaults to ~/.ssh/config (ignored when absent); "none"
	// reads no file.
	SSHConfigFile string
	// ConnectTimeout bounds each connection attempt (TCP, every hop's
	// handshake and auth). Zero means the SSH config file's ConnectTimeout,
	// then DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// CommandTimeout bounds each Run; zero leaves it to the caller's ctx.
	CommandTimeout time.Duration
	// KeepaliveInterval is the period of keepalive@openssh.com requests;
	// three unanswered ones close the connection. Zero means
	// DefaultKeepaliveInterval, negative disables keepalives.
	KeepaliveInterval time.Duration
	// Sudo wraps commands of a non-root user in `sudo -n --`, so a sudo that
	// wants a password fails at once instead of hanging on a prompt.
	Sudo bool
	// Dial, when set, opens the TCP connection to the first hop (the lab
	// dials from inside a network namespace).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error) `json:"-"`
	// ConnectRetries is how many more times a refused or reset connection
	// (for example sshd's MaxStartups) is tried; capped at MaxConnectRetries.
	ConnectRetries int
	// RetryBackoff is the first pause between retries; it doubles each time.
	RetryBackoff time.Duration
}

func (c Config) validate() error {
	switch {
	case c.Host == "":
		return errors.New("config: Host is empty")
	case c.Port < 0 || c.Port > 65535:
		return errors.New("config: Port out of range")
	case c.ConnectRetries < 0:
		return errors.New("config: ConnectRetries is negative")
	case c.ConnectTimeout < 0 || c.CommandTimeout < 0 || c.RetryBackoff < 0:
		return errors.New("config: negative timeout")
	}
	return nil
}
