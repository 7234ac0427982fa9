package netsim

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/testbed/enforce"
)

// LoadUsers reads a users file: one account per line, `NAME PRIVILEGE
// [PASSWORD]`, and `key NAME AUTHORIZED-KEY-LINE` lines that add public keys;
// # starts a comment. Errors name the file and line.
func LoadUsers(path string) ([]User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var users []User
	idx := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if fields[0] == "key" {
			if len(fields) < 3 {
				return nil, fmt.Errorf("%s:%d: key: want `key NAME KEY`", path, n)
			}
			i, ok := idx[fields[1]]
			if !ok {
				return nil, fmt.Errorf("%s:%d: key: user %q is not defined above", path, n, fields[1])
			}
			k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.Join(fields[2:], " ")))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: key: %w", path, n, err)
			}
			users[i].AuthorizedKeys = append(users[i].AuthorizedKeys, k)
			continue
		}
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("%s:%d: want `NAME PRIVILEGE [PASSWORD]`", path, n)
		}
		priv, err := strconv.Atoi(fields[1])
		if err != nil || priv < 0 || priv > 15 {
			return nil, fmt.Errorf("%s:%d: privilege: want 0-15, got %q", path, n, fields[1])
		}
		u := User{Name: fields[0], Privilege: priv}
		if len(fields) == 3 {
			u.Password = fields[2]
		}
		idx[u.Name] = len(users)
		users = append(users, u)
	}
	return users, sc.Err()
}

// LoadOrCreateHostKey reads a PEM private key, or creates an ed25519 one
// at path (mode 0600) when the file does not exist.
func LoadOrCreateHostKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		blk, err := ssh.MarshalPrivateKey(priv, "fwp-netsim host key")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
			return nil, err
		}
		return ssh.NewSignerFromKey(priv)
	}
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// WriteStateFile writes st as JSON to path by temp file and rename, so a
// reader never sees half a state.
func WriteStateFile(path string, st enforce.State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
