package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/fwpush/fwpush/drivers/windows"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/labinv"
	"github.com/fwpush/fwpush/testbed/netsim"
	"github.com/fwpush/fwpush/testbed/winsim"
)

// The lab's Windows hosts are the winsim simulator, one process per host
// (`fwp-lab winsim`), started detached inside the host's namespace: it
// outlives `up`, and `down`, which kills every process in the lab's
// namespaces, stops it with the rest. Its files are under STATE/winsim:
// the lab CA (ca.pem, which the written inventory's winrm_ca_file names,
// and its key), SSH host keys, and each host's log.

// winsimDir is the simulators' directory in the state dir.
func winsimDir(state string) string { return filepath.Join(state, "winsim") }

// winsimDaemons is the labinv.DeviceServer of the Windows hosts: it starts
// one `fwp-lab winsim` per host.
type winsimDaemons struct {
	self, state, inventory string

	once  sync.Once
	caErr error
	mu    sync.Mutex
	hosts []string // "name (WinRM|OpenSSH port)", for printing
	// unserved are the hosts left without a simulator, with why.
	unserved []string
}

// servers is what w serves: the Windows hosts.
func (w *winsimDaemons) servers() labinv.Servers { return labinv.Servers{windows.ID: w} }

// print says which Windows hosts answer, and which do not.
func (w *winsimDaemons) print(out io.Writer) {
	if len(w.hosts) > 0 {
		fmt.Fprintf(out, "Windows hosts (the winsim simulator, one process each, logs in %s): %s\n",
			winsimDir(w.state), strings.Join(w.hosts, ", "))
	}
	if len(w.unserved) > 0 {
		fmt.Fprintf(out, "not served (no simulator answers): %s\n", strings.Join(w.unserved, ", "))
	}
}

// envRef reads the variable name of a ${NAME} password.
var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// Serve starts h's simulator and waits until it listens. A host the
// inventory gives no password is left without one (its namespace is
// there, nothing answers): the simulator accepts the inventory's user and
// password, as the host would.
func (w *winsimDaemons) Serve(ctx context.Context, lab *testbed.Lab, h *inventory.Host) error {
	if h.Password == "" {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.unserved = append(w.unserved, h.Name+" (the inventory gives it no password)")
		return nil
	}
	if h.Password.Reveal() == "" {
		if m := envRef.FindStringSubmatch(string(h.Password)); m != nil {
			return fmt.Errorf("the inventory's password is ${%s}, which is unset: export it (any value: the simulator accepts it)", m[1])
		}
		return errors.New("the inventory's password is empty")
	}
	dir := winsimDir(w.state)
	w.once.Do(func() {
		if w.caErr = os.MkdirAll(dir, 0o700); w.caErr != nil {
			return
		}
		var ca *winsim.CA
		if ca, w.caErr = winsim.NewCA(); w.caErr == nil {
			w.caErr = ca.Save(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key"))
		}
	})
	if w.caErr != nil {
		return fmt.Errorf("winsim CA: %w", w.caErr)
	}
	transport := "WinRM"
	if winsim.SSH(h) {
		transport = "OpenSSH"
		key, err := netsim.LoadOrCreateHostKey(filepath.Join(dir, h.Name+".host_key"))
		if err != nil {
			return err
		}
		if err := appendFile(lab.KnownHostsPath(), winsim.KnownHostsLine(h, key.PublicKey())); err != nil {
			return err
		}
	}
	err := startDaemon(ctx, w.self, lab.Namespace(h.Name), filepath.Join(dir, h.Name+".log"),
		"winsim", "--state", w.state, "--inventory", w.inventory, "--host", h.Name)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hosts = append(w.hosts, fmt.Sprintf("%s (%s %d)", h.Name, transport, h.Port))
	return nil
}

// pointAtSimulators adds winrm_ca_file, the lab CA, to the defaults of an
// inventory WriteInventory wrote.
func pointAtSimulators(invDir, state string) error {
	path := filepath.Join(invDir, "defaults.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var header strings.Builder
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		header.WriteString(l)
	}
	defaults := map[string]any{}
	if err := yaml.Unmarshal(b, &defaults); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	data, _ := defaults["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	data[windows.DataWinRMCAFile] = filepath.Join(winsimDir(state), "ca.pem")
	defaults["data"] = data
	out, err := yaml.Marshal(defaults)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(header.String()), out...), 0o644)
}

// winsimCmd is one Windows host's simulator, as `up` starts it: it serves
// the host (WinRM, or OpenSSH when its data says windows_transport: ssh)
// on its address inside its namespace, accepting the inventory's user and
// password, writes "ready" to file descriptor 3 once it listens, and runs
// until SIGINT or SIGTERM (or `down`).
func winsimCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return simulatorCmd(ctx, "winsim", "host", args, stderr, func(state, inv, host string) error {
		return serveWinsim(ctx, state, inv, host)
	})
}

func serveWinsim(ctx context.Context, state, invDir, name string) error {
	lab, err := testbed.Attach(state)
	if err != nil {
		return err
	}
	i, err := inventory.Load(invDir, inventory.WithPlatforms(registry()))
	if err != nil {
		return err
	}
	h := i.Hosts[name]
	if h == nil || h.Platform != windows.ID {
		return fmt.Errorf("not a %s host of %s", windows.ID, invDir)
	}
	dir := winsimDir(state)
	caFile := filepath.Join(dir, "ca.pem")
	ca, err := winsim.LoadCA(caFile, filepath.Join(dir, "ca.key"))
	if err != nil {
		return err
	}
	srv := winsim.NewLabServerCA(ca, caFile, "", h.Username, h.Password.Reveal())
	if winsim.SSH(h) {
		if srv.HostKey, err = netsim.LoadOrCreateHostKey(filepath.Join(dir, h.Name+".host_key")); err != nil {
			return err
		}
	}
	if err := srv.Serve(ctx, lab, h); err != nil {
		return err
	}
	defer srv.Close()
	ready := os.NewFile(3, "ready")
	if ready != nil {
		fmt.Fprintln(ready, "ready")
		ready.Close()
	}
	fmt.Fprintf(os.Stderr, "%s: serving %s:%d\n", time.Now().Format(time.RFC3339), h.Hostname, h.Port)
	<-ctx.Done()
	return nil
}
