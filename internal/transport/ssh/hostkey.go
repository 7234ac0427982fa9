package ssh

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"github.com/fwpush/fwpush/internal/fault"
	"github.com/fwpush/fwpush/internal/shellquote"
)

// HostKeyError reports a host whose key is not (or no longer) the one in
// known_hosts. It wraps fault.ErrHostKey; no credential was sent.
type HostKeyError struct {
	Host        string
	Port        int
	KeyType     string   // type of the key the server offered
	Fingerprint string   // SHA256:... of the key the server offered
	Changed     bool     // known_hosts holds a different key for this host
	Known       []string // file:line of the conflicting entries when Changed
	Files       []string // the known_hosts files consulted
}

func (e *HostKeyError) Error() string {
	first := "~/.ssh/known_hosts"
	if len(e.Files) > 0 {
		first = e.Files[0]
	}
	if e.Changed {
		// Said loudly, as ssh(1) does: this is what an interception looks like.
		return fmt.Sprintf("%v: REMOTE HOST KEY CHANGED for %s port %d: it offered %s %s but %s holds another key; "+
			"this may be an attack. If the change is expected, verify the new fingerprint out of band, "+
			"remove the old entry (ssh-keygen -R %s -f %s) and connect again",
			fault.ErrHostKey, e.Host, e.Port, e.KeyType, e.Fingerprint, strings.Join(e.Known, ", "),
			shellquote.Quote(knownhosts.Normalize(net.JoinHostPort(e.Host, strconv.Itoa(e.Port)))), first)
	}
	return fmt.Sprintf("%v: unknown host %s port %d: it offered %s %s, which is in none of %s; "+
		"verify that fingerprint out of band, then re-run with --trust-on-first-use or add it with "+
		"ssh-keyscan -p %d %s >> %s",
		fault.ErrHostKey, e.Host, e.Port, e.KeyType, e.Fingerprint, strings.Join(e.Files, ", "),
		e.Port, shellquote.Quote(e.Host), first)
}

// Unwrap lets callers test errors.Is(err, fault.ErrHostKey).
func (e *HostKeyError) Unwrap() error { return fault.ErrHostKey }

// knownHostsMu serialises TOFU appends within the process; Clients for many
// devices dial concurrently and share the file.
var knownHostsMu sync.Mutex

// hostKeys checks host keys against known_hosts, strictly unless tofu.
type hostKeys struct {
	files []string // as configured; the first one receives TOFU entries
	tofu  bool
	db    *knownhosts.HostKeyDB
}

func newHostKeys(files []string, tofu bool) (*hostKeys, error) {
	db, err := openDB(files)
	if err != nil {
		return nil, err
	}
	return &hostKeys{files: files, tofu: tofu, db: db}, nil
}

// openDB reads the files that exist; a missing file simply knows no host.
func openDB(files []string) (*knownhosts.HostKeyDB, error) {
	var present []string
	for _, f := range files {
		_, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
		present = append(present, f)
	}
	db, err := knownhosts.NewDB(present...)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	return db, nil
}

// algorithms puts the key types known_hosts has for addr first, so a server
// with several host keys presents the one we can verify rather than failing
// as "changed". The rest follow so a host whose only key type changed gets
// a clear changed-key error instead of "no common algorithm".
func (h *hostKeys) algorithms(addr string) []string {
	known := h.db.HostKeyAlgorithms(addr)
	if len(known) == 0 {
		return nil // the library's default order
	}
	all := known
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if !slices.Contains(all, a) {
			all = append(all, a)
		}
	}
	return all
}

// callback verifies the key of the hop dialled as addr and stores it in
// *seen. It runs during key exchange, before user authentication starts.
func (h *hostKeys) callback(seen *ssh.PublicKey) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if _, ok := remote.(*net.TCPAddr); !ok {
			// Jump channels and custom dialers may not give a TCP address;
			// x/crypto's knownhosts insists on one but checks hostname only.
			remote = &net.TCPAddr{IP: net.IPv4zero}
		}
		err := h.db.HostKeyCallback()(hostname, remote, key)
		if err == nil {
			*seen = key
			return nil
		}
		if knownhosts.IsHostUnknown(err) && h.tofu {
			if err = h.trust(hostname, key); err == nil {
				*seen = key
				return nil
			}
		}
		return h.explain(hostname, key, err)
	}
}

// trust appends key for hostname to the first known_hosts file. It re-reads
// the files under the lock: another Client may have recorded this host a
// moment ago, possibly with a different key, which must then be refused.
func (h *hostKeys) trust(hostname string, key ssh.PublicKey) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	db, err := openDB(h.files)
	if err != nil {
		return err
	}
	err = db.HostKeyCallback()(hostname, &net.TCPAddr{IP: net.IPv4zero}, key)
	if !knownhosts.IsHostUnknown(err) {
		return err // nil: recorded meanwhile; otherwise changed or broken
	}
	path := h.files[0]
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	// A zero remote address keeps the entry to the name we dialled.
	werr := knownhosts.WriteKnownHost(f, hostname, &net.TCPAddr{IP: net.IPv4zero}, key)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("known_hosts: record %s: %w", hostname, werr)
	}
	return nil
}

// explain turns a knownhosts error into a HostKeyError that says what to do.
func (h *hostKeys) explain(hostname string, key ssh.PublicKey, err error) error {
	host, portStr, splitErr := net.SplitHostPort(hostname)
	if splitErr != nil {
		host, portStr = hostname, "22"
	}
	port, _ := strconv.Atoi(portStr)
	e := &HostKeyError{Host: host, Port: port, KeyType: key.Type(),
		Fingerprint: ssh.FingerprintSHA256(key), Files: h.files}
	var ke *xknownhosts.KeyError
	switch {
	case knownhosts.IsHostKeyChanged(err) && errors.As(err, &ke):
		e.Changed = true
		for _, w := range ke.Want {
			e.Known = append(e.Known, fmt.Sprintf("%s:%d", w.Filename, w.Line))
		}
		return e
	case knownhosts.IsHostUnknown(err):
		return e
	}
	// Revoked keys and unreadable files: still a host key failure.
	return fmt.Errorf("%s port %d: %w: %w", host, port, fault.ErrHostKey, err)
}
