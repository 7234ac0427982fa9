package testbed

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// The few fields of a Nornir SimpleInventory the lab needs; everything else
// is ignored. (Package inventory does the full job for fwpush itself.)
type invHost struct {
	Hostname string   `yaml:"hostname"`
	Platform string   `yaml:"platform"`
	Groups   []string `yaml:"groups"`
	Data     struct {
		Addresses []string `yaml:"addresses"`
	} `yaml:"data"`
}

type invGroup struct {
	Platform string   `yaml:"platform"`
	Groups   []string `yaml:"groups"`
}

// linuxPlatforms are the inventory platform names (with aliases) a netns
// host can stand in for; "" is an unset platform.
var linuxPlatforms = map[string]bool{
	"": true, "linux-nftables": true, "linux": true, "nftables": true,
	"linux-iptables": true, "iptables": true,
}

// HostsFromInventory reads a Nornir inventory directory (hosts.yaml, and
// groups.yaml and defaults.yaml for inherited platforms) and returns a lab
// host for every Linux host, sorted by name, with its data.addresses (or its
// hostname when that is an IP) given the lab's prefix lengths. Hosts of
// other platforms are returned in skipped. An address outside the lab's
// ranges is an error: the lab never configures any other.
func HostsFromInventory(dir string) (hosts []HostSpec, skipped []string, err error) {
	var hostMap map[string]*invHost
	if err := readYAML(filepath.Join(dir, "hosts.yaml"), &hostMap, false); err != nil {
		return nil, nil, err
	}
	groups := map[string]*invGroup{}
	if err := readYAML(filepath.Join(dir, "groups.yaml"), &groups, true); err != nil {
		return nil, nil, err
	}
	var defaults invGroup
	if err := readYAML(filepath.Join(dir, "defaults.yaml"), &defaults, true); err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(hostMap))
	for n := range hostMap {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		h := hostMap[n]
		if h == nil {
			h = &invHost{}
		}
		platform := resolvePlatform(h, groups, defaults.Platform)
		if !linuxPlatforms[strings.ToLower(platform)] {
			skipped = append(skipped, fmt.Sprintf("%s (%s)", n, platform))
			continue
		}
		spec, err := hostSpecOf(n, h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hosts = append(hosts, spec)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	return hosts, skipped, nil
}

func hostSpecOf(name string, h *invHost) (HostSpec, error) {
	raw := h.Data.Addresses
	if len(raw) == 0 {
		raw = []string{h.Hostname}
	}
	spec := HostSpec{Name: name}
	for _, s := range raw {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return spec, fmt.Errorf("host %s: address %q: %w", name, s, err)
		}
		p, err := LabPrefix(a)
		if err != nil {
			return spec, fmt.Errorf("host %s: %w", name, err)
		}
		spec.Addrs = append(spec.Addrs, p)
	}
	return spec, nil
}

// resolvePlatform follows Nornir's order: the host, then its groups depth
// first in order, then defaults.
func resolvePlatform(h *invHost, groups map[string]*invGroup, def string) string {
	if h.Platform != "" {
		return h.Platform
	}
	seen := map[string]bool{}
	var walk func(names []string) string
	walk = func(names []string) string {
		for _, n := range names {
			g := groups[n]
			if g == nil || seen[n] {
				continue
			}
			seen[n] = true
			if g.Platform != "" {
				return g.Platform
			}
			if p := walk(g.Groups); p != "" {
				return p
			}
		}
		return ""
	}
	if p := walk(h.Groups); p != "" {
		return p
	}
	return def
}

func readYAML(path string, v any, optional bool) error {
	b, err := os.ReadFile(path)
	if optional && errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
