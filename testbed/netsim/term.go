package netsim

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// terminal is the line discipline of an interactive CLI session: echo,
// line editing (backspace, ^U), ^Z as `end`, the --More-- pager and
// asynchronous device messages.
type terminal struct {
	ch    ssh.Channel
	wmu   sync.Mutex
	echo  bool
	r     *bufio.Reader
	async chan string
	done  chan struct{}
}

func (t *terminal) write(s string) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.ch.Write([]byte(crlf(s)))
}

func (srv *Server) shell(sc *ssh.ServerConn, ch ssh.Channel, user string, pty *ptyReq) {
	defer ch.Close()
	t := &terminal{ch: ch, echo: pty != nil, r: bufio.NewReader(ch), async: make(chan string, 16), done: make(chan struct{})}
	defer close(t.done)
	go func() {
		for {
			select {
			case m := <-t.async:
				t.write(m)
			case <-t.done:
				return
			}
		}
	}()
	dev := srv.dev
	s := dev.newSession(user, srv.privilege(user), "", func(m string) {
		select {
		case t.async <- m:
		default:
		}
	})
	dev.mu.Lock()
	s.tty = fmt.Sprintf("vty%d", s.id)
	s.remote = remoteHost(sc.RemoteAddr())
	s.killf = func() { sc.Close() }
	if pty != nil && pty.Rows > 0 {
		s.termLen = int(pty.Rows)
	}
	if pty != nil && pty.Cols > 0 {
		s.termWidth = int(pty.Cols)
	}
	dev.mu.Unlock()
	defer dev.closeSession(s)
	t.write(dev.d.banner(dev))
	t.write(s.prompt())
	var line []byte
	lastCR := false
	for {
		b, err := t.r.ReadByte()
		if err != nil {
			return
		}
		switch {
		case b == '\n' && lastCR:
			lastCR = false
			continue
		case b == '\r' || b == '\n':
			lastCR = b == '\r'
			if t.echo {
				t.write("\n")
			}
			if !t.run(s, string(line)) {
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
				return
			}
			line = line[:0]
			continue
		case b == 0x7f || b == 0x08:
			if len(line) > 0 {
				line = line[:len(line)-1]
				if t.echo && t.echoOn(s) {
					t.write("\b \b")
				}
			}
		case b == 0x15: // ^U
			line = line[:0]
		case b == 0x03: // ^C abandons the line
			line = line[:0]
			t.write("\n" + s.prompt())
		case b == 0x1a: // ^Z is `end` in configuration modes
			t.write("^Z\n")
			line = line[:0]
			if !t.run(s, "end") {
				return
			}
		case b == 0x1b: // escape sequences (arrow keys) are ignored
			t.r.ReadByte()
			t.r.ReadByte()
		case b >= 0x20:
			line = append(line, b)
			if t.echo && t.echoOn(s) {
				t.write(string(b))
			}
		}
		lastCR = false
	}
}

// echoOn: passwords are not echoed.
func (t *terminal) echoOn(s *session) bool {
	s.dev.mu.Lock()
	defer s.dev.mu.Unlock()
	return s.ask == nil || !strings.Contains(strings.ToLower(s.ask.prompt), "password")
}

// run processes one line and prints its output (paged) and the next
// prompt; false means the session ends.
func (t *terminal) run(s *session, line string) bool {
	out := s.input(line)
	s.dev.mu.Lock()
	quit := s.killAfter
	length := s.termLen
	after := s.after
	s.after = ""
	s.dev.mu.Unlock()
	if !t.page(out, length) {
		// the pager was quit: the rest of the output is dropped
	}
	if quit {
		return false
	}
	t.write(s.prompt() + after)
	return true
}

// page prints out, stopping every length-1 lines at --More-- while the
// terminal length is not 0, as the devices do.
func (t *terminal) page(out string, length int) bool {
	lines := strings.SplitAfter(out, "\n")
	if length <= 1 || len(lines) <= length-1 {
		t.write(out)
		return true
	}
	shown := 0
	budget := length - 1
	for shown < len(lines) {
		end := shown + budget
		if end > len(lines) {
			end = len(lines)
		}
		t.write(strings.Join(lines[shown:end], ""))
		shown = end
		if shown >= len(lines) {
			return true
		}
		t.write(" --More-- ")
		b, err := t.r.ReadByte()
		t.write("\r          \r")
		if err == io.EOF || err != nil {
			return false
		}
		switch b {
		case ' ':
			budget = length - 1
		case '\r', '\n':
			budget = 1
		default:
			return false
		}
	}
	return true
}
