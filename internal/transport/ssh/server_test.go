package ssh

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// serverOpts shapes the in-process sshd used by the tests.
type serverOpts struct {
	hostKeys        []ssh.Signer    // default: one fresh ed25519 key
	password        string          // accepted by "password" auth; "" refuses
	keyboardOnly    bool            // offer keyboard-interactive, not "password"
	authorized      []ssh.PublicKey // accepted by "publickey" auth
	noSFTP          bool            // refuse the sftp subsystem
	ignoreKeepalive bool            // never answer global requests
	env             []string        // extra environment for exec'd commands
	dropFirst       int32           // close the first N TCP connections at once (MaxStartups)
	silent          bool            // accept TCP but never speak SSH
}

// testServer is an SSH server on 127.0.0.1 that runs "exec" requests with
// sh -c, serves sftp and forwards direct-tcpip to loopback only.
type testServer struct {
	t       *testing.T
	opts    serverOpts
	ln      net.Listener
	addr    string
	port    int
	cfg     *ssh.ServerConfig
	wg      sync.WaitGroup
	conns   atomic.Int32 // TCP connections accepted
	authLog atomic.Int32 // every auth attempt, "none" included
	creds   atomic.Int32 // password/publickey/keyboard callbacks run
	pwCalls atomic.Int32 // password or keyboard callbacks run

	mu      sync.Mutex
	users   []string
	forward []string // direct-tcpip destinations
	signals []string
	execs   []string // commands run
	pgids   []int    // process groups of the commands
	sftpOps []string // "open PATH", "remove PATH", "rename A B", "posix-rename A B"
	kaCount int
	open    []net.Conn
}

func newTestServer(t *testing.T, opts serverOpts) *testServer {
	t.Helper()
	if len(opts.hostKeys) == 0 {
		opts.hostKeys = []ssh.Signer{newEd25519(t)}
	}
	s := &testServer{t: t, opts: opts}
	s.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.creds.Add(1)
			for _, k := range opts.authorized {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					s.addUser(c.User())
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		},
		AuthLogCallback: func(ssh.ConnMetadata, string, error) { s.authLog.Add(1) },
	}
	checkPW := func(c ssh.ConnMetadata, pw string) (*ssh.Permissions, error) {
		s.creds.Add(1)
		s.pwCalls.Add(1)
		if opts.password != "" && pw == opts.password {
			s.addUser(c.User())
			return nil, nil
		}
		return nil, errors.New("wrong password")
	}
	if opts.keyboardOnly {
		s.cfg.KeyboardInteractiveCallback = func(c ssh.ConnMetadata, ch ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			ans, err := ch("", "", []string{"Password: "}, []bool{false})
			if err != nil || len(ans) != 1 {
				return nil, errors.New("no answer")
			}
			return checkPW(c, ans[0])
		}
	} else {
		s.cfg.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) { return checkPW(c, string(pw)) }
	}
	for _, k := range opts.hostKeys {
		s.cfg.AddHostKey(k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.addr, s.port = ln, ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

func (s *testServer) addUser(u string) {
	s.mu.Lock()
	s.users = append(s.users, u)
	s.mu.Unlock()
}

func (s *testServer) ops() (execs, sftpOps []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.execs...), append([]string(nil), s.sftpOps...)
}

func (s *testServer) snapshot() (users, forward, signals []string, keepalives int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.users...), append([]string(nil), s.forward...),
		append([]string(nil), s.signals...), s.kaCount
}

func (s *testServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *testServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		n := s.conns.Add(1)
		if n <= s.opts.dropFirst {
			conn.Close() // what sshd does past MaxStartups
			continue
		}
		s.mu.Lock()
		s.open = append(s.open, conn)
		s.mu.Unlock()
		if s.opts.silent {
			continue // held open until close
		}
		s.wg.Add(1)
		go s.handleConn(conn)
	}
}

func (s *testServer) handleConn(conn net.Conn) {
	defer s.wg.Done()
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for req := range reqs {
			if req.Type == "keepalive@openssh.com" {
				s.mu.Lock()
				s.kaCount++
				s.mu.Unlock()
			}
			if !s.opts.ignoreKeepalive {
				req.Reply(false, nil) // as OpenSSH: unknown, but alive
			}
		}
	}()
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			s.wg.Add(1)
			go s.handleSession(ch, creqs)
		case "direct-tcpip":
			s.wg.Add(1)
			go s.handleForward(nc)
		default:
			nc.Reject(ssh.UnknownChannelType, "no")
		}
	}
}

func (s *testServer) handleSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer s.wg.Done()
	defer ch.Close()
	var proc atomic.Pointer[os.Process]
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Cmd string }
			if ssh.Unmarshal(req.Payload, &p) != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			s.mu.Lock()
			s.execs = append(s.execs, p.Cmd)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				status := s.run(ch, p.Cmd, &proc)
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
				ch.Close()
			}()
		case "signal":
			var p struct{ Signal string }
			ssh.Unmarshal(req.Payload, &p)
			s.mu.Lock()
			s.signals = append(s.signals, p.Signal)
			s.mu.Unlock()
			sig := map[string]syscall.Signal{"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL}[p.Signal]
			if pr := proc.Load(); pr != nil && sig != 0 {
				syscall.Kill(-pr.Pid, sig) // the whole process group
			}
		case "subsystem":
			var p struct{ Name string }
			ssh.Unmarshal(req.Payload, &p)
			if p.Name != "sftp" || s.opts.noSFTP {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			srv, err := sftp.NewServer(&sftpRecorder{Channel: ch, s: s})
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				srv.Serve()
				srv.Close()
			}()
		default:
			req.Reply(false, nil)
		}
	}
}

// run executes cmd like sshd would (sh -c) in its own process group.
func (s *testServer) run(ch ssh.Channel, cmd string, proc *atomic.Pointer[os.Process]) int {
	c := exec.Command("sh", "-c", cmd)
	c.Env = append(os.Environ(), s.opts.env...)
	c.Stdout, c.Stderr = ch, ch.Stderr()
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := c.StdinPipe()
	if err != nil {
		return 255
	}
	if err := c.Start(); err != nil {
		return 127
	}
	proc.Store(c.Process)
	s.mu.Lock()
	s.pgids = append(s.pgids, c.Process.Pid)
	s.mu.Unlock()
	go func() { io.Copy(stdin, ch); stdin.Close() }() // ends with the channel
	err = c.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 0
}

// handleForward serves direct-tcpip (ProxyJump) to loopback addresses only.
func (s *testServer) handleForward(nc ssh.NewChannel) {
	defer s.wg.Done()
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if ssh.Unmarshal(nc.ExtraData(), &p) != nil || p.Host != "127.0.0.1" {
		nc.Reject(ssh.Prohibited, "loopback only")
		return
	}
	dst := net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port)))
	s.mu.Lock()
	s.forward = append(s.forward, dst)
	s.mu.Unlock()
	conn, err := net.Dial("tcp", dst)
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		conn.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	done := make(chan struct{}, 2)
	go func() { io.Copy(conn, ch); conn.Close(); done <- struct{}{} }()
	go func() { io.Copy(ch, conn); ch.Close(); done <- struct{}{} }()
	<-done
	<-done
}
