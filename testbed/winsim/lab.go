package winsim

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/netsim"
)

// LabServer runs a simulated Windows host for each inventory host it is
// given (a labinv.DeviceServer), on the host's address and port inside
// the host's namespace, which enforces the host's firewall rules on real
// packets after every change: WinRM over HTTPS with NTLM, or OpenSSH with
// PowerShell as its default shell when the host's data says
// windows_transport: ssh.
type LabServer struct {
	// User and Password are the account every host accepts.
	User, Password string
	// Clock runs the hosts' scheduled tasks (nil: real time).
	Clock netsim.Clock
	// Rules are every host's initial rules (default: WinRMRule, what a
	// WinRM HTTPS setup adds, and SSHRule for hosts served over SSH).
	Rules []Rule
	// CAFile is where the lab CA's certificate is written: point
	// winrm_ca_file at it.
	CAFile string
	// KnownHostsFile is where the host key of every host served over SSH
	// is written, for ssh_known_hosts (one line per host, its addresses).
	KnownHostsFile string
	// HostKey is the SSH host key of every host served over SSH (nil: a
	// new one per host).
	HostKey ssh.Signer
	// CmdShell serves SSH hosts with cmd.exe as their default shell (see
	// SSHConfig).
	CmdShell bool

	ca      *CA
	mu      sync.Mutex
	devices map[string]*Device
	closers []func() error
}

// WinRMRule admits WinRM over HTTPS from anywhere, as `winrm quickconfig
// -transport:https` and its firewall exception do.
var WinRMRule = Rule{Name: "WINRM-HTTPS-In-TCP", DisplayName: "Windows Remote Management (HTTPS-In)",
	Group: "Windows Remote Management", Protocol: "TCP", LocalPort: []string{"5986"}, Enabled: true}

// SSHRule admits SSH from anywhere, as the OpenSSH server's installation
// adds it.
var SSHRule = Rule{Name: "OpenSSH-Server-In-TCP", DisplayName: "OpenSSH SSH Server (sshd)",
	Group: "OpenSSH Server", Protocol: "TCP", LocalPort: []string{"22"}, Enabled: true}

// NewLabServer makes a lab server whose CA certificate (winsim-ca.pem)
// and SSH known_hosts (winsim_known_hosts) are written in dir.
func NewLabServer(dir, user, password string) (*LabServer, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	f := filepath.Join(dir, "winsim-ca.pem")
	if err := os.WriteFile(f, ca.PEM, 0o644); err != nil {
		return nil, err
	}
	return NewLabServerCA(ca, f, filepath.Join(dir, "winsim_known_hosts"), user, password), nil
}

// NewLabServerCA makes a lab server whose certificates ca issues; caFile
// holds ca's certificate already, knownHosts is KnownHostsFile.
func NewLabServerCA(ca *CA, caFile, knownHosts, user, password string) *LabServer {
	return &LabServer{User: user, Password: password, CAFile: caFile, KnownHostsFile: knownHosts, ca: ca, devices: map[string]*Device{}}
}

// SSH says whether h is reached over OpenSSH rather than WinRM.
func SSH(h *inventory.Host) bool {
	v, _ := h.Data[windows.DataTransport].(string)
	return strings.EqualFold(v, "ssh") || strings.EqualFold(v, "openssh")
}

// Serve starts h's simulated host in lab.
func (s *LabServer) Serve(ctx context.Context, lab *testbed.Lab, h *inventory.Host) error {
	rules := s.Rules
	if rules == nil {
		rules = []Rule{WinRMRule}
		if SSH(h) {
			rules = append(rules, SSHRule)
		}
	}
	dev, err := New(Options{Hostname: h.Name, Users: []User{{Name: s.User, Password: s.Password}}, Clock: s.Clock, Rules: rules})
	if err != nil {
		return err
	}
	enf := enforce.New(lab, h.Name)
	if err := dev.OnChange(ctx, enf.Apply); err != nil {
		return err
	}
	ln, err := lab.Listen(ctx, h.Name, "tcp", net.JoinHostPort(h.Hostname, strconv.Itoa(h.Port)))
	if err != nil {
		return err
	}
	var closer func() error
	if SSH(h) {
		srv, err := NewSSHServer(dev, SSHConfig{HostKey: s.HostKey, CmdShell: s.CmdShell})
		if err != nil {
			ln.Close()
			return err
		}
		if err := s.addKnownHost(h, srv.HostKey()); err != nil {
			ln.Close()
			return err
		}
		go srv.Serve(ln)
		closer = srv.Close
	} else {
		certs, err := s.ca.Issue(h.Hostname)
		if err != nil {
			ln.Close()
			return err
		}
		srv := NewServer(dev, Auth{Negotiate: true})
		go srv.Serve(certs.Listener(ln))
		closer = srv.Close
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.devices[h.Name]; dup {
		closer()
		return fmt.Errorf("winsim: %s served twice", h.Name)
	}
	s.devices[h.Name], s.closers = dev, append(s.closers, closer)
	return nil
}

// addKnownHost appends h's key for its hostname and addresses.
func (s *LabServer) addKnownHost(h *inventory.Host, key ssh.PublicKey) error {
	if s.KnownHostsFile == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.KnownHostsFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(KnownHostsLine(h, key))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// KnownHostsLine is the known_hosts line of h's SSH host key: its
// hostname and every address of its data, on its port.
func KnownHostsLine(h *inventory.Host, key ssh.PublicKey) string {
	names := []string{h.Hostname}
	for _, a := range h.Addresses {
		if a.String() != h.Hostname {
			names = append(names, a.String())
		}
	}
	for i, n := range names {
		names[i] = knownHostsName(n, h.Port)
	}
	return strings.Join(names, ",") + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + "\n"
}

func knownHostsName(host string, port int) string {
	if port == 0 || port == 22 {
		return host
	}
	return "[" + host + "]:" + strconv.Itoa(port)
}

// Device returns the simulated host called name.
func (s *LabServer) Device(name string) *Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.devices[name]
}

// Close stops every host's server.
func (s *LabServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.closers {
		c()
	}
	return nil
}
