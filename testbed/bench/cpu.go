package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The machine may be shared (other tests, other users), so machine-wide
// CPU is only a noise indicator. The lab's own cost is exact: every SSH
// connection is a child of its host's sshd master, which reaps it, so the
// master's utime+stime+cutime+cstime grows by exactly what the lab spent.

// labSSHD returns the pids of the lab's sshd masters, from the lab.json
// the testbed writes to its state directory.
func labSSHD(labDir string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(labDir, "lab.json"))
	if err != nil {
		return nil, err
	}
	var st struct {
		Hosts []struct {
			Name string         `json:"name"`
			Pids map[string]int `json:"pids"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("lab.json: %w", err)
	}
	var pids []int
	for _, h := range st.Hosts {
		pid := h.Pids["sshd"]
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != "sshd" {
			return nil, fmt.Errorf("%s: pid %d in lab.json is not a running sshd", h.Name, pid)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// procCPU returns a process's own CPU time and, with children, that of the
// children it reaped, from /proc/PID/stat (fields 14–17).
func procCPU(pid int, children bool) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b), children)
}

func parseStatCPU(stat string, children bool) (time.Duration, error) {
	// comm (field 2) may hold spaces and parentheses; fields restart after
	// the last ')'. Field 3 is then f[0], so utime (14) is f[11].
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no ')' in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 15 {
		return 0, fmt.Errorf("stat: %d fields after comm", len(f))
	}
	n := 2
	if children {
		n = 4
	}
	var ticks int64
	for _, v := range f[11 : 11+n] {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: %q: %w", v, err)
		}
		ticks += t
	}
	return time.Duration(ticks) * time.Second / clockTick, nil
}

// serverCPU sums the lab's cost so far over the sshd masters.
func serverCPU(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, pid := range pids {
		d, err := procCPU(pid, true)
		if err != nil {
			return 0, fmt.Errorf("sshd %d: %w", pid, err)
		}
		sum += d
	}
	return sum, nil
}

// settle waits (bounded) until no sshd master has a child left, so the
// connections a command made have been reaped and counted.
func settle(ctx context.Context, pids []int) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		busy := false
		for _, pid := range pids {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
			if err == nil && len(strings.TrimSpace(string(b))) > 0 {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopControlMasters ends the ssh ControlPersist masters Ansible left
// behind for controlDir and returns the CPU they used. They detach from
// ansible-playbook, so its rusage misses them, yet they did every byte of
// its crypto; and while they live, their sshd sessions are not reaped.
func stopControlMasters(controlDir string) (time.Duration, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		// A master renames itself "ssh: <ControlPath> [mux]".
		if !strings.HasPrefix(string(cmdline), "ssh: "+controlDir+"/") {
			continue
		}
		if d, err := procCPU(pid, true); err == nil {
			sum += d
		}
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	return sum, nil
}
