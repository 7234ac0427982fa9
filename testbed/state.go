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
	ClientKey  string      `json:"client_key"`
	KnownHosts string      `json:"known_hosts"`
}

type hostState struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace"`
	Addrs     []netip.Prefix `json:"addrs"`
	TCP       []uint16       `json:"tcp,omitempty"`
	UDP       []uint16       `json:"udp,omitempty"`
	HostKey   string         `json:"host_key"`
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
	}
	for _, h := range l.hosts {
		hs := hostState{
			Name:      h.Name,
			Namespace: nsPrefix(l.cfg.prefix) + h.Name,
			Addrs:     h.Addrs,
			TCP:       h.TCP,
			UDP:       h.UDP,
			HostKey:   string(ssh.MarshalAuthorizedKey(l.hostKeys[h.Name])),
			Pids:      map[string]int{},
		}
		for _, p := range l.procs {
			if p.host == h.Name {
				hs.Pids[p.kind] = p.cmd.Process.Pid
			}
		}
		st.Hosts = append(st.Hosts, hs)
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
		cfg:      config{prefix: st.Prefix, masks: maskedRun},
		dir:      dir,
		ownDir:   true,
		swNS:     st.Switch,
		ctlNS:    st.Controller,
		byName:   map[string]int{},
		fds:      map[string]int{},
		hostKeys: map[string]ssh.PublicKey{},
		created:  st.Namespaces,
		etcDirs:  st.EtcDirs,
		rootLink: st.RootLink,
		rootPeer: st.RootPeer,
	}
	for i, h := range st.Hosts {
		l.hosts = append(l.hosts, HostSpec{Name: h.Name, Addrs: h.Addrs, TCP: h.TCP, UDP: h.UDP})
		l.byName[h.Name] = i
		if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(h.HostKey)); err == nil {
			l.hostKeys[h.Name] = k
		}
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
	return l, nil
}
