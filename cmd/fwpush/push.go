package main

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/fwpush/fwpush/drivers"
	"github.com/fwpush/fwpush/internal/engine"
	"github.com/fwpush/fwpush/internal/policy"
)

// pushFlags are the connection flags of every command that reaches
// devices, and the fleet flags (serial, canary, max-fail) of those that
// change them.
type pushFlags struct {
	forks          int
	serial         []string
	canary         int
	maxFail        float64
	knownHosts     []string
	tofu           bool
	identities     []string
	agent          bool
	sshConfig      string
	connectTimeout time.Duration
	commandTimeout time.Duration
	retries        int
	fs             *pflag.FlagSet
}

func (f *pushFlags) register(fs *pflag.FlagSet, fleet bool) {
	f.fs = fs
	fs.IntVarP(&f.forks, "forks", "f", engine.DefaultForks, "devices worked on at once (1 or more)")
	if fleet {
		fs.StringSliceVar(&f.serial, "serial", nil, "batch sizes, Ansible style: 1,10,25% (a number of devices, or 1% to 100%; the last repeats)")
		fs.IntVar(&f.canary, "canary", 0, "push to this many devices first, alone (0: no canary)")
		// Unset means "never stop" (or the playbook's value): the default
		// shown is no value, and only a given flag is read.
		fs.Float64Var(&f.maxFail, "max-fail-percentage", 0, "stop after a batch where more than this % failed, 0 to 100 (unset: the playbook's push.max_fail_percentage, else never stop; 100 never stops either)")
	}
	fs.StringSliceVar(&f.knownHosts, "known-hosts", nil, "known_hosts files (default ~/.ssh/known_hosts)")
	fs.BoolVar(&f.tofu, "trust-on-first-use", false, "accept and record UNKNOWN host keys (changed keys are always refused)")
	fs.StringSliceVar(&f.identities, "identity", nil, "SSH private key files (default: ssh-agent, ~/.ssh/id_*)")
	fs.BoolVar(&f.agent, "agent", true, "use ssh-agent (SSH_AUTH_SOCK) when available")
	fs.StringVar(&f.sshConfig, "ssh-config", "", "ssh config file (default ~/.ssh/config)")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 10*time.Second, "per-device connect timeout (above 0)")
	fs.DurationVar(&f.commandTimeout, "command-timeout", 60*time.Second, "per-command timeout (above 0)")
	fs.IntVar(&f.retries, "connect-retries", 3, "connect retries on transient refusals (sshd MaxStartups; 0 or more)")
}

// check refuses out-of-range fleet and connection flags before anything
// is loaded or contacted, naming the flag and what it accepts, with the
// same checks (and words) as the playbook's push section.
func (f *pushFlags) check() error {
	errs := []error{
		policy.CheckForks("--forks", f.forks),
		policy.CheckCanary("--canary", f.canary),
		policy.CheckPositiveDuration("--connect-timeout", f.connectTimeout),
		policy.CheckPositiveDuration("--command-timeout", f.commandTimeout),
		policy.CheckAtLeast("--connect-retries", f.retries, 0),
	}
	if f.given("max-fail-percentage") {
		errs = append(errs, policy.CheckMaxFailPercentage("--max-fail-percentage", f.maxFail))
	}
	for _, s := range f.serial {
		_, err := policy.ParseSerialSize("--serial", s)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// maxFailSet says whether a failure threshold applies: the flag, or the
// playbook's push section.
func (f *pushFlags) maxFailSet(pp policy.Push) bool {
	return f.given("max-fail-percentage") || pp.MaxFailPercentage != nil
}

// engine is the fleet options: a flag given on the command line wins,
// then the playbook's push section, then fwpush's default.
func (f *pushFlags) engine(pp policy.Push) engine.Options {
	o := engine.Options{Forks: f.forks, Serial: f.serial, Canary: f.canary, MaxFailPercentage: engine.NeverStop}
	if f.given("max-fail-percentage") {
		o.MaxFailPercentage = f.maxFail
	}
	if !f.given("forks") && pp.Forks > 0 {
		o.Forks = pp.Forks
	}
	if !f.given("serial") && len(pp.Serial) > 0 {
		o.Serial = pp.Serial
	}
	if !f.given("canary") && pp.Canary > 0 {
		o.Canary = pp.Canary
	}
	if !f.given("max-fail-percentage") && pp.MaxFailPercentage != nil {
		o.MaxFailPercentage = *pp.MaxFailPercentage
	}
	return o
}

// given says whether flag name was set on the command line.
func (f *pushFlags) given(name string) bool { return f.fs != nil && f.fs.Changed(name) }

func (f *pushFlags) transport() drivers.TransportOptions {
	t := drivers.TransportOptions{KnownHostsFiles: f.knownHosts, TrustOnFirstUse: f.tofu, IdentityFiles: f.identities,
		UseAgent: f.agent, SSHConfigFile: f.sshConfig, ConnectTimeout: f.connectTimeout, CommandTimeout: f.commandTimeout,
		Keepalive: 5 * time.Second, ConnectRetries: f.retries}
	if len(t.IdentityFiles) == 0 {
		if home, err := os.UserHomeDir(); err == nil {
			for _, k := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
				if p := filepath.Join(home, ".ssh", k); fileExists(p) {
					t.IdentityFiles = append(t.IdentityFiles, p)
				}
			}
		}
	}
	return t
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
