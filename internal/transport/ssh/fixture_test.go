package ssh

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

func newEd25519(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newECDSA(t *testing.T) ssh.Signer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeKey writes a fresh unencrypted ed25519 private key and returns its
// path and public key.
func writeKey(t *testing.T, dir, name string) (string, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, filepath.Join(dir, name), block), mustPublicKey(t, priv)
}

// encryptedKey is one passphrase-protected key shared by the tests: its
// bcrypt KDF is slow under -race.
var encryptedKey = sync.OnceValues(func() (ed25519.PrivateKey, *pem.Block) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte("passphrase"))
	if err != nil {
		panic(err)
	}
	return priv, block
})

func writePEM(t *testing.T, path string, block *pem.Block) string {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustPublicKey(t *testing.T, priv ed25519.PrivateKey) ssh.PublicKey {
	t.Helper()
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// writeKnownHosts writes known_hosts lines for addr (host:port) and keys.
func writeKnownHosts(t *testing.T, path, addr string, keys ...ssh.PublicKey) {
	t.Helper()
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintln(&b, knownhosts.Line([]string{addr}, k))
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// fixture is a server plus a client Config that trusts it and can log in.
func fixture(t *testing.T, opts serverOpts) (*testServer, Config) {
	t.Helper()
	dir := t.TempDir()
	keyPath, pub := writeKey(t, dir, "id_ed25519")
	opts.authorized = append(opts.authorized, pub)
	s := newTestServer(t, opts)
	kh := filepath.Join(dir, "known_hosts")
	for _, k := range s.opts.hostKeys {
		writeKnownHosts(t, kh, s.addr, k.PublicKey())
	}
	return s, Config{
		Host: "127.0.0.1", Port: s.port, User: "root",
		IdentityFiles:   []string{keyPath},
		KnownHostsFiles: []string{kh},
		SSHConfigFile:   "none",
		ConnectTimeout:  5 * time.Second,
	}
}
