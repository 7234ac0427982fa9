package clab

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/goccy/go-yaml"
)

// nornirHost is one host of containerlab's nornir-simple-inventory.yml.
type nornirHost struct {
	Hostname string   `yaml:"hostname"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	Platform string   `yaml:"platform"`
	Groups   []string `yaml:"groups"`
}

// Inventory writes into dir an fwpush inventory for a deployed lab: the
// overlay inventory's files (roles, data-plane addresses, ACL bindings,
// networks), each overlay host completed from containerlab's generated
// Nornir inventory (nornirFile) with its management address, and with
// its platform and credentials unless the overlay sets them. A host of
// the overlay that containerlab did not deploy is an error.
func Inventory(nornirFile, overlay, dir string) error {
	var deployed map[string]nornirHost
	b, err := os.ReadFile(nornirFile)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, &deployed); err != nil {
		return fmt.Errorf("%s: %w", nornirFile, err)
	}
	var hosts map[string]map[string]any
	b, err = os.ReadFile(filepath.Join(overlay, "hosts.yaml"))
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, &hosts); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(overlay, "hosts.yaml"), err)
	}
	names := make([]string, 0, len(hosts))
	for n := range hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d, ok := deployed[n]
		if !ok {
			return fmt.Errorf("%s: host %s was not deployed by containerlab", nornirFile, n)
		}
		h := hosts[n]
		h["hostname"] = d.Hostname
		for k, v := range map[string]string{"platform": d.Platform, "username": d.Username, "password": d.Password} {
			if _, set := h[k]; !set && v != "" {
				h[k] = v
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	out, err := yaml.Marshal(hosts)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts.yaml"), out, 0o600); err != nil {
		return err
	}
	for _, f := range []string{"groups.yaml", "defaults.yaml", "networks.yaml"} {
		b, err := os.ReadFile(filepath.Join(overlay, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
