package ssh

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// endpoint is one hop after the SSH config file has been applied.
type endpoint struct {
	alias string // as the caller or ProxyJump named it
	host  string // HostName
	port  int
	user  string
	keys  []identityFile
}

// identityFile remembers whether the caller named the file: a missing file
// the caller asked for is an error, one from ssh_config is skipped as
// ssh(1) does.
type identityFile struct {
	path     string
	explicit bool
}

func (e endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

func (e endpoint) String() string {
	if e.alias == e.host || e.alias == e.addr() {
		return e.addr()
	}
	return fmt.Sprintf("%s (%s)", e.alias, e.addr())
}

// plan is a fully resolved Config: the hops to dial, in order, and how to
// verify them.
type plan struct {
	target         endpoint
	jumps          []endpoint
	knownHosts     []string
	tofu           bool
	connectTimeout time.Duration
}

// sshConfig wraps the parsed file so lookups on a nil file (SSHConfigFile
// "none" or absent) return nothing.
type sshConfig struct{ c *ssh_config.Config }

func loadSSHConfig(path string) (sshConfig, error) {
	explicit := path != ""
	if path == "none" {
		return sshConfig{}, nil
	}
	if !explicit {
		home, err := os.UserHomeDir()
		if err != nil {
			return sshConfig{}, nil // no home, no user config: like ssh(1)
		}
		path = filepath.Join(home, ".ssh", "config")
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return sshConfig{}, nil
	}
	if err != nil {
		return sshConfig{}, fmt.Errorf("ssh config: %w", err)
	}
	defer f.Close()
	c, err := ssh_config.Decode(f)
	if err != nil {
		// Misreading a config could send us to the wrong host, so refuse
		// rather than guess (the library does not parse Match blocks).
		return sshConfig{}, fmt.Errorf("ssh config %s: %w (set SSHConfigFile to a simpler file, or \"none\")", path, err)
	}
	return sshConfig{c: c}, nil
}

func (s sshConfig) get(alias, key string) (v string, err error) {
	if s.c == nil {
		return "", nil
	}
	defer func() {
		if r := recover(); r != nil { // the library panics on Match
			err = fmt.Errorf("ssh config: %s for %s: %v", key, alias, r)
		}
	}()
	return s.c.Get(alias, key)
}

func (s sshConfig) getAll(alias, key string) (v []string, err error) {
	if s.c == nil {
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ssh config: %s for %s: %v", key, alias, r)
		}
	}()
	return s.c.GetAll(alias, key)
}

// resolve applies the SSH config file to cfg.
func resolve(cfg Config) (plan, error) {
	if err := cfg.validate(); err != nil {
		return plan{}, err
	}
	sc, err := loadSSHConfig(cfg.SSHConfigFile)
	if err != nil {
		return plan{}, err
	}
	target, err := resolveEndpoint(sc, cfg.Host, cfg.User, cfg.Port, cfg.IdentityFiles)
	if err != nil {
		return plan{}, err
	}
	p := plan{target: target, tofu: cfg.TrustOnFirstUse, connectTimeout: cfg.ConnectTimeout}

	jump := cfg.ProxyJump
	if jump == "" {
		if jump, err = sc.get(cfg.Host, "ProxyJump"); err != nil {
			return plan{}, err
		}
	}
	if jump != "" && !strings.EqualFold(jump, "none") {
		specs, err := parseJumps(jump)
		if err != nil {
			return plan{}, err
		}
		for _, s := range specs {
			// A jump host gets the caller's key files but its own alias
			// lookup; like ssh(1) its user is not the target's user.
			ep, err := resolveEndpoint(sc, s.host, s.user, s.port, cfg.IdentityFiles)
			if err != nil {
				return plan{}, fmt.Errorf("jump host %s: %w", s.host, err)
			}
			p.jumps = append(p.jumps, ep)
		}
	}

	p.knownHosts = cfg.KnownHostsFiles
	if len(p.knownHosts) == 0 {
		v, err := sc.get(cfg.Host, "UserKnownHostsFile")
		if err != nil {
			return plan{}, err
		}
		for _, f := range strings.Fields(v) {
			p.knownHosts = append(p.knownHosts, expand(f, target))
		}
	}
	if len(p.knownHosts) == 0 {
		home, err := os.UserHomeDir()
		if err != nil {
			return plan{}, fmt.Errorf("known_hosts: no KnownHostsFiles and %w", err)
		}
		p.knownHosts = []string{filepath.Join(home, ".ssh", "known_hosts"), "/etc/ssh/ssh_known_hosts"}
	}

	strict, err := sc.get(cfg.Host, "StrictHostKeyChecking")
	if err != nil {
		return plan{}, err
	}
	// Only accept-new maps to TOFU: "no"/"off" would also accept a changed
	// key, which fwpush never does, so they stay strict.
	if strings.EqualFold(strict, "accept-new") {
		p.tofu = true
	}

	if p.connectTimeout == 0 {
		v, err := sc.get(cfg.Host, "ConnectTimeout")
		if err != nil {
			return plan{}, err
		}
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			p.connectTimeout = time.Duration(n) * time.Second
		} else {
			p.connectTimeout = DefaultConnectTimeout
		}
	}
	return p, nil
}

// resolveEndpoint looks alias up in the SSH config file; user, port and
// keys given by the caller win.
func resolveEndpoint(sc sshConfig, alias, usr string, port int, keys []string) (endpoint, error) {
	ep := endpoint{alias: alias, host: alias, port: port, user: usr}
	hostName, err := sc.get(alias, "HostName")
	if err != nil {
		return ep, err
	}
	if hostName != "" {
		ep.host = strings.ReplaceAll(hostName, "%h", alias)
	}
	if ep.port == 0 {
		v, err := sc.get(alias, "Port")
		if err != nil {
			return ep, err
		}
		ep.port = 22
		if v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return ep, fmt.Errorf("ssh config: %s: bad Port %q", alias, v)
			}
			ep.port = n
		}
	}
	if ep.user == "" {
		if ep.user, err = sc.get(alias, "User"); err != nil {
			return ep, err
		}
	}
	if ep.user == "" {
		ep.user = localUser()
	}
	if ep.user == "" {
		return ep, errors.New("no user: set User or $USER")
	}
	for _, k := range keys {
		ep.keys = append(ep.keys, identityFile{path: expand(k, ep), explicit: true})
	}
	files, err := sc.getAll(alias, "IdentityFile")
	if err != nil {
		return ep, err
	}
	for _, f := range files {
		ep.keys = append(ep.keys, identityFile{path: expand(f, ep)})
	}
	return ep, nil
}

func localUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// expand handles the ~ and % tokens ssh_config(5) allows in file names.
func expand(s string, ep endpoint) string {
	home, _ := os.UserHomeDir()
	if s == "~" || strings.HasPrefix(s, "~/") {
		s = home + s[1:]
	}
	if !strings.Contains(s, "%") {
		return s
	}
	r := strings.NewReplacer("%%", "%", "%d", home, "%u", localUser(),
		"%h", ep.host, "%r", ep.user, "%p", strconv.Itoa(ep.port), "%n", ep.alias)
	return r.Replace(s)
}

type jumpSpec struct {
	user, host string
	port       int
}

// parseJumps splits a ProxyJump value: "[user@]host[:port]" or
// "ssh://[user@]host[:port]", comma separated, IPv6 in brackets.
func parseJumps(s string) ([]jumpSpec, error) {
	var out []jumpSpec
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "ssh://")
		if part == "" {
			return nil, fmt.Errorf("proxy jump %q: empty hop", s)
		}
		var j jumpSpec
		if i := strings.LastIndex(part, "@"); i >= 0 {
			j.user, part = part[:i], part[i+1:]
		}
		j.host = part
		if strings.HasPrefix(part, "[") || strings.Count(part, ":") == 1 {
			h, p, err := net.SplitHostPort(part)
			if err != nil {
				return nil, fmt.Errorf("proxy jump %q: %w", s, err)
			}
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("proxy jump %q: bad port %q", s, p)
			}
			j.host, j.port = h, n
		}
		if j.host == "" {
			return nil, fmt.Errorf("proxy jump %q: empty host", s)
		}
		out = append(out, j)
	}
	return out, nil
}
