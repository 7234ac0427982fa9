package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fwpush/fwpush/internal/yamlsrc"
)

// Kind is an inventory format fwpush reads.
type Kind string

// The formats, as Detect tells them apart.
const (
	// NornirDir is a Nornir SimpleInventory directory: hosts.yaml, and
	// groups.yaml and defaults.yaml when present.
	NornirDir Kind = "nornir"
	// NornirFile is one Nornir hosts file (containerlab's
	// nornir-simple-inventory.yml); the groups it names need no
	// definition.
	NornirFile Kind = "nornir-hosts"
	// NornirConfig is Nornir's config.yaml, whose inventory.options name
	// the SimpleInventory files (relative to the config file).
	NornirConfig Kind = "nornir-config"
	// AnsibleINI and AnsibleYAML are Ansible inventory files, with the
	// group_vars/ and host_vars/ directories next to them.
	AnsibleINI  Kind = "ansible-ini"
	AnsibleYAML Kind = "ansible-yaml"
	// Containerlab is the topology-data.json a deployed lab exports.
	Containerlab Kind = "containerlab"
)

// Format is a detected inventory: its kind, the file (or, for NornirDir,
// the directory) to read, and the directory networks.yaml is read from.
type Format struct {
	Kind Kind
	Path string
	Dir  string
	// doc and top are the file as parsed to detect it (YAML and JSON),
	// so it is read once.
	doc *yamlsrc.Doc
	top map[string]any
}

// accepted says what Detect accepts, for its errors.
const accepted = `fwpush reads:
  - a Nornir SimpleInventory directory (hosts.yaml; groups.yaml, defaults.yaml optional)
  - a Nornir hosts file (.yaml, .yml), or Nornir's config.yaml naming one
  - an Ansible inventory file, INI (.ini, .cfg or no extension) or YAML (.yml, .yaml, .json),
    with group_vars/ and host_vars/ next to it; ansible-inventory --list -y turns any other into one
  - containerlab's files: topology-data.json (or the lab directory holding it),
    ansible-inventory.yml, nornir-simple-inventory.yml
and fwpush's networks.yaml next to any of them (optional)`

// Detect tells which format the inventory at path is in:
//
//   - a directory holding hosts.yaml is a Nornir SimpleInventory; else
//     one holding a Nornir config.yaml is read through it; else one
//     holding topology-data.json is a containerlab lab directory.
//   - a file named hosts.yaml is read as its directory.
//   - a .yaml, .yml or .json file is read by its shape: a top-level
//     "inventory" with a plugin or options is Nornir's config.yaml; groups
//     with hosts, vars or children are an Ansible YAML inventory; hosts with
//     Nornir's fields (hostname, platform, groups, data, …) a Nornir hosts
//     file; nodes and a "clab" section containerlab's topology data.
//   - a .ini or .cfg file, or one with no extension (Ansible's "hosts"), is
//     an Ansible INI inventory.
//
// Anything else is an error that lists what is accepted.
func Detect(path string) (Format, error) {
	if path == "" {
		return Format{}, errors.New("no inventory: pass -i PATH")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Format{}, fmt.Errorf("inventory: %w", err)
	}
	if fi.IsDir() {
		return detectDir(path)
	}
	if filepath.Base(path) == "hosts.yaml" {
		return Format{Kind: NornirDir, Path: filepath.Dir(path), Dir: filepath.Dir(path)}, nil
	}
	dir := filepath.Dir(path)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return detectYAML(path, dir)
	case ".ini", ".cfg", "":
		return Format{Kind: AnsibleINI, Path: path, Dir: dir}, nil
	}
	return Format{}, fmt.Errorf("inventory %s: not a file fwpush reads (by its extension); %s", path, accepted)
}

func detectDir(dir string) (Format, error) {
	if isFile(filepath.Join(dir, "hosts.yaml")) {
		return Format{Kind: NornirDir, Path: dir, Dir: dir}, nil
	}
	for _, name := range []string{"config.yaml", "config.yml"} {
		p := filepath.Join(dir, name)
		if !isFile(p) {
			continue
		}
		if f, err := detectYAML(p, dir); err == nil && f.Kind == NornirConfig {
			return f, nil
		}
	}
	if p := filepath.Join(dir, "topology-data.json"); isFile(p) {
		return detectYAML(p, dir)
	}
	return Format{}, fmt.Errorf("inventory %s: a directory without hosts.yaml (Nornir), a Nornir config.yaml or topology-data.json (containerlab); %s", dir, accepted)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// detectYAML reads a YAML or JSON file and tells its format by shape.
func detectYAML(path, dir string) (Format, error) {
	data, err := yamlsrc.ReadFile(path)
	if err != nil {
		return Format{}, fmt.Errorf("inventory: %w", err)
	}
	doc, err := yamlsrc.Parse(path, data)
	if err != nil {
		return Format{}, err
	}
	var top map[string]any
	if err := doc.Decode(&top); err != nil {
		return Format{}, fmt.Errorf("%w (an inventory file is a mapping at its top; %s)", err, accepted)
	}
	f := Format{Path: path, Dir: dir, doc: doc, top: top}
	switch {
	case len(top) == 0:
		return Format{}, fmt.Errorf("inventory %s: the file is empty", path)
	case isClabTopology(top):
		f.Kind = Containerlab
	case top["plugin"] != nil:
		return Format{}, doc.Errorf([]any{"plugin"}, "an Ansible inventory plugin's configuration, which fwpush does not run: write the inventory it makes to a file with ansible-inventory -i %s --list -y > inventory.yml and pass that", path)
	case isNornirConfig(top):
		f.Kind = NornirConfig
	case isAnsibleYAML(top):
		f.Kind = AnsibleYAML
	case isNornirHosts(top):
		f.Kind = NornirFile
	default:
		return Format{}, fmt.Errorf("inventory %s: neither Nornir hosts (hostname, platform, groups, data, …), an Ansible inventory (groups with hosts, vars, children), Nornir's config.yaml nor containerlab's topology data; %s", path, accepted)
	}
	return f, nil
}

func isClabTopology(top map[string]any) bool {
	_, nodes := top["nodes"].(map[string]any)
	_, clab := top["clab"].(map[string]any)
	return nodes && (clab || top["type"] == "clab")
}

func isNornirConfig(top map[string]any) bool {
	inv, ok := top["inventory"].(map[string]any)
	if !ok {
		return false
	}
	_, plugin := inv["plugin"]
	_, opts := inv["options"]
	return plugin || opts
}

func isAnsibleYAML(top map[string]any) bool {
	for _, v := range top {
		if m, ok := v.(map[string]any); ok {
			for _, k := range []string{"hosts", "vars", "children"} {
				if _, ok := m[k]; ok {
					return true
				}
			}
		}
	}
	_, all := top["all"]
	return all
}

var nornirFields = []string{"hostname", "port", "username", "password", "platform", "groups", "data", "connection_options"}

func isNornirHosts(top map[string]any) bool {
	for _, v := range top {
		if m, ok := v.(map[string]any); ok {
			for _, k := range nornirFields {
				if _, ok := m[k]; ok {
					return true
				}
			}
		}
	}
	return false
}

// Files lists the files the inventory at path is read from, for a digest
// that changes whenever what the inventory says may have: the format's
// own files, Ansible's group_vars/ and host_vars/ trees, networks.yaml.
func Files(path string) ([]string, error) {
	f, err := Detect(path)
	if err != nil {
		return nil, err
	}
	var files []string
	switch f.Kind {
	case NornirDir:
		for _, n := range []string{"hosts.yaml", "groups.yaml", "defaults.yaml"} {
			files = append(files, filepath.Join(f.Dir, n))
		}
	case NornirConfig:
		files = append(files, f.Path)
		cfg, err := nornirConfigFiles(f)
		if err != nil {
			return nil, err
		}
		files = append(files, cfg.hosts, cfg.groups, cfg.defaults)
	case AnsibleINI, AnsibleYAML:
		files = append(files, f.Path)
		for _, sub := range []string{"group_vars", "host_vars"} {
			err := filepath.WalkDir(filepath.Join(f.Dir, sub), func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					files = append(files, p)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	default:
		files = append(files, f.Path)
	}
	return append(files, filepath.Join(f.Dir, NetworksFile)), nil
}
