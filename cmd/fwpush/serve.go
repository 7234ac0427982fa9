package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fwpush/fwpush/internal/plan"
	"github.com/fwpush/fwpush/internal/project"
	"github.com/fwpush/fwpush/internal/serve"
	"github.com/fwpush/fwpush/internal/store"
)

func serveCmd(g *globals) *cobra.Command {
	var pf pushFlags
	var config string
	var debug bool
	cmd := &cobra.Command{
		Use:   "serve --config serve.yaml",
		Short: "Scheduled compliance: check (or re-push drifted devices) on a cron schedule; /metrics, /healthz, web UI",
		Long: `serve runs the jobs of a config file (see contrib/serve.yaml): each is an
inventory, a playbook, an optional --limit selector, a cron schedule, a mode
and a timeout. mode check reads the devices and reports drift; mode repush
also pushes the devices whose own part drifted (and only those) back to the
policy, commit-confirmed, in the playbook's waves, recorded in the run store
(--state, the config's state:, $FWPUSH_STATE, else the default file; a
postgres:// store shared by several serve instances keeps them from
pushing one device twice). Two runs of one job never overlap.

HTTP (the config's listen:, default 127.0.0.1:9464): /metrics (Prometheus),
/healthz, and a read-only web UI of the jobs, their latest reports and the
run history. It has no authentication: keep it on a trusted address.

SIGTERM or SIGINT stops scheduling and lets a re-push in flight finish the
device it is changing (confirmed or rolled back); serve then exits 0. A
second signal exits at once (an armed device then reverts by itself).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" {
				return fmt.Errorf("serve needs --config FILE (see contrib/serve.yaml)")
			}
			if err := pf.check(); err != nil {
				return err
			}
			cfg, err := serve.LoadConfig(config)
			if err != nil {
				return err
			}
			if g.state == "" {
				g.state = cfg.State
			}
			// The UI lists the history whatever the jobs; only a store a
			// job pushes through is opened for writing.
			var st store.Backend
			if cfg.Repushes() {
				st, err = g.runStore()
			} else {
				st, err = g.readStore()
			}
			if err != nil {
				return err
			}
			level := slog.LevelInfo
			if debug {
				level = slog.LevelDebug
			}
			o := serve.Options{Store: st, Transport: pf.transport(),
				Logger: slog.New(slog.NewTextHandler(g.errOut, &slog.HandlerOptions{Level: level}))}
			if testOpener != nil {
				o.Open = func(p *project.Project) plan.Opener { return testOpener(p.Inv) }
			}
			srv, err := serve.New(cfg, o)
			if err != nil {
				return err
			}
			// A daemon: the first signal is its ordinary stop. Re-pushes in
			// flight finish (changeDevices keeps their context alive), and
			// a clean stop exits 0.
			g.stopIsExit = true
			return changeDevices(cmd.Context(), func(work context.Context, stop <-chan struct{}) error {
				ctx, cancel := context.WithCancel(work)
				defer cancel()
				go func() {
					select {
					case <-stop:
						cancel()
					case <-ctx.Done():
					}
				}()
				return srv.Run(ctx)
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&config, "config", "c", "", "the serve config file (jobs, listen address, webhook)")
	f.BoolVar(&debug, "debug", false, "log at debug level")
	// Only the connection flags: a job's waves come from its playbook.
	all := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	pf.register(all, false)
	for _, name := range []string{"known-hosts", "trust-on-first-use", "identity", "agent", "ssh-config", "connect-timeout", "command-timeout", "connect-retries"} {
		f.AddFlag(all.Lookup(name))
	}
	g.addInputs(cmd, useState)
	return cmd
}
