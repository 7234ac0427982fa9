package testbed

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fwpush/fwpush/testbed/internal/listen"
)

// waitDelay bounds how long a killed command's output pipes may linger.
const waitDelay = 2 * time.Second

// labEnv is the environment of lab daemons: nothing from the caller's.
var labEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}

// proc is a daemon the lab started.
type proc struct {
	host, kind, log string
	cmd             *exec.Cmd
	done            chan struct{} // closed once the process is reaped
}

// startProc runs argv in a host's namespace, stderr to logPath and stdout to
// stdout or the log. With ns set it goes through `ip netns exec ns` (which
// execs, so the pid is the daemon's) to get the per-host /etc bind mounts;
// otherwise it is forked straight into the namespace nsFd, which is much
// cheaper. The daemon is not tied to a ctx: it lives until Close.
func (l *Lab) startProc(ns string, nsFd int, host, kind string, argv []string, logPath string, stdout *os.File) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	if ns != "" {
		cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
		nsFd = -1
	}
	cmd.Env = labEnv
	cmd.Stderr = logf
	cmd.Stdout = logf
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if l.cfg.detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	if err := startIn(nsFd, cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", kind, err)
	}
	p := &proc{host: host, kind: kind, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

// exited returns an error with the log's tail if p has already exited.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v): %s", p.kind, p.cmd.ProcessState, tail(p.log))
	default:
		return nil
	}
}

// tail returns the end of a log file for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(clip(b, 800))
}

func (l *Lab) writeHostSSHD(h HostSpec, hdir string) error {
	priv, pub, err := newKey("fwpush-lab-" + h.Name)
	if err != nil {
		return err
	}
	if err := writeKeyPair(filepath.Join(hdir, "ssh_host_ed25519_key"), priv, pub, h.Name); err != nil {
		return err
	}
	l.mu.Lock()
	l.hostKeys[h.Name] = pub
	l.mu.Unlock()
	shadow, _ := os.ReadFile("/etc/shadow") // unreadable: assume not locked
	conf := sshdConfig(sshdParams{
		Host:           h.Name,
		Extra:          l.cfg.sshdExtra,
		Addrs:          h.Addrs,
		HostKey:        filepath.Join(hdir, "ssh_host_ed25519_key"),
		PidFile:        filepath.Join(hdir, "sshd.pid"),
		AuthorizedKeys: filepath.Join(l.dir, "authorized_keys"),
		UsePAM:         rootLocked(shadow),
	})
	return os.WriteFile(filepath.Join(hdir, "sshd_config"), []byte(conf), 0o600)
}

// startSSHD starts the host's sshd and waits until it accepts TCP on every
// address and provably sees the per-host /etc and the masks.
func (l *Lab) startSSHD(ctx context.Context, h HostSpec, ns string, fd int, hdir, sshd string) error {
	argv, err := l.hostView(h.Name, []string{sshd, "-D", "-e", "-f", filepath.Join(hdir, "sshd_config")})
	if err != nil {
		return err
	}
	p, err := l.startProc(ns, -1, h.Name, "sshd", argv, filepath.Join(hdir, "sshd.log"), nil)
	if err != nil {
		return err
	}
	for _, a := range h.Addrs {
		if err := l.waitTCP(ctx, fd, netip.AddrPortFrom(a.Addr(), 22), p); err != nil {
			return fmt.Errorf("sshd: %w", err)
		}
	}
	if err := verifyEtc(p.cmd.Process.Pid, ns); err != nil {
		return err
	}
	return verifyMasked(p.cmd.Process.Pid, l.cfg.masks)
}

// hostView wraps argv (to be run by `ip netns exec`) so it sees what a lab
// host's SSH sessions see: the masks, and for a host (not the controller)
// its private directories.
func (l *Lab) hostView(host string, argv []string) ([]string, error) {
	if host != Controller {
		var err error
		if argv, err = withPrivateDirs(filepath.Join(l.dir, "hosts", host), argv); err != nil {
			return nil, err
		}
	}
	return masked(l.cfg.masks, argv), nil
}

// waitTCP polls addr from inside the host's own namespace until it accepts,
// p dies, or the ready timeout passes.
func (l *Lab) waitTCP(ctx context.Context, fd int, addr netip.AddrPort, p *proc) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.readyTimeout)
	defer cancel()
	for {
		err := inNetns(fd, func() error {
			d := net.Dialer{Timeout: time.Second}
			c, err := d.DialContext(ctx, "tcp", addr.String())
			if err == nil {
				c.Close()
			}
			return err
		})
		if err == nil {
			return nil
		}
		if perr := p.exited(); perr != nil {
			return perr
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not accepting after %s: %w (log: %s)", addr, l.cfg.readyTimeout, err, tail(p.log))
		case <-p.done:
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// startListener starts the probe listener and waits for its ready line.
func (l *Lab) startListener(ctx context.Context, h HostSpec, fd int, hdir string, listener []string) error {
	var addrs []string
	for _, a := range h.Addrs {
		addrs = append(addrs, a.Addr().String())
	}
	argv := append(append([]string(nil), listener...),
		"-name", h.Name, "-addr", strings.Join(addrs, ","),
		"-tcp", joinPorts(h.TCP), "-udp", joinPorts(h.UDP))
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	p, err := l.startProc("", fd, h.Name, "listener", argv, filepath.Join(hdir, "listen.log"), w)
	w.Close()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(l.cfg.readyTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	r.SetReadDeadline(deadline)
	line, err := bufio.NewReader(r).ReadString('\n')
	if strings.TrimSpace(line) != listen.Ready {
		// Give a dying listener a moment so its log says why.
		select {
		case <-p.done:
		case <-time.After(200 * time.Millisecond):
		}
		return fmt.Errorf("listener not ready: %v (log: %s)", err, tail(p.log))
	}
	return nil
}

func joinPorts(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

// listenerCommand returns the listener's argv prefix, building fwp-listen if
// the lab needs one and WithListener gave none.
func (l *Lab) listenerCommand() ([]string, error) {
	if l.cfg.listener != nil {
		return l.cfg.listener, nil
	}
	for _, h := range l.hosts {
		if len(h.TCP)+len(h.UDP) > 0 {
			path, err := buildListener()
			if err != nil {
				return nil, err
			}
			return []string{path}, nil
		}
	}
	return nil, nil
}

const listenerPkg = "github.com/fwpush/fwpush/testbed/cmd/fwp-listen"

// buildListener builds fwp-listen once per process into the user's cache
// directory (root-owned under root, unlike a fixed /tmp path another user
// could plant a binary in). Each process builds to a private name and
// renames, so concurrent test binaries never run a half-written file.
var buildListener = sync.OnceValues(func() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("build fwp-listen: %w", err)
	}
	dir := filepath.Join(cache, "fwpush-testbed")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("build fwp-listen: %w", err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build fwp-listen: no go toolchain on PATH (use WithListener): %w", err)
	}
	final := filepath.Join(dir, "fwp-listen")
	tmp := fmt.Sprintf("%s.%d.tmp", final, os.Getpid())
	cmd := exec.Command(goTool, "build", "-o", tmp, listenerPkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build fwp-listen (run from inside the fwpush module, or use WithListener): %w: %s", err, out)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build fwp-listen: %w", err)
	}
	return final, nil
})
