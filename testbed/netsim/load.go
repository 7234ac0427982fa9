package netsim

import (
	"fmt"
	"strings"
)

// loadConfig parses an initial configuration in the dialect's syntax.
// Blocks the simulator models go through the dialect's own CLI grammar, as
// if typed; everything else is kept verbatim, in place. A modelled block
// the grammar refuses (an ACL using options the simulator does not model)
// is kept verbatim too, and is then unknown to the show commands and the
// enforcement.
func loadConfig(dev *Device, text string) (*Config, error) {
	cfg := newConfig()
	dev.running = cfg
	defer func() { dev.configCmds, dev.mutatingCmds = 0, 0 }()
	var opaque []string
	flush := func() {
		if len(opaque) > 0 {
			cfg.sections = append(cfg.sections, section{kind: secOpaque, lines: opaque})
			opaque = nil
		}
	}
	for _, b := range blocks(text) {
		if b == nil {
			flush()
			continue
		}
		if !modelled(dev.d, b[0]) {
			opaque = append(opaque, b...)
			continue
		}
		flush()
		before := cfg.clone()
		if err := feed(dev, cfg, b); err != nil {
			*cfg = *before
			dev.running = cfg
			cfg.sections = append(cfg.sections, section{kind: secOpaque, lines: b})
		}
	}
	flush()
	return cfg, nil
}

// blocks splits a configuration into top-level blocks (a line at column 0
// and the indented lines under it); nil marks a separator ("!" or blank).
func blocks(text string) [][]string {
	var out [][]string
	var cur []string
	for _, raw := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n") {
		l := strings.TrimRight(raw, " \t")
		t := strings.TrimSpace(l)
		switch {
		case t == "" || t == "!" || t == "end":
			if cur != nil {
				out = append(out, cur)
				cur = nil
			}
			if len(out) == 0 || out[len(out)-1] != nil {
				out = append(out, nil)
			}
			continue
		case isHeaderNoise(t):
			continue
		}
		if l[0] != ' ' && l[0] != '\t' {
			if cur != nil {
				out = append(out, cur)
			}
			cur = []string{l}
			continue
		}
		if cur == nil {
			cur = []string{l}
			continue
		}
		cur = append(cur, l)
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// isHeaderNoise drops the banner lines `show running-config` prints
// before the configuration itself, so saved output loads back.
func isHeaderNoise(t string) bool {
	for _, p := range []string{"Building configuration", "Current configuration :", "!Command:", "!Time:",
		"!Running configuration", "! Command:", "! device:", "Using "} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return strings.HasPrefix(t, "!") && !strings.HasPrefix(t, "!!")
}

func modelled(d dialect, header string) bool {
	f := strings.Fields(header)
	if len(f) < 2 {
		return len(f) == 1 && f[0] == "archive" && d.name() == PlatformIOSXE
	}
	switch f[0] {
	case "hostname", "interface":
		return true
	case "switchname":
		return d.name() == PlatformNXOS
	case "ip":
		if f[1] != "access-list" || len(f) < 3 {
			return false
		}
		if d.name() == PlatformIOSXE {
			return f[2] == "extended"
		}
		return f[2] != "standard"
	case "ipv6":
		return f[1] == "access-list"
	case "object-group":
		return d.name() != PlatformEOS
	case "event":
		return d.name() == PlatformNXOS && len(f) >= 4 && f[1] == "manager" && f[2] == "applet"
	}
	return false
}

// feed runs a block through a configuration-mode session.
func feed(dev *Device, cfg *Config, b []string) error {
	s := &session{dev: dev, d: dev.d, mode: modeConfig, priv: 15, user: "startup", tty: "startup"}
	header := strings.TrimSpace(b[0])
	f := strings.Fields(header)
	if f[0] == "interface" {
		name := strings.Join(f[1:], "")
		if cfg.iface(name) == nil {
			cfg.ifaces[name] = &Interface{Name: name}
			cfg.place(secIface, name, dev.d.order())
		}
	}
	if f[0] == "hostname" || f[0] == "switchname" {
		cfg.place(secHostname, "hostname", dev.d.order())
	}
	s.process(header)
	if s.failed {
		return fmt.Errorf("%q: %s", header, strings.TrimSpace(s.out.String()))
	}
	sub := s.mode
	for _, l := range b[1:] {
		s.out.Reset()
		s.mode = sub
		s.process(strings.TrimSpace(l))
		if s.failed {
			if sub == modeIface {
				// interface lines the simulator does not model are kept
				if i := cfg.iface(s.ifname); i != nil {
					i.Lines = append(i.Lines, strings.TrimSpace(l))
				}
				continue
			}
			return fmt.Errorf("%q: %s", l, strings.TrimSpace(s.out.String()))
		}
	}
	if sub == modeApplet {
		s.setMode(modeConfig)
	}
	return nil
}
