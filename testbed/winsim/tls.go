package winsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// Certs is a lab CA and a server certificate it signed, for a simulated
// host's WinRM HTTPS listener (as a real one needs a certificate in the
// machine store).
type Certs struct {
	// CAPEM is the CA certificate: what a client trusts (winrm_ca_file).
	CAPEM []byte
	// Server is the listener's certificate and key.
	Server tls.Certificate
}

// CA is a lab certificate authority ("fwpush lab simulator (winsim) CA").
type CA struct {
	PEM  []byte
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA makes a CA valid for a day.
func NewCA() (*CA, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fwpush lab simulator (winsim) CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert: cert, key: caKey}, nil
}

// Save writes the CA's certificate to certFile and its key to keyFile
// (mode 0600), for LoadCA in another process (fwp-lab's per-host
// simulators).
func (ca *CA) Save(certFile, keyFile string) error {
	der, err := x509.MarshalECPrivateKey(ca.key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, ca.PEM, 0o644)
}

// LoadCA reads a CA Save wrote.
func LoadCA(certFile, keyFile string) (*CA, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	cblk, _ := pem.Decode(cb)
	kblk, _ := pem.Decode(kb)
	if cblk == nil || kblk == nil {
		return nil, fmt.Errorf("winsim: CA %s, %s: not PEM", certFile, keyFile)
	}
	cert, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("winsim: CA %s: %w", certFile, err)
	}
	key, err := x509.ParseECPrivateKey(kblk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("winsim: CA key %s: %w", keyFile, err)
	}
	return &CA{PEM: cb, cert: cert, key: key}, nil
}

// NewCerts makes a CA and a server certificate for the given names and
// addresses, valid for a day.
func NewCerts(names ...string) (*Certs, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	return ca.Issue(names...)
}

// Issue makes a server certificate for the given names and addresses.
func (ca *CA) Issue(names ...string) (*Certs, error) {
	// Random serials: several processes issue from one saved CA.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caCert, caKey, caDER := ca.cert, ca.key, ca.cert.Raw
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "fwpush lab simulator (winsim)"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else {
			leaf.DNSNames = append(leaf.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	return &Certs{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Server: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}, nil
}

// Listener wraps ln in TLS with the server certificate.
func (c *Certs) Listener(ln net.Listener) net.Listener {
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{c.Server}, MinVersion: tls.VersionTLS12})
}
