package testbed

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
)

// newKey generates an ed25519 key and returns it in OpenSSH private-key
// format (what sshd's HostKey and ssh -i read) with its public half.
func newKey(comment string) ([]byte, ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("public key: %w", err)
	}
	return pem.EncodeToMemory(block), sshPub, nil
}

// writeKeyPair writes path (0600: ssh and sshd refuse readable private keys)
// and path.pub.
func writeKeyPair(path string, priv []byte, pub ssh.PublicKey, comment string) error {
	if err := os.WriteFile(path, priv, 0o600); err != nil {
		return err
	}
	return os.WriteFile(path+".pub", authorizedLine(pub, comment), 0o644)
}

// authorizedLine is pub in authorized_keys format with a comment.
func authorizedLine(pub ssh.PublicKey, comment string) []byte {
	line := bytes.TrimSpace(ssh.MarshalAuthorizedKey(pub))
	return append(append(line, ' '), comment+"\n"...)
}

// knownHostsLine lists a host's key under its name and every address, bare
// (how OpenSSH and x/crypto look up port 22) and as [addr]:22.
func knownHostsLine(name string, addrs []netip.Prefix, key ssh.PublicKey) string {
	patterns := []string{name}
	for _, p := range addrs {
		a := p.Addr().String()
		patterns = append(patterns, a, "["+a+"]:22")
	}
	return strings.Join(patterns, ",") + " " + string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(key))) + "\n"
}
