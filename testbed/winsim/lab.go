package winsim

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/enforce"
	"github.com/fwpush/fwpush/testbed/netsim"
)

// LabServer runs a simulated Windows host for each inventory host it is
// given (a labinv.DeviceServer): WinRM over HTTPS with NTLM on the host's
// address and port, inside the host's namespace, which enforces the
// host's firewall rules on real packets after every change.
type LabServer struct {
	// User and Password are the WinRM account every host accepts.
	User, Password string
	// Clock runs the hosts' scheduled tasks (nil: real time).
	Clock netsim.Clock
	// Rules are every host's initial rules (default: WinRMRule, what a
	// WinRM HTTPS setup adds).
	Rules []Rule
	// CAFile is where the lab CA's certificate is written: point
	// winrm_ca_file at it.
	CAFile string

	ca      *CA
	mu      sync.Mutex
	devices map[string]*Device
	servers []*Server
}

// WinRMRule admits WinRM over HTTPS from anywhere, as `winrm quickconfig
// -transport:https` and its firewall exception do.
var WinRMRule = Rule{Name: "WINRM-HTTPS-In-TCP", DisplayName: "Windows Remote Management (HTTPS-In)",
	Group: "Windows Remote Management", Protocol: "TCP", LocalPort: []string{"5986"}, Enabled: true}

// NewLabServer makes a lab server whose CA certificate is written in dir.
func NewLabServer(dir, user, password string) (*LabServer, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	f := filepath.Join(dir, "winsim-ca.pem")
	if err := os.WriteFile(f, ca.PEM, 0o644); err != nil {
		return nil, err
	}
	return &LabServer{User: user, Password: password, CAFile: f, ca: ca, devices: map[string]*Device{}}, nil
}

// Serve starts h's simulated host in lab.
func (s *LabServer) Serve(ctx context.Context, lab *testbed.Lab, h *inventory.Host) error {
	rules := s.Rules
	if rules == nil {
		rules = []Rule{WinRMRule}
	}
	dev, err := New(Options{Hostname: h.Name, Users: []User{{Name: s.User, Password: s.Password}}, Clock: s.Clock, Rules: rules})
	if err != nil {
		return err
	}
	enf := enforce.New(lab, h.Name)
	if err := dev.OnChange(ctx, enf.Apply); err != nil {
		return err
	}
	certs, err := s.ca.Issue(h.Hostname)
	if err != nil {
		return err
	}
	ln, err := lab.Listen(ctx, h.Name, "tcp", net.JoinHostPort(h.Hostname, strconv.Itoa(h.Port)))
	if err != nil {
		return err
	}
	srv := NewServer(dev, Auth{Negotiate: true})
	go srv.Serve(certs.Listener(ln))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.devices[h.Name]; dup {
		return fmt.Errorf("winsim: %s served twice", h.Name)
	}
	s.devices[h.Name], s.servers = dev, append(s.servers, srv)
	return nil
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
	for _, srv := range s.servers {
		srv.Close()
	}
	return nil
}
