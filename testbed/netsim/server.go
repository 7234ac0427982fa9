package netsim

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Server serves a Device's CLI over SSH: password and public-key logins,
// interactive shells (pty-req + shell, as scrapligo's standard transport
// opens them) and exec requests.
type Server struct {
	dev     *Device
	cfg     *ssh.ServerConfig
	hostKey ssh.Signer

	mu     sync.Mutex
	auths  int
	lns    map[net.Listener]bool
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// NewServer returns an SSH server for dev. hostKey nil generates an
// ed25519 key; HostKey returns its public half for known_hosts.
func NewServer(dev *Device, hostKey ssh.Signer) (*Server, error) {
	if hostKey == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("netsim: host key: %w", err)
		}
		if hostKey, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("netsim: host key: %w", err)
		}
	}
	srv := &Server{dev: dev, hostKey: hostKey, lns: map[net.Listener]bool{}, conns: map[net.Conn]bool{}}
	srv.cfg = &ssh.ServerConfig{
		PasswordCallback:  srv.password,
		PublicKeyCallback: srv.publicKey,
		ServerVersion:     "SSH-2.0-fwpush-netsim",
	}
	srv.cfg.AddHostKey(hostKey)
	return srv, nil
}

// HostKey is the server's public host key.
func (srv *Server) HostKey() ssh.PublicKey { return srv.hostKey.PublicKey() }

func (srv *Server) user(name string) *User {
	for i := range srv.dev.opts.Users {
		if srv.dev.opts.Users[i].Name == name {
			return &srv.dev.opts.Users[i]
		}
	}
	return nil
}

// AuthAttempts counts the authentication attempts (password or public
// key) clients made: a test shows a client that distrusts the host key
// sends no credential.
func (srv *Server) AuthAttempts() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.auths
}

func (srv *Server) attempt() {
	srv.mu.Lock()
	srv.auths++
	srv.mu.Unlock()
}

func (srv *Server) password(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
	srv.attempt()
	u := srv.user(c.User())
	if u == nil || u.Password == "" || subtle.ConstantTimeCompare([]byte(u.Password), pw) != 1 {
		return nil, errors.New("netsim: authentication failed")
	}
	return &ssh.Permissions{Extensions: map[string]string{"user": u.Name}}, nil
}

func (srv *Server) publicKey(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	srv.attempt()
	u := srv.user(c.User())
	if u != nil {
		want := key.Marshal()
		for _, k := range u.AuthorizedKeys {
			if subtle.ConstantTimeCompare(k.Marshal(), want) == 1 {
				return &ssh.Permissions{Extensions: map[string]string{"user": u.Name}}, nil
			}
		}
	}
	return nil, errors.New("netsim: authentication failed")
}

// Serve accepts connections on ln until ln or the server is closed. The
// lab creates ln inside a router's network namespace.
func (srv *Server) Serve(ln net.Listener) error {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return errors.New("netsim: server closed")
	}
	srv.lns[ln] = true
	srv.mu.Unlock()
	for {
		conn, err := ln.Accept()
		if err != nil {
			srv.mu.Lock()
			closed := srv.closed
			delete(srv.lns, ln)
			srv.mu.Unlock()
			if closed {
				return nil
			}
			return err
		}
		srv.mu.Lock()
		if srv.closed {
			srv.mu.Unlock()
			conn.Close()
			return nil
		}
		srv.conns[conn] = true
		srv.wg.Add(1)
		srv.mu.Unlock()
		go func() {
			defer srv.wg.Done()
			srv.handle(conn)
			srv.mu.Lock()
			delete(srv.conns, conn)
			srv.mu.Unlock()
		}()
	}
}

// Close stops every listener and drops every connection; device-side
// timers keep running (they belong to the Device).
func (srv *Server) Close() error {
	srv.mu.Lock()
	srv.closed = true
	for ln := range srv.lns {
		ln.Close()
	}
	for c := range srv.conns {
		c.Close()
	}
	srv.mu.Unlock()
	srv.wg.Wait()
	return nil
}

func (srv *Server) handle(conn net.Conn) {
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, srv.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	user := sc.Permissions.Extensions["user"]
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go srv.channel(sc, ch, creqs, user)
	}
}

type ptyReq struct {
	Term   string
	Cols   uint32
	Rows   uint32
	Width  uint32
	Height uint32
	Modes  string
}

func (srv *Server) channel(sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request, user string) {
	var pty *ptyReq
	started := false
	for r := range reqs {
		switch r.Type {
		case "pty-req":
			var p ptyReq
			if err := ssh.Unmarshal(r.Payload, &p); err != nil {
				r.Reply(false, nil)
				continue
			}
			pty = &p
			r.Reply(true, nil)
		case "env":
			r.Reply(true, nil)
		case "window-change":
			if r.WantReply {
				r.Reply(true, nil)
			}
		case "shell":
			if started {
				r.Reply(false, nil)
				continue
			}
			started = true
			r.Reply(true, nil)
			go func() {
				srv.shell(sc, ch, user, pty)
			}()
		case "exec":
			var p struct{ Command string }
			if started || ssh.Unmarshal(r.Payload, &p) != nil {
				r.Reply(false, nil)
				continue
			}
			started = true
			r.Reply(true, nil)
			go srv.exec(sc, ch, user, p.Command, pty != nil)
		default:
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}
}

func (srv *Server) privilege(user string) int {
	if u := srv.user(user); u != nil {
		return u.Privilege
	}
	return 1
}

// exec runs one command as the user's starting mode would, prints its
// output and ends the channel with exit status 0 (the devices report
// refusals in the text, not in the status).
func (srv *Server) exec(sc *ssh.ServerConn, ch ssh.Channel, user, cmd string, pty bool) {
	defer ch.Close()
	s := srv.dev.newSession(user, srv.privilege(user), "exec", nil)
	defer srv.dev.closeSession(s)
	srv.dev.mu.Lock()
	s.remote = remoteHost(sc.RemoteAddr())
	srv.dev.mu.Unlock()
	s.termLen = 0
	out := s.input(cmd)
	if pty {
		out = crlf(out)
	}
	ch.Write([]byte(out))
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
}

// remoteHost is a client's address without its port.
func remoteHost(a net.Addr) string {
	if a == nil {
		return ""
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}
