package bench

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fwpush/fwpush/drivers/linuxnftables"
	"github.com/fwpush/fwpush/inventory"
)

// ansibleFiles is the play, its template and its pinned ansible.cfg.
//
//go:embed ansible
var ansibleFiles embed.FS

// target is one lab host as both the floor and Ansible address it.
type target struct {
	Name, Addr string
}

// targets lists the inventory's hosts by name, refusing what the Ansible
// play cannot push: it speaks nft only.
func targets(inv *inventory.Inventory) ([]target, error) {
	var out []target
	for _, h := range inv.Hosts {
		if h.Platform != linuxnftables.ID {
			return nil, fmt.Errorf("%s: platform %s: the Ansible play pushes nftables only", h.Name, h.Platform)
		}
		out = append(out, target{Name: h.Name, Addr: h.Hostname})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// offlinePlan is the part of `fwpush plan --offline --format json` the
// Ansible play needs: each host's rendered config.
type offlinePlan struct {
	Devices []struct {
		Host    string `json:"host"`
		Desired struct {
			Parts []struct {
				Name string `json:"name"`
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"desired"`
	} `json:"devices"`
}

// renderedTables maps host → its nft table as fwpush renders it, from the
// JSON of an offline plan.
func renderedTables(planJSON []byte) (map[string]string, error) {
	var p offlinePlan
	if err := json.Unmarshal(planJSON, &p); err != nil {
		return nil, fmt.Errorf("offline plan: %w", err)
	}
	out := map[string]string{}
	for _, d := range p.Devices {
		for _, part := range d.Desired.Parts {
			if part.Name == linuxnftables.PartName {
				out[d.Host] = part.Text
			}
		}
		if _, ok := out[d.Host]; !ok {
			return nil, fmt.Errorf("offline plan: %s: no %s part", d.Host, linuxnftables.PartName)
		}
	}
	return out, nil
}

// sshArgs are the client options the floor and Ansible share with
// fwpush's --ssh-config none --known-hosts --identity --agent=false: no
// ssh config, only the lab's known_hosts, strict checking, only the lab key.
func sshArgs(knownHosts, key string) []string {
	return []string{"-F", "none", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=" + knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
		"-o", "IdentitiesOnly=yes", "-i", key}
}

// writeAnsible lays out dir as Ansible's project: the embedded play,
// template and ansible.cfg, hosts.ini and host_vars/<host>.json.
func writeAnsible(dir string, hosts []target, tables map[string]string, knownHosts, key string) error {
	sub, err := fs.Sub(ansibleFiles, "ansible")
	if err != nil {
		return err
	}
	if err := os.CopyFS(dir, sub); err != nil {
		return fmt.Errorf("ansible files: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts.ini"), []byte(inventoryINI(hosts, knownHosts, key)), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "host_vars"), 0o755); err != nil {
		return err
	}
	for _, h := range hosts {
		table, ok := tables[h.Name]
		if !ok {
			return fmt.Errorf("%s: no rendered table", h.Name)
		}
		// JSON is YAML and needs no care about the table's braces/quotes.
		b, err := json.Marshal(map[string]string{"fwpush_ruleset": table})
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "host_vars", h.Name+".json"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// inventoryINI is the Ansible inventory: one group "lab", connection
// settings as group vars.
func inventoryINI(hosts []target, knownHosts, key string) string {
	var b strings.Builder
	b.WriteString("[lab]\n")
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s ansible_host=%s\n", h.Name, h.Addr)
	}
	common := sshArgs(knownHosts, key)
	common = common[:len(common)-2] // the key goes in its own variable
	fmt.Fprintf(&b, "\n[lab:vars]\nansible_user=root\nansible_port=22\nansible_ssh_private_key_file=%s\n"+
		"ansible_ssh_common_args='%s'\nansible_python_interpreter=/usr/bin/python3\n",
		key, strings.Join(common, " "))
	return b.String()
}
