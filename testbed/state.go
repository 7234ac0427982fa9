package testbed

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// stateFile is written into the lab dir so another process can Attach and
// Close the lab (`fwp-lab down`).
const stateFile = "lab.json"

// labState is what Attach needs to rebuild a Lab that can be inspected and
// closed. Pids are informative: Close finds processes by namespace.
type labState struct {
	Prefix     string      `json:"prefix"`
	Switch     string      `json:"switch"`
	Controller string      `json:"controller,omitempty"`
	RootLink   string      `json:"root_link,omitempty"`
	RootPeer   string      `json:"root_peer,omitempty"`
	Namespaces []string    `json:"namespaces"`
	EtcDirs    []string    `json:"etc_dirs"`
	Hosts      []hostState `json:"hosts"`
	// A routed lab's segments and routers.
	Segments   []SegmentSpec `json:"segments,omitempty"`
	Routers    []routerState `json:"routers,omitempty"`
	ClientKey  string        `json:"client_key"`
	KnownHosts string        `json:"known_hosts"`
}

type hostState struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace"`
	Addrs     []netip.Prefix `json:"addrs"`
	TCP       []uint16       `json:"tcp,omitempty"`
	UDP       []uint16       `json:"udp,omitempty"`
	Segment   string         `json:"segment,omitempty"`
	NoSSHD    bool           `json:"no_sshd,omitempty"`
	HostKey   string         `json:"host_key,omitempty"`
	Pids      map[string]int `json:"pids"`
}

type routerState struct {
	RouterSpec
	Namespace string         `json:"namespace"`
	HostKey   string         `json:"host_key,omitempty"`
	Pids      map[string]int `json:"pids"`
}

func (l *Lab) saveState() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := labState{
		Prefix:     l.cfg.prefix,
		Switch:     l.swNS,
		Controller: l.ctlNS,
		RootLink:   l.rootLink,
		RootPeer:   l.rootPeer,
		Namespaces: l.created,
		EtcDirs:    l.etcDirs,
		ClientKey:  filepath.Join(l.dir, "id_ed25519"),
		KnownHosts: filepath.Join(l.dir, "known_hosts"),
		Segments:   l.segments,
	}
	pids := func(name string) map[string]int {
		m := map[string]int{}
		for _, p := range l.procs {
			if p.host == name {
				m[p.kind] = p.cmd.Process.Pid
			}
		}
		return m
	}
	hostKey := func(name string) string {
		if k := l.hostKeys[name]; k != nil {
			return string(ssh.MarshalAuthorizedKey(k))
		}
		return ""
	}
	for _, h := range l.hosts {
		st.Hosts = append(st.Hosts, hostState{
			Name:      h.Name,
			Namespace: nsPrefix(l.cfg.prefix) + h.Name,
			Addrs:     h.Addrs,
			TCP:       h.TCP,
			UDP:       h.UDP,
			Segment:   h.Segment,
			NoSSHD:    h.NoSSHD,
			HostKey:   hostKey(h.Name),
			Pids:      pids(h.Name),
		})
	}
	for _, r := range l.routers {
		st.Routers = append(st.Routers, routerState{
			RouterSpec: r,
			Namespace:  nsPrefix(l.cfg.prefix) + r.Name,
			HostKey:    hostKey(r.Name),
			Pids:       pids(r.Name),
		})
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(l.dir, stateFile), append(b, '\n'), 0o600)
}

// ErrNoLab is returned by Attach when dir holds no lab state.
var ErrNoLab = errors.New("no lab state")

// Attach returns the lab whose state Start saved in dir, typically by
// another process (`fwp-lab up`), so it can be inspected and closed. Exec,
// Namespace, HostKey and the key paths work; DialFrom does too while the
// namespaces exist. Close removes dir.
func Attach(dir string) (*Lab, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("testbed: attach %s: %w", dir, ErrNoLab)
	}
	if err != nil {
		return nil, fmt.Errorf("testbed: attach: %w", err)
	}
	var st labState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("testbed: attach %s: %w", dir, err)
	}
	l := &Lab{
		cfg:          config{prefix: st.Prefix, masks: maskedRun},
		dir:          dir,
		ownDir:       true,
		swNS:         st.Switch,
		ctlNS:        st.Controller,
		byName:       map[string]int{},
		segments:     st.Segments,
		routerByName: map[string]int{},
		fds:          map[string]int{},
		hostKeys:     map[string]ssh.PublicKey{},
		created:      st.Namespaces,
		etcDirs:      st.EtcDirs,
		rootLink:     st.RootLink,
		rootPeer:     st.RootPeer,
	}
	keyOf := func(name, key string) {
		if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key)); err == nil {
			l.hostKeys[name] = k
		}
	}
	for i, h := range st.Hosts {
		l.hosts = append(l.hosts, HostSpec{Name: h.Name, Addrs: h.Addrs, TCP: h.TCP, UDP: h.UDP, Segment: h.Segment, NoSSHD: h.NoSSHD})
		l.byName[h.Name] = i
		keyOf(h.Name, h.HostKey)
	}
	for i, r := range st.Routers {
		l.routers = append(l.routers, r.RouterSpec)
		l.routerByName[r.Name] = i
		keyOf(r.Name, r.HostKey)
	}
	// Namespaces that are already gone are simply skipped.
	for key, ns := range map[string]string{switchHost: st.Switch, Controller: st.Controller} {
		if ns == "" {
			continue
		}
		if fd, err := openNetns(ns); err == nil {
			l.fds[key] = fd
		}
	}
	for _, h := range st.Hosts {
		if fd, err := openNetns(h.Namespace); err == nil {
			l.fds[h.Name] = fd
		}
	}
	for _, r := range st.Routers {
		if fd, err := openNetns(r.Namespace); err == nil {
			l.fds[r.Name] = fd
		}
	}
	return l, nil
}
