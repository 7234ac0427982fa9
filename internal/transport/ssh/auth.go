package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/fwpush/fwpush/internal/fault"
)

// maxKeyboardRounds bounds keyboard-interactive challenges: a server that
// keeps asking is not going to accept the password.
const maxKeyboardRounds = 8

// agentConn is an open ssh-agent, used during authentication only.
type agentConn struct {
	conn    net.Conn
	signers []ssh.Signer
}

// openAgent connects to $SSH_AUTH_SOCK; no socket means no agent keys, the
// same as ssh(1).
func openAgent() (*agentConn, error) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, nil
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("ssh-agent %s: %w", sock, err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh-agent %s: list keys: %w", sock, err)
	}
	return &agentConn{conn: conn, signers: signers}, nil
}

func (a *agentConn) close() {
	if a != nil {
		a.conn.Close()
	}
}

func (a *agentConn) holds(pub ssh.PublicKey) bool {
	if a == nil || pub == nil {
		return false
	}
	for _, s := range a.signers {
		if bytes.Equal(s.PublicKey().Marshal(), pub.Marshal()) {
			return true
		}
	}
	return false
}

// authMethods builds the methods in the order ssh(1) uses: public keys
// (agent first, then files), password, keyboard-interactive. x/crypto tries
// each method name once, so all keys share one publickey method.
func authMethods(ep endpoint, ag *agentConn, password Secret) ([]ssh.AuthMethod, error) {
	var signers []ssh.Signer
	if ag != nil {
		signers = append(signers, ag.signers...)
	}
	for _, k := range ep.keys {
		s, err := loadKey(k, ag)
		if err != nil {
			return nil, err
		}
		if s != nil {
			signers = append(signers, s)
		}
	}
	var methods []ssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if password != "" {
		pw := string(password)
		methods = append(methods, ssh.Password(pw))
		rounds := 0
		methods = append(methods, ssh.KeyboardInteractive(
			func(_, _ string, questions []string, echos []bool) ([]string, error) {
				if rounds++; rounds > maxKeyboardRounds {
					return nil, errors.New("keyboard-interactive: too many challenges")
				}
				answers := make([]string, len(questions))
				for i := range questions {
					// Only hidden prompts get the password: an echoed one
					// would show it on the device's screen and logs.
					if !echos[i] {
						answers[i] = pw
					}
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("%s: no credentials: set Password, IdentityFiles or UseAgent: %w", ep, fault.ErrAuth)
	}
	return methods, nil
}

// loadKey parses one identity file. It returns nil, nil for a key to skip:
// a file from ssh_config that does not exist, or an encrypted key the agent
// already holds.
func loadKey(k identityFile, ag *agentConn) (ssh.Signer, error) {
	pem, err := os.ReadFile(k.path)
	if errors.Is(err, fs.ErrNotExist) && !k.explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	var pme *ssh.PassphraseMissingError
	if errors.As(err, &pme) {
		pub := pme.PublicKey
		if pub == nil {
			pub = readPublicKey(k.path + ".pub")
		}
		if ag.holds(pub) {
			return nil, nil
		}
		return nil, fmt.Errorf("identity file %s is passphrase-protected and no ssh-agent holds it: "+
			"run `ssh-add %s` and enable UseAgent: %w", k.path, k.path, fault.ErrAuth)
	}
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", k.path, err)
	}
	return s, nil
}

func readPublicKey(path string) ssh.PublicKey {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return pub
}
