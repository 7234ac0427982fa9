package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sample is one timed run of one operation.
type Sample struct {
	// Wall is the elapsed time of the command, in seconds.
	Wall float64 `json:"wall_s"`
	// ClientCPU is user+system time of the command and every child it
	// reaped (ssh under xargs, Ansible's workers), in seconds.
	ClientCPU float64 `json:"client_cpu_s"`
	// ServerCPU is what the lab hosts spent: every sshd connection and
	// the commands it ran, in seconds.
	ServerCPU float64 `json:"server_cpu_s"`
	// MachineCPU is the whole machine's busy CPU time meanwhile, in
	// seconds: client, lab, and anything else running on a shared machine.
	MachineCPU float64 `json:"machine_cpu_s"`
}

// TotalCPU is what the benchmarked operation itself cost: client and lab.
// Unlike wall time it does not grow with other load on a shared machine.
func (s Sample) TotalCPU() float64 { return s.ClientCPU + s.ServerCPU }

// OtherCPU is machine CPU the operation did not use: other processes on
// the machine, plus kernel work (softirq) no process is charged for. A
// large value means the wall time is contaminated.
func (s Sample) OtherCPU() float64 { return max(0, s.MachineCPU-s.TotalCPU()) }

// median returns the per-field median of samples (the lower middle one
// for an even count, so it is always a measured value).
func median(samples []Sample) Sample {
	if len(samples) == 0 {
		return Sample{}
	}
	pick := func(get func(Sample) float64) float64 {
		v := make([]float64, len(samples))
		for i, s := range samples {
			v[i] = get(s)
		}
		slices.Sort(v)
		return v[(len(v)-1)/2]
	}
	return Sample{
		Wall:       pick(func(s Sample) float64 { return s.Wall }),
		ClientCPU:  pick(func(s Sample) float64 { return s.ClientCPU }),
		ServerCPU:  pick(func(s Sample) float64 { return s.ServerCPU }),
		MachineCPU: pick(func(s Sample) float64 { return s.MachineCPU }),
	}
}

// command is one external command to time.
type command struct {
	argv     []string
	env      []string // added to the harness's environment
	dir      string
	stdin    string
	wantExit int
	log      string // stdout and stderr go here
	// controlDir is where Ansible's ssh masters keep their sockets.
	controlDir string
}

// timeCommand runs c and times it; sshd lists the lab's sshd masters. The command gets its own process group
// and the whole group is killed when ctx ends, so an interrupted
// ansible-playbook leaves no workers behind.
func timeCommand(ctx context.Context, c command, sshd []int) (Sample, error) {
	logf, err := os.Create(c.log)
	if err != nil {
		return Sample{}, err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = strings.NewReader(c.stdin)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second

	settle(ctx, sshd)
	srv0, err := serverCPU(sshd)
	if err != nil {
		return Sample{}, err
	}
	cpu0, err := machineBusy()
	if err != nil {
		return Sample{}, err
	}
	start := time.Now()
	runErr := cmd.Run()
	wall := time.Since(start)
	cpu1, err := machineBusy()
	if err != nil {
		return Sample{}, err
	}
	var masters time.Duration
	if c.controlDir != "" {
		if masters, err = stopControlMasters(c.controlDir); err != nil {
			return Sample{}, err
		}
	}
	settle(ctx, sshd)
	srv1, err := serverCPU(sshd)
	if err != nil {
		return Sample{}, err
	}
	if ctx.Err() != nil {
		return Sample{}, fmt.Errorf("%s: %w", c.argv[0], ctx.Err())
	}
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		return Sample{}, fmt.Errorf("%s: %w", c.argv[0], runErr)
	}
	if code := cmd.ProcessState.ExitCode(); code != c.wantExit {
		return Sample{}, fmt.Errorf("%s: exit %d, want %d (output in %s)", c.argv[0], code, c.wantExit, c.log)
	}
	// On Linux the rusage wait4 returns covers the child's reaped
	// descendants too.
	s := Sample{Wall: wall.Seconds(), ServerCPU: (srv1 - srv0).Seconds(), MachineCPU: (cpu1 - cpu0).Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.ClientCPU = (time.Duration(ru.Utime.Nano()) + time.Duration(ru.Stime.Nano()) + masters).Seconds()
	}
	return s, nil
}

// clockTick is USER_HZ, the unit of /proc/stat; 100 on every Linux ABI.
const clockTick = 100

// machineBusy returns the machine's total non-idle CPU time since boot.
func machineBusy() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("/proc/stat: %w", err)
	}
	return parseBusy(line)
}

// parseBusy reads the "cpu" line of /proc/stat: user nice system idle
// iowait irq softirq steal …; busy is all but idle and iowait (guest time
// is already inside user).
func parseBusy(line string) (time.Duration, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var ticks int64
	for i, v := range f[1:9] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %q: %w", v, err)
		}
		if i != 3 && i != 4 {
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTick, nil
}
