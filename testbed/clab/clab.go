package clab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// Files of an fwpush inventory copied from the overlay directory as they
// are; hosts.yaml is built from containerlab's.
var overlayFiles = []string{"groups.yaml", "networks.yaml", "defaults.yaml"}

// overlayHost is what the overlay's data.yaml adds to a generated host.
type overlayHost struct {
	// Platform and Groups, when set, replace the generated ones: the
	// generated platform is the node's kind, its groups one label.
	Platform string         `yaml:"platform,omitempty"`
	Groups   []string       `yaml:"groups,omitempty"`
	Port     int            `yaml:"port,omitempty"`
	Data     map[string]any `yaml:"data,omitempty"`
}

// Inventory writes an fwpush inventory to dst: containerlab's generated
// Nornir simple inventory (generated: nornir-simple-inventory.yml) for the
// hosts, their platforms, management addresses and credentials, plus the
// overlay directory's data.yaml (per host: the addresses fwpush filters
// on, ACL bindings, port; roles and platform where the generated ones
// will not do) and its groups, networks and defaults.
//
// A password containerlab wrote is not copied: each becomes a ${ENV}
// reference, and the returned map holds the values to set in the
// environment of whoever loads dst.
func Inventory(generated, overlay, dst string) (map[string]string, error) {
	var hosts map[string]map[string]any
	if err := readYAML(generated, &hosts); err != nil {
		return nil, err
	}
	var extra map[string]overlayHost
	if err := readYAML(filepath.Join(overlay, "data.yaml"), &extra); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(hosts))
	for n := range hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	env := map[string]string{}
	out := yaml.MapSlice{}
	var errs []error
	for i, name := range names {
		h := hosts[name]
		x, ok := extra[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: containerlab node %s has no entry in %s", generated, name, filepath.Join(overlay, "data.yaml")))
			continue
		}
		platform := h["platform"]
		if x.Platform != "" {
			platform = x.Platform
		}
		entry := yaml.MapSlice{{Key: "hostname", Value: h["hostname"]}, {Key: "platform", Value: platform}}
		if u, _ := h["username"].(string); u != "" {
			entry = append(entry, yaml.MapItem{Key: "username", Value: u})
		}
		if pw, _ := h["password"].(string); pw != "" {
			key := fmt.Sprintf("FWPUSH_CLAB_PASSWORD_%d", i)
			env[key] = pw
			entry = append(entry, yaml.MapItem{Key: "password", Value: "${" + key + "}"})
		}
		if x.Port != 0 {
			entry = append(entry, yaml.MapItem{Key: "port", Value: x.Port})
		}
		if len(x.Groups) > 0 {
			entry = append(entry, yaml.MapItem{Key: "groups", Value: x.Groups})
		} else if g, ok := h["groups"]; ok {
			entry = append(entry, yaml.MapItem{Key: "groups", Value: g})
		}
		if len(x.Data) > 0 {
			entry = append(entry, yaml.MapItem{Key: "data", Value: x.Data})
		}
		out = append(out, yaml.MapItem{Key: name, Value: entry})
	}
	for name := range extra {
		if _, ok := hosts[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: %s is no node of the generated inventory %s", filepath.Join(overlay, "data.yaml"), name, generated))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		return nil, err
	}
	header := "# Generated from containerlab's " + filepath.Base(generated) + " and " + filepath.Join(overlay, "data.yaml") + "\n"
	if err := os.WriteFile(filepath.Join(dst, "hosts.yaml"), append([]byte(header), b...), 0o644); err != nil {
		return nil, err
	}
	for _, f := range overlayFiles {
		b, err := os.ReadFile(filepath.Join(overlay, f))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			return nil, err
		}
	}
	return env, nil
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Lab is a deployed topology.
type Lab struct {
	Topology string
	// Dir is containerlab's lab directory (clab-NAME beside the topology).
	Dir string
}

// Deploy runs `containerlab deploy` on the topology file.
func Deploy(ctx context.Context, topology string) (*Lab, error) {
	abs, err := filepath.Abs(topology)
	if err != nil {
		return nil, err
	}
	var top struct {
		Name string `yaml:"name"`
	}
	if err := readYAML(abs, &top); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "containerlab", "deploy", "--reconfigure", "-t", abs)
	cmd.Dir = filepath.Dir(abs)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("containerlab deploy: %w: %s", err, tail(out))
	}
	return &Lab{Topology: abs, Dir: filepath.Join(filepath.Dir(abs), "clab-"+top.Name)}, nil
}

// Destroy removes the lab's containers and its directory.
func (l *Lab) Destroy(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "containerlab", "destroy", "--cleanup", "-t", l.Topology)
	cmd.Dir = filepath.Dir(l.Topology)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("containerlab destroy: %w: %s", err, tail(out))
	}
	return nil
}

// NornirInventory is the Nornir simple inventory containerlab generated.
func (l *Lab) NornirInventory() string { return filepath.Join(l.Dir, "nornir-simple-inventory.yml") }

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}
