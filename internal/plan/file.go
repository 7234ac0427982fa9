package plan

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fwpush/fwpush/internal/project"
)

// FileFormat names the saved-plan format; a reader refuses any other.
const FileFormat = "fwpush-plan/1"

// File is a saved plan: what was reviewed, and the inputs it was made
// from, identified by digest.
type File struct {
	Format string         `json:"format"`
	Inputs project.Inputs `json:"inputs"`
	Plan   *Plan          `json:"plan"`
}

// Save writes pl, made from p's files as they are now, to path (mode
// 0600, by temp file and rename).
func Save(path string, pl *Plan, p *project.Project) error {
	in, err := project.ReadInputs(p.Options)
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	data, err := json.MarshalIndent(File{Format: FileFormat, Inputs: in, Plan: pl}, "", "  ")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fwpush-plan-*")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return nil
}

// Load reads a saved plan.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("plan file %s: %w", path, err)
	}
	if f.Format != FileFormat {
		return nil, fmt.Errorf("plan file %s: format %q, want %q (saved by another fwpush version?)", path, f.Format, FileFormat)
	}
	if f.Plan == nil || f.Plan.Offline {
		return nil, fmt.Errorf("plan file %s: no live plan in it (an offline plan read no device, so there is nothing to approve)", path)
	}
	return &f, nil
}

// Check refuses a saved plan whose inputs differ from the project's files
// now: the plan was reviewed against other files.
func (f *File) Check(p *project.Project) error {
	now, err := project.ReadInputs(p.Options)
	if err != nil {
		return err
	}
	switch {
	case now.PlaybookSHA256 != f.Inputs.PlaybookSHA256:
		return fmt.Errorf("the playbook %s changed since the plan was saved: run plan again", now.PlaybookFile)
	case now.InventorySHA256 != f.Inputs.InventorySHA256:
		return fmt.Errorf("the inventory %s changed since the plan was saved: run plan again", now.Inventory)
	case !maps.Equal(now.Features, f.Inputs.Features):
		return fmt.Errorf("the plan was saved with features %s, this run switches %s: run plan again", featureList(f.Inputs.Features), featureList(now.Features))
	}
	return nil
}

// featureList shows feature switches as the command line writes them.
func featureList(set map[string]bool) string {
	if len(set) == 0 {
		return "as the playbook declares them"
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if set[name] {
			out = append(out, "--feature "+name)
		} else {
			out = append(out, "--no-feature "+name)
		}
	}
	return strings.Join(out, " ")
}
