package project

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fwpush/fwpush/inventory"
)

// InventoryFiles are the files a Nornir inventory directory is read from.
var InventoryFiles = []string{"hosts.yaml", "groups.yaml", "defaults.yaml", "networks.yaml"}

// InventoryDigest identifies an inventory in any format by the files it is
// read from (inventory.Files): a Nornir directory's as it always was, any
// other's framed by their paths relative to the inventory's directory.
func InventoryDigest(path string) (string, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() && fileExists(filepath.Join(path, "hosts.yaml")) {
		return Digest(path, InventoryFiles...)
	}
	files, err := inventory.Files(path)
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	base := filepath.Dir(files[0])
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		base = path
	}
	names := make([]string, len(files))
	for i, f := range files {
		if names[i], err = filepath.Rel(base, f); err != nil {
			return "", fmt.Errorf("digest: %w", err)
		}
	}
	return Digest(base, names...)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Digest is the SHA-256 of the named files of dir, each framed by its
// name and length; with several names a missing file counts as absent. A
// run and a saved plan identify their inputs by it (never by content: an
// inventory may hold passwords).
func Digest(dir string, names ...string) (string, error) {
	h := sha256.New()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if errors.Is(err, fs.ErrNotExist) && len(names) > 1 {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("digest: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Inputs identify what a project was loaded from.
type Inputs struct {
	PlaybookFile    string `json:"playbook_file"`
	PlaybookSHA256  string `json:"playbook_sha256"`
	Inventory       string `json:"inventory"`
	InventorySHA256 string `json:"inventory_sha256"`
	Limit           string `json:"limit,omitempty"`
	// Features are the --feature/--no-feature switches the project was
	// loaded with: a saved plan is applied with the same policy.
	Features map[string]bool `json:"features,omitempty"`
}

// ReadInputs identifies a project's files as they are now.
func ReadInputs(o Options) (Inputs, error) {
	in := Inputs{Limit: o.Limit, Features: o.Features}
	var err error
	if in.PlaybookFile, err = filepath.Abs(o.Playbook); err != nil {
		return in, err
	}
	if in.PlaybookSHA256, err = Digest(filepath.Dir(o.Playbook), filepath.Base(o.Playbook)); err != nil {
		return in, err
	}
	if in.Inventory, err = filepath.Abs(o.Inventory); err != nil {
		return in, err
	}
	in.InventorySHA256, err = InventoryDigest(o.Inventory)
	return in, err
}
