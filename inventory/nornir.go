package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// readNornirFile reads one Nornir hosts file. With no groups file, a group
// a host names is a group with no attributes.
func readNornirFile(f Format) (*rawInventory, error) {
	raw := &rawInventory{label: f.Path, implicit: map[string]bool{}}
	if err := f.doc.Decode(&raw.hosts); err != nil {
		return nil, err
	}
	raw.src.hosts = yamlLoc{f.doc}
	for _, h := range raw.hosts {
		for _, g := range h.Groups {
			raw.implicit[g] = true
		}
	}
	if err := raw.readNetworks(f.Dir); err != nil {
		return nil, err
	}
	return raw, nil
}

// nornirConfig is the inventory section of Nornir's config.yaml, with the
// files it names resolved against the config file's directory.
type nornirConfig struct {
	hosts, groups, defaults string
	transform               bool
}

// nornirConfigFiles reads inventory.plugin and inventory.options of a
// Nornir config (Nornir's other sections are not fwpush's business). Only
// SimpleInventory, Nornir's default, is read.
func nornirConfigFiles(f Format) (nornirConfig, error) {
	inv, _ := f.top["inventory"].(map[string]any)
	cfg := nornirConfig{hosts: "hosts.yaml", groups: "groups.yaml", defaults: "defaults.yaml"}
	if p, ok := inv["plugin"]; ok && p != nil {
		pl := fmt.Sprint(p)
		if pl != "SimpleInventory" && !strings.HasSuffix(pl, ".SimpleInventory") {
			return cfg, f.doc.Errorf([]any{"inventory", "plugin"}, "inventory plugin %s: fwpush reads Nornir's SimpleInventory files", yamlsrc.Quote(pl))
		}
	}
	cfg.transform = inv["transform_function"] != nil
	opts, ok := inv["options"].(map[string]any)
	if !ok && inv["options"] != nil {
		return cfg, f.doc.Errorf([]any{"inventory", "options"}, "options: want host_file, group_file and defaults_file")
	}
	for _, k := range sortedKeys(opts) {
		var into *string
		switch k {
		case "host_file":
			into = &cfg.hosts
		case "group_file":
			into = &cfg.groups
		case "defaults_file":
			into = &cfg.defaults
		default:
			return cfg, f.doc.Errorf([]any{"inventory", "options", k}, "SimpleInventory option %s: want host_file, group_file or defaults_file", yamlsrc.Quote(k))
		}
		s, ok := opts[k].(string)
		if !ok || s == "" {
			return cfg, f.doc.Errorf([]any{"inventory", "options", k}, "%s: want a file name", k)
		}
		*into = s
	}
	// Nornir opens these relative to its working directory; fwpush reads
	// them relative to the config file, which is where Nornir users run it.
	for _, p := range []*string{&cfg.hosts, &cfg.groups, &cfg.defaults} {
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(f.Dir, *p)
		}
	}
	return cfg, nil
}

// readNornirConfig reads the SimpleInventory files a Nornir config.yaml
// names. networks.yaml is read next to config.yaml, else next to the
// hosts file.
func readNornirConfig(f Format) (*rawInventory, error) {
	cfg, err := nornirConfigFiles(f)
	if err != nil {
		return nil, err
	}
	raw := &rawInventory{label: f.Path}
	if cfg.transform {
		raw.warnings = append(raw.warnings, f.doc.Errorf([]any{"inventory", "transform_function"},
			"fwpush does not run Nornir transform functions: the inventory is read as the files say").Error())
	}
	var errs []error
	read := func(path string, required bool, into any) locator {
		doc, err := readYAML(os.DirFS(filepath.Dir(path)), filepath.Base(path), path, required, into)
		if err != nil {
			errs = append(errs, err)
		}
		if doc == nil {
			return nil
		}
		return yamlLoc{doc}
	}
	raw.src.hosts = read(cfg.hosts, true, &raw.hosts)
	raw.src.groups = read(cfg.groups, false, &raw.groups)
	raw.src.defaults = read(cfg.defaults, false, &raw.defaults)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	dir := f.Dir
	if !isFile(filepath.Join(dir, NetworksFile)) {
		dir = filepath.Dir(cfg.hosts)
	}
	if err := raw.readNetworks(dir); err != nil {
		return nil, err
	}
	return raw, nil
}
