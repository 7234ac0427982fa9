// Package ssh is fwpush's SSH transport: strict known_hosts verification, ~/.ssh/config aliases, ProxyJump, keepalives and atomic file writes over golang.org/x/crypto/ssh.
package ssh
