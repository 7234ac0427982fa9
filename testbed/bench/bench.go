package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fwpush/fwpush/drivers/all"
	"github.com/fwpush/fwpush/inventory"
	"github.com/fwpush/fwpush/testbed"
	"github.com/fwpush/fwpush/testbed/gen"
	"github.com/fwpush/fwpush/testbed/labinv"
)

// Options sizes and tunes a benchmark run.
type Options struct {
	// Fwpush is the fwpush binary to time.
	Fwpush string
	// Hosts, Roles and Flows size the synthetic system (testbed/gen).
	Hosts, Roles, Flows int
	// Forks is the parallelism of all three: xargs -P, fwpush --forks,
	// ansible-playbook -f.
	Forks int
	// Runs is how many times the floors and fwpush are timed;
	// AnsibleRuns how many times Ansible is (a 100-host play takes minutes
	// where fwpush takes seconds). Result reports medians.
	Runs, AnsibleRuns int
	// AnsibleCheck also times `ansible-playbook --check --diff`, Ansible's
	// dry run, against fwpush plan.
	AnsibleCheck bool
	// OpTimeout bounds each timed command; ConfirmTimeout is fwpush
	// apply's --confirm-timeout; ConnectTimeout is fwpush's
	// --connect-timeout and Ansible's timeout (a shared 2-vCPU machine
	// can take longer than the default 10s to finish 64 handshakes).
	OpTimeout, ConfirmTimeout, ConnectTimeout time.Duration
	// Keep keeps the work directory (system, Ansible project, logs) even
	// on success; it is always kept on failure.
	Keep bool
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...any)
}

// Operation names, in the order Run times them in each round.
const (
	OpFloor        = "ssh-floor"
	OpFloorX25519  = "ssh-floor-x25519"
	OpPlan         = "fwpush-plan"
	OpApply        = "fwpush-apply"
	OpPlanNoop     = "fwpush-plan-noop"
	OpApplyUnsafe  = "fwpush-apply-noconfirm"
	OpAnsible      = "ansible-push"
	OpAnsibleCheck = "ansible-check"
)

var descriptions = map[string]string{
	OpFloor:        "ssh root@host true, every host",
	OpFloorX25519:  "the same with fwpush's KEX (curve25519-sha256)",
	OpPlan:         "fwpush plan, every host changed (exit 2)",
	OpApply:        "fwpush apply --yes, commit-confirmed",
	OpPlanNoop:     "fwpush plan, nothing to do (exit 0)",
	OpApplyUnsafe:  "fwpush apply --yes --no-confirm (no revert armed, like the play)",
	OpAnsible:      "ansible-playbook: template + nft -f",
	OpAnsibleCheck: "ansible-playbook --check --diff",
}

// Run generates the system, starts the lab with a root link, times every
// operation o.Runs times and stops the lab, also on error or when ctx ends.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if o.Hosts < 1 || o.Forks < 1 || o.Runs < 1 || o.AnsibleRuns < 0 {
		return nil, errors.New("bench: hosts, forks and runs must be at least 1")
	}
	for _, tool := range []string{o.Fwpush, "ssh", "xargs", "ansible-playbook"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}
	work, err := os.MkdirTemp("", "fwp-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer func() {
		if err != nil || o.Keep {
			o.Log("work directory kept: %s", work)
			return
		}
		os.RemoveAll(work)
	}()
	b := &bench{o: o, work: work}
	if err := b.prepare(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	inv, err := inventory.Load(b.invDir, inventory.WithPlatforms(all.Registry()))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	topo, err := labinv.FromInventory(inv)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	specs := topo.Hosts
	o.Log("lab: starting %d hosts (namespaces fwp-bench-*, root link %s)", len(specs), testbed.DefaultRootLink)
	start := time.Now()
	lab, err := testbed.Start(ctx, specs, testbed.WithDir(filepath.Join(work, "lab")),
		testbed.WithPrefix("bench"), testbed.WithRootLink(""))
	if err != nil {
		return nil, fmt.Errorf("bench: %w (leftovers: fwp-lab sweep --prefix bench)", err)
	}
	defer func() {
		o.Log("lab: stopping")
		if cerr := lab.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("bench: %w (leftovers: fwp-lab sweep --prefix bench)", cerr))
		}
	}()
	o.Log("lab: up in %s", time.Since(start).Round(time.Millisecond))
	b.lab = lab
	return b.run(ctx)
}

// bench is one run's state.
type bench struct {
	o                 Options
	work              string
	invDir, playbook  string
	ansibleDir        string
	hosts             []target
	lab               *testbed.Lab
	knownHosts, key   string
	sshd              []int
	samples           map[string][]Sample
	fwpushV, ansibleV string
}

// prepare writes the system with testbed/gen (what fwp-gen runs) and reads
// it back.
func (b *bench) prepare() error {
	sys := filepath.Join(b.work, "system")
	// IptablesEvery 0: every host on nftables, which the Ansible play speaks.
	spec := gen.Spec{Hosts: b.o.Hosts, Roles: b.o.Roles, Flows: b.o.Flows, Seed: 1}
	if err := gen.Write(sys, spec); err != nil {
		return err
	}
	b.invDir, b.playbook = filepath.Join(sys, "inventory"), filepath.Join(sys, "playbook.yml")
	inv, err := inventory.Load(b.invDir, inventory.WithPlatforms(all.Registry()))
	if err != nil {
		return err
	}
	b.hosts, err = targets(inv)
	return err
}

func (b *bench) run(ctx context.Context) (*Result, error) {
	b.knownHosts, b.key = b.lab.KnownHostsPath(), b.lab.ClientKeyPath()
	var err error
	if b.sshd, err = labSSHD(b.lab.Dir()); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	b.samples = map[string][]Sample{}
	b.fwpushV = firstLine(exec.CommandContext(ctx, b.o.Fwpush, "version").Output())
	b.ansibleV = firstLine(exec.CommandContext(ctx, "ansible-playbook", "--version").Output())
	if err := os.MkdirAll(filepath.Join(b.work, "logs"), 0o755); err != nil {
		return nil, err
	}
	if err := b.writeAnsible(ctx); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	// Untimed: brings sshd, ssh and the keys into the page cache, so the
	// first round's floor is not a cold-cache outlier.
	if _, err := b.time(ctx, 0, OpFloor); err != nil {
		return nil, fmt.Errorf("bench: warm-up: %w", err)
	}
	for r := 1; r <= b.o.Runs; r++ {
		if err := b.round(ctx, r); err != nil {
			return b.result(), fmt.Errorf("bench: round %d: %w", r, err)
		}
	}
	for r := 1; r <= b.o.AnsibleRuns; r++ {
		if err := b.ansibleRound(ctx, r); err != nil {
			return b.result(), fmt.Errorf("bench: ansible round %d: %w", r, err)
		}
	}
	return b.result(), nil
}

// round times the floors and fwpush once. Hosts are reset first so fwpush
// always finds every host changed.
func (b *bench) round(ctx context.Context, r int) error {
	for _, op := range []string{OpFloor, OpFloorX25519} {
		if err := b.measure(ctx, r, op); err != nil {
			return err
		}
	}
	if err := b.reset(ctx); err != nil {
		return err
	}
	for _, op := range []string{OpPlan, OpApply, OpPlanNoop} {
		if err := b.measure(ctx, r, op); err != nil {
			return err
		}
	}
	// The Ansible play arms no revert and checks nothing over a new
	// connection: this is fwpush doing the same job the same way.
	if err := b.reset(ctx); err != nil {
		return err
	}
	return b.measure(ctx, r, OpApplyUnsafe)
}

// ansibleRound times the play from the same start as fwpush apply (hosts
// reset, no table), then proves it reached fwpush's end state: an untimed
// fwpush plan must find nothing to change.
func (b *bench) ansibleRound(ctx context.Context, r int) error {
	if err := b.reset(ctx); err != nil {
		return err
	}
	ops := []string{OpAnsible}
	if b.o.AnsibleCheck {
		ops = append(ops, OpAnsibleCheck)
	}
	for _, op := range ops {
		if err := b.measure(ctx, r, op); err != nil {
			return err
		}
	}
	if _, err := b.run1(ctx, r, "verify-after-ansible", b.fwpush("plan"), 0); err != nil {
		return fmt.Errorf("ansible's end state differs from fwpush's: %w", err)
	}
	return nil
}

func (b *bench) measure(ctx context.Context, r int, op string) error {
	s, err := b.time(ctx, r, op)
	if err != nil {
		return err
	}
	b.samples[op] = append(b.samples[op], s)
	b.o.Log("round %d: %-17s %7.2fs wall, CPU %6.2fs client %6.2fs lab %6.2fs other", r, op, s.Wall, s.ClientCPU, s.ServerCPU, s.OtherCPU())
	return nil
}

func (b *bench) time(ctx context.Context, r int, op string) (Sample, error) {
	forks := strconv.Itoa(b.o.Forks)
	switch op {
	case OpFloor, OpFloorX25519:
		argv := append([]string{"xargs", "-P", forks, "-I{}", "ssh"}, sshArgs(b.knownHosts, b.key)...)
		if op == OpFloorX25519 {
			// OpenSSH 9.2 picks sntrup761x25519, several times dearer for
			// the client than the curve25519 Go's client gets from it.
			argv = append(argv, "-o", "KexAlgorithms=curve25519-sha256")
		}
		argv = append(argv, "root@{}", "true")
		var in strings.Builder
		for _, h := range b.hosts {
			in.WriteString(h.Addr + "\n")
		}
		return b.run1WithInput(ctx, r, op, argv, in.String(), 0)
	case OpPlan:
		return b.run1(ctx, r, op, b.fwpush("plan"), 2)
	case OpApply:
		return b.run1(ctx, r, op, b.fwpush("apply", "--yes", "--confirm-timeout", b.o.ConfirmTimeout.String()), 0)
	case OpPlanNoop:
		return b.run1(ctx, r, op, b.fwpush("plan"), 0)
	case OpApplyUnsafe:
		return b.run1(ctx, r, op, b.fwpush("apply", "--yes", "--no-confirm"), 0)
	case OpAnsible:
		return b.run1(ctx, r, op, b.ansible(), 0)
	case OpAnsibleCheck:
		return b.run1(ctx, r, op, append(b.ansible(), "--check", "--diff"), 0)
	}
	return Sample{}, fmt.Errorf("unknown operation %q", op)
}

func (b *bench) fwpush(verb string, extra ...string) []string {
	return append([]string{b.o.Fwpush, verb, "-i", b.invDir, "-p", b.playbook,
		"--forks", strconv.Itoa(b.o.Forks), "--known-hosts", b.knownHosts, "--identity", b.key,
		"--ssh-config", "none", "--agent=false", "--connect-timeout", b.o.ConnectTimeout.String()}, extra...)
}

func (b *bench) ansible() []string {
	return []string{"ansible-playbook", "-i", "hosts.ini", "-f", strconv.Itoa(b.o.Forks), "push.yml"}
}

func (b *bench) run1(ctx context.Context, r int, op string, argv []string, want int) (Sample, error) {
	return b.run1WithInput(ctx, r, op, argv, "", want)
}

func (b *bench) run1WithInput(ctx context.Context, r int, op string, argv []string, stdin string, want int) (Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, b.o.OpTimeout)
	defer cancel()
	c := command{argv: argv, stdin: stdin, wantExit: want,
		log: filepath.Join(b.work, "logs", fmt.Sprintf("%d-%s.log", r, op))}
	if argv[0] == "ansible-playbook" {
		// A fresh ControlPath directory per command: no run reuses the
		// previous run's ssh masters (ControlPersist=60s).
		cp := filepath.Join(b.work, "cp", fmt.Sprintf("%d-%s", r, op))
		if err := os.MkdirAll(cp, 0o700); err != nil {
			return Sample{}, err
		}
		c.dir, c.controlDir = b.ansibleDir, cp
		c.env = []string{"ANSIBLE_CONFIG=" + filepath.Join(b.ansibleDir, "ansible.cfg"),
			"ANSIBLE_HOST_KEY_CHECKING=True", "ANSIBLE_PIPELINING=True",
			"ANSIBLE_TIMEOUT=" + strconv.Itoa(int(b.o.ConnectTimeout.Seconds())),
			"ANSIBLE_SSH_CONTROL_PATH_DIR=" + cp, "ANSIBLE_LOCAL_TEMP=" + filepath.Join(b.work, "ansible-tmp")}
	}
	s, err := timeCommand(ctx, c, b.sshd)
	if err != nil {
		return s, fmt.Errorf("%s: %w", op, err)
	}
	return s, nil
}

// writeAnsible renders every host's table with `fwpush plan --offline`
// and writes the Ansible project around it.
func (b *bench) writeAnsible(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, b.o.Fwpush, "plan", "--offline", "--format", "json",
		"-i", b.invDir, "-p", b.playbook).Output()
	if err != nil {
		return fmt.Errorf("fwpush plan --offline: %w", err)
	}
	tables, err := renderedTables(out)
	if err != nil {
		return err
	}
	b.ansibleDir = filepath.Join(b.work, "ansible")
	return writeAnsible(b.ansibleDir, b.hosts, tables, b.knownHosts, b.key)
}

// resetScript returns a host to "never pushed": no revert timer, no fwpush
// table, no state, no Ansible copy. It runs in the host (lab.Exec), so it
// is not timed and needs no SSH.
const resetScript = `[ -s /var/lib/fwpush/armed.pid ] && kill -- -"$(cat /var/lib/fwpush/armed.pid)" 2>/dev/null
nft delete table inet fwpush 2>/dev/null
rm -rf /var/lib/fwpush/* /etc/fwpush/* /root/fwpush.nft
true`

func (b *bench) reset(ctx context.Context) error {
	sem := make(chan struct{}, 16)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, h := range b.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := b.lab.Exec(ctx, h.Name, "sh", "-c", resetScript); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: reset: %w", h.Name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (b *bench) result() *Result {
	res := &Result{Hosts: len(b.hosts), Forks: b.o.Forks, Runs: b.o.Runs, AnsibleRuns: b.o.AnsibleRuns, CPUs: runtime.NumCPU(),
		Fwpush: b.fwpushV, Ansible: b.ansibleV}
	for _, op := range []string{OpFloor, OpFloorX25519, OpPlan, OpApply, OpPlanNoop, OpApplyUnsafe, OpAnsible, OpAnsibleCheck} {
		if len(b.samples[op]) > 0 {
			res.Ops = append(res.Ops, Op{Name: op, Description: descriptions[op], Runs: b.samples[op], Median: median(b.samples[op])})
		}
	}
	res.fillRatios()
	return res
}

func firstLine(b []byte, err error) string {
	if err != nil {
		return "unknown: " + err.Error()
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}
