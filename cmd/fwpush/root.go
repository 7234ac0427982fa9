package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwpush/fwpush/internal/logging"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/store"
	"github.com/fwpush/fwpush/internal/termsafe"
)

// Exit codes a CI job can act on.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan: changes pending
	exitDenied  = 3 // explain: the flow is denied
)

// exitErr carries a non-error exit code (changes pending, denied) or an
// error with its code out of a cobra RunE.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// globals are the flags every command shares.
type globals struct {
	inventory, playbook, limit, format string
	// features and noFeatures switch playbook features on and off
	// (--feature, --no-feature).
	features, noFeatures []string
	stdin                io.Reader
	out, errOut          io.Writer
	// state is the run store file (--state); args the command line, as
	// recorded with each run.
	state string
	args  []string
	// warningsInJSON: the command's JSON document carries the project's
	// warnings (plan, apply), so they are not repeated on stderr.
	warningsInJSON bool
	// st is the run store the command opened, if any: the records its
	// reads skipped are reported when it ends.
	st  store.Backend
	log logFlags
	// stopIsExit: a signal is the command's ordinary stop (serve), so a
	// clean return after it exits 0.
	stopIsExit bool
}

// project loads, validates and compiles (printing the inputs' warnings);
// a signal returns at once.
func (g *globals) project(ctx context.Context) (*project.Project, error) {
	return interruptible(ctx, g.loadProject)
}

// fromPlan loads what a saved plan was made from, unless the command
// line names other files (the plan file then refuses them by digest).
func (g *globals) fromPlan(in project.Inputs) {
	if g.inventory == "" {
		g.inventory = in.Inventory
	}
	if g.playbook == "" {
		g.playbook = in.PlaybookFile
	}
	if g.limit == "" {
		g.limit = in.Limit
	}
	if len(g.features) == 0 && len(g.noFeatures) == 0 {
		for name, on := range in.Features {
			if on {
				g.features = append(g.features, name)
			} else {
				g.noFeatures = append(g.noFeatures, name)
			}
		}
	}
}

// options are the project options the input flags give.
func (g *globals) options() (project.Options, error) {
	o := project.Options{Inventory: g.inventory, Playbook: g.playbook, Limit: g.limit}
	for _, sw := range []struct {
		names []string
		on    bool
	}{{g.features, true}, {g.noFeatures, false}} {
		for _, name := range sw.names {
			if o.Features == nil {
				o.Features = map[string]bool{}
			}
			if on, ok := o.Features[name]; ok && on != sw.on {
				return o, fmt.Errorf("feature %q is both switched on (--feature) and off (--no-feature)", name)
			}
			o.Features[name] = sw.on
		}
	}
	return o, nil
}

// inputs are the input flags a command reads (see addInputs).
type inputs uint8

const (
	useInventory inputs = 1 << iota
	usePlaybook
	useLimit
	useState
)

// addInputs registers the input flags cmd uses and --format with the
// formats it prints, so every command lists only flags it reads.
func (g *globals) addInputs(cmd *cobra.Command, use inputs, formats ...string) {
	f := cmd.Flags()
	if use&useInventory != 0 {
		f.StringVarP(&g.inventory, "inventory", "i", "", "inventory: a Nornir directory, config.yaml or hosts file; an Ansible INI or YAML file; containerlab's topology-data.json (networks.yaml beside it)")
	}
	if use&usePlaybook != 0 {
		f.StringVarP(&g.playbook, "playbook", "p", "", "playbook file (playbooks/<system>.yml)")
		f.StringSliceVar(&g.features, "feature", nil, "switch a feature the playbook declares (options.features) on; repeat or separate with ','")
		f.StringSliceVar(&g.noFeatures, "no-feature", nil, "switch a feature the playbook declares off; repeat or separate with ','")
	}
	if use&useLimit != 0 {
		f.StringVarP(&g.limit, "limit", "l", "", "select hosts: an Ansible pattern (web,!web-2  web:&prod  web-*  ~re) and/or platform:ID, data.KEY=VALUE with and, or, not")
	}
	if use&useState != 0 {
		f.StringVar(&g.state, "state", "", "run store: a file, or a postgres:// URL several controllers share (default $FWPUSH_STATE, else $XDG_STATE_HOME/fwpush/runs.db, else ~/.local/state/fwpush/runs.db)")
	}
	if len(formats) > 0 {
		f.StringVar(&g.format, "format", "text", "output format: "+strings.Join(formats, "|"))
	}
}

func (g *globals) checkFormat(allowed ...string) error {
	for _, a := range allowed {
		if g.format == a {
			return nil
		}
	}
	return fmt.Errorf("--format %q: want one of %s", g.format, strings.Join(allowed, ", "))
}

func (g *globals) json(v any) error {
	enc := json.NewEncoder(g.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// subcommands are fwpush's commands, bound to g.
func subcommands(g *globals) []*cobra.Command {
	return []*cobra.Command{validateCmd(g), lintCmd(g), planCmd(g), applyCmd(g), verifyCmd(g), renderCmd(g), explainCmd(g), inventoryCmd(g),
		historyCmd(g), rollbackCmd(g), checkCmd(g), reportCmd(g), serveCmd(g), importCmd(g), exportCmd(g), versionCmd()}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdin: stdin, out: stdout, errOut: stderr, args: args}
	root := &cobra.Command{
		Use:           "fwpush",
		Short:         "Turn a communication matrix into firewall policy on real devices",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.log.logger(g)
			if err != nil {
				return err
			}
			cmd.SetContext(logging.With(cmd.Context(), l))
			return nil
		},
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetIn(stdin)
	g.log.register(root.PersistentFlags())
	root.AddCommand(subcommands(g)...)

	err := root.ExecuteContext(ctx)
	if g.st != nil {
		for _, b := range g.st.Skipped() {
			fmt.Fprintln(stderr, "warning:", termsafe.Line(b.String()))
		}
		g.st.Close()
	}
	code := exitOK
	var ee *exitErr
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code, err = ee.code, ee.err
	default:
		code = exitError
	}
	var iv *interrupted
	if err != nil && !errors.As(err, &iv) {
		fmt.Fprintln(stderr, "fwpush:", termsafe.Text(err.Error()))
	}
	if iv = interruption(ctx); iv != nil && g.stopIsExit && err == nil {
		fmt.Fprintf(stderr, "fwpush: stopped by %s\n", sigName(iv.sig))
		return exitOK
	}
	if iv = interruption(ctx); iv != nil {
		// Whatever the command managed before it stopped, it did not do
		// all it was asked: a script must not read this as success.
		fmt.Fprintln(stderr, "fwpush:", iv)
		return iv.code()
	}
	return code
}

// interactive says whether to ask before changing devices: on a terminal,
// unless --yes. Without a terminal fwpush never waits for input.
func (g *globals) interactive(yes bool) bool {
	f, ok := g.stdin.(*os.File)
	return ok && isTerminal(f) && !yes
}

// humanOut is where text for a person goes: stdout, or stderr when stdout
// carries a machine format (json, junit), so `> out.json` holds only it.
func (g *globals) humanOut() io.Writer {
	if g.format != "text" {
		return g.errOut
	}
	return g.out
}

// ask puts a yes/no question to the operator and returns an error (exit
// 1, saying refusal) unless the answer is yes. A signal at the prompt
// returns at once.
func (g *globals) ask(ctx context.Context, question, refusal string) error {
	fmt.Fprintf(g.humanOut(), "%s [y/N] ", question)
	answer, err := interruptible(ctx, func() (string, error) { return bufio.NewReader(g.stdin).ReadString('\n') })
	if iv := interruption(ctx); iv != nil && err != nil {
		return iv
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return &exitErr{code: exitError, err: errors.New(refusal)}
	}
	return nil
}
