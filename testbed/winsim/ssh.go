package winsim

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHConfig configures a host's OpenSSH server.
type SSHConfig struct {
	// HostKey is the server's key; nil makes a new ed25519 one.
	HostKey ssh.Signer
	// CmdShell leaves OpenSSH's DefaultShell at cmd.exe. By default it is
	// powershell.exe, as fwpush's README sets it up: each exec request's
	// command is then PowerShell, run by powershell.exe -c.
	CmdShell bool
	// NoConnectionEnv sets neither SSH_CONNECTION nor SSH_CLIENT (as
	// Win32-OpenSSH does for some default shells).
	NoConnectionEnv bool
}

// SSHServer is a host's OpenSSH server (Windows Server 2019+): password
// logins of the host's users, exec requests only, each started through
// the DefaultShell with SSH_CONNECTION and SSH_CLIENT set, as
// Win32-OpenSSH does. A command keeps running when its client goes away
// (a session without a pty is not killed on disconnect), and signal
// requests are refused. No shells, ptys, subsystems or forwarding.
type SSHServer struct {
	dev     *Device
	cfg     *ssh.ServerConfig
	hostKey ssh.Signer
	shell   Shell
	noEnv   bool

	mu     sync.Mutex
	lns    map[net.Listener]bool
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// sshBanner says what the server is before any login.
const sshBanner = "fwpush lab simulator (winsim): not Windows\r\n"

// NewSSHServer returns an OpenSSH server for dev.
func NewSSHServer(dev *Device, c SSHConfig) (*SSHServer, error) {
	key := c.HostKey
	if key == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("winsim: host key: %w", err)
		}
		if key, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("winsim: host key: %w", err)
		}
	}
	s := &SSHServer{dev: dev, hostKey: key, shell: PowerShell, noEnv: c.NoConnectionEnv, lns: map[net.Listener]bool{}, conns: map[net.Conn]bool{}}
	if c.CmdShell {
		s.shell = Cmd
	}
	s.cfg = &ssh.ServerConfig{
		PasswordCallback: s.password,
		ServerVersion:    "SSH-2.0-OpenSSH_for_Windows_9.5 fwpush-lab-simulator-winsim",
		BannerCallback:   func(ssh.ConnMetadata) string { return sshBanner },
	}
	s.cfg.AddHostKey(key)
	return s, nil
}

// HostKey is the server's public host key, for known_hosts.
func (s *SSHServer) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// password accepts the host's users as Windows does: the name in any
// case, alone or with its domain (LAB\fwpush).
func (s *SSHServer) password(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
	for _, u := range s.dev.users {
		if strings.EqualFold(u.Name, c.User()) && subtle.ConstantTimeCompare([]byte(u.Password), pw) == 1 {
			return &ssh.Permissions{Extensions: map[string]string{"user": u.Name}}, nil
		}
	}
	return nil, errors.New("winsim: authentication failed")
}

// Serve accepts connections on ln until ln or the server is closed.
func (s *SSHServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("winsim: server closed")
	}
	s.lns[ln] = true
	s.mu.Unlock()
	for {
		conn, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			delete(s.lns, ln)
			s.mu.Unlock()
			if closed {
				return nil
			}
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return nil
		}
		s.conns[conn] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(conn)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
		}()
	}
}

// Close stops every listener and drops every connection; commands
// started keep running, as on Windows.
func (s *SSHServer) Close() error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *SSHServer) handle(conn net.Conn) {
	defer conn.Close()
	// A client that never finishes the handshake holds nothing for long.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(conn, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	_ = conn.SetDeadline(time.Time{})
	go ssh.DiscardRequests(reqs) // keepalive@openssh.com gets its (negative) reply
	env := map[string]string{"SSH_CONNECTION": sshConnection(conn), "SSH_CLIENT": sshClient(conn)}
	if s.noEnv {
		env = nil
	}
	user := sc.Permissions.Extensions["user"]
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, invented+"only session channels are modelled")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ch, chReqs, user, env)
		}()
	}
}

// session serves one session channel: one exec request.
func (s *SSHServer) session(ch ssh.Channel, reqs <-chan *ssh.Request, user string, env map[string]string) {
	defer ch.Close()
	var done <-chan struct{}
	var p *Process
	inputDone := make(chan struct{})
	for {
		select {
		case req, ok := <-reqs:
			if !ok {
				// The client is gone: the command runs on (Win32-OpenSSH
				// does not kill a session without a pty on disconnect).
				return
			}
			if req.Type != "exec" || p != nil {
				// env, pty-req, shell, subsystem, signal, a second exec.
				_ = req.Reply(false, nil)
				continue
			}
			var cmd struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &cmd); err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			p = s.dev.StartCommand(Command{Line: cmd.Command, User: user, Shell: s.shell, Env: env})
			done = p.Done()
			go func() {
				defer close(inputDone)
				buf := make([]byte, 32<<10)
				for {
					n, err := ch.Read(buf)
					if n > 0 {
						p.Write(buf[:n])
					}
					if err != nil {
						p.CloseInput() // EOF, or the channel closed: the pipe ends
						return
					}
				}
			}()
		case <-done:
			// sshd closes the channel once the command exited; the client
			// has sent its input by then (powershell.exe takes longer to
			// start than a client to write), which a quick simulated
			// command must not turn into a write to a closed channel.
			select {
			case <-inputDone:
			case <-time.After(time.Second):
			}
			res := p.Result()
			_, _ = io.WriteString(ch, res.Stdout)
			_, _ = io.WriteString(ch.Stderr(), res.Stderr)
			status := make([]byte, 4)
			binary.BigEndian.PutUint32(status, uint32(res.ExitCode))
			_, _ = ch.SendRequest("exit-status", false, status)
			_ = ch.CloseWrite()
			return
		}
	}
}

// sshConnection is SSH_CONNECTION: client address and port, server
// address and port.
func sshConnection(c net.Conn) string {
	r, l := addrPort(c.RemoteAddr()), addrPort(c.LocalAddr())
	return fmt.Sprintf("%s %d %s %d", r.Addr(), r.Port(), l.Addr(), l.Port())
}

// sshClient is SSH_CLIENT: client address and port, server port.
func sshClient(c net.Conn) string {
	r, l := addrPort(c.RemoteAddr()), addrPort(c.LocalAddr())
	return fmt.Sprintf("%s %d %d", r.Addr(), r.Port(), l.Port())
}

func addrPort(a net.Addr) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(a.String())
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}
